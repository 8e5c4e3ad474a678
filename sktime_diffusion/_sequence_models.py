"""The small GRU models of TimeGAN's post-hoc scores (Yoon et al., 2019).

The discriminative score trains a GRU classifier to tell real from synthetic windows;
the predictive score trains a GRU to predict the last feature one step ahead from the
others. Both follow TimeGAN's set-up (hidden size half the number of features, Adam,
batches of 128), seeded so that a score is reproducible.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from .engine.streams import seeded_global_generator


class _GRUHead(nn.Module):
    """A one-layer GRU and a linear read-out per step (or of the last step)."""

    def __init__(self, n_inputs: int, hidden: int, last_step_only: bool) -> None:
        super().__init__()
        self.gru = nn.GRU(n_inputs, hidden, batch_first=True)
        self.out = nn.Linear(hidden, 1)
        self.last_step_only = last_step_only

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        states, last = self.gru(x)
        if self.last_step_only:
            return self.out(last[-1]).squeeze(-1)
        return self.out(states).squeeze(-1)


def _batches(n: int, batch_size: int, iterations: int, generator: torch.Generator):
    for _ in range(iterations):
        yield torch.randint(0, n, (min(batch_size, n),), generator=generator)


def train_classifier_accuracy(
    real: np.ndarray,
    synthetic: np.ndarray,
    iterations: int,
    seed: int,
    batch_size: int = 128,
    test_share: float = 0.2,
) -> float:
    """Test accuracy of a GRU that tells real (1) from synthetic (0) windows.

    Parameters
    ----------
    real, synthetic : np.ndarray of shape (n, length, n_features)
    iterations : int
        Optimiser steps.
    seed : int
        Seeds the split, the weights and the batches.

    Returns
    -------
    float
        Accuracy on the held-out ``test_share`` of both sets.
    """
    generator = torch.Generator().manual_seed(seed)
    x = torch.from_numpy(np.concatenate([real, synthetic])).float()
    y = torch.cat([torch.ones(len(real)), torch.zeros(len(synthetic))])
    order = torch.randperm(len(x), generator=generator)
    n_test = max(1, int(round(test_share * len(x))))
    test, train = order[:n_test], order[n_test:]
    with seeded_global_generator(seed):
        model = _GRUHead(x.shape[-1], max(1, x.shape[-1] // 2), last_step_only=True)
    optimiser = torch.optim.Adam(model.parameters())
    loss_fn = nn.BCEWithLogitsLoss()
    for rows in _batches(len(train), batch_size, iterations, generator):
        batch = train[rows]
        optimiser.zero_grad()
        loss_fn(model(x[batch]), y[batch]).backward()
        optimiser.step()
    with torch.no_grad():
        predicted = model(x[test]) > 0
    return float((predicted == y[test].bool()).float().mean())


def train_next_step_mae(
    train: np.ndarray,
    test: np.ndarray,
    iterations: int,
    seed: int,
    batch_size: int = 128,
) -> float:
    """MAE on ``test`` of a GRU trained on ``train`` to predict the last feature.

    From the other features at steps ``0..T-2`` (all features when there is one), the
    GRU predicts the last feature at steps ``1..T-1``, as in TimeGAN.

    Parameters
    ----------
    train, test : np.ndarray of shape (n, length, n_features)
    iterations : int
    seed : int

    Returns
    -------
    float
    """

    def split(data: np.ndarray) -> tuple[torch.Tensor, torch.Tensor]:
        tensor = torch.from_numpy(np.ascontiguousarray(data)).float()
        inputs = tensor[:, :-1, :-1] if tensor.shape[-1] > 1 else tensor[:, :-1]
        return inputs, tensor[:, 1:, -1]

    generator = torch.Generator().manual_seed(seed)
    x_train, y_train = split(train)
    x_test, y_test = split(test)
    with seeded_global_generator(seed):
        model = _GRUHead(
            x_train.shape[-1], max(1, train.shape[-1] // 2), last_step_only=False
        )
    optimiser = torch.optim.Adam(model.parameters())
    for rows in _batches(len(x_train), batch_size, iterations, generator):
        optimiser.zero_grad()
        (model(x_train[rows]) - y_train[rows]).abs().mean().backward()
        optimiser.step()
    with torch.no_grad():
        return float((model(x_test) - y_test).abs().mean())
