"""Trains a tiny model and a tiny forecaster, in one process or under torchrun.

Run as ``python _data_parallel_worker.py OUT`` (no process group) or ``torchrun
--nproc_per_node=2 _data_parallel_worker.py OUT`` (gloo); writes each rank's weights
and training history to ``OUT/rank<r>.pt``.
"""

import os
import sys
import warnings

import numpy as np
import pandas as pd
import torch
import torch.distributed as dist

from sktime_diffusion import DiffusionForecaster
from sktime_diffusion.engine import (
    DiffusionModel,
    MaskStrategy,
    TrainingConfig,
    WindowData,
    make_schedule,
    train_model,
)
from sktime_diffusion.networks import DilatedConvNetwork

warnings.filterwarnings("ignore")


def main(out: str) -> None:
    distributed = "RANK" in os.environ
    if distributed:
        dist.init_process_group("gloo")
    rank = dist.get_rank() if distributed else 0
    torch.manual_seed(0)
    model = DiffusionModel(
        DilatedConvNetwork(channels=8, n_layers=2).network_config(2, 0),
        make_schedule("cosine", n_steps=50),
    )
    seen = {"windows": 0}

    def count_training_windows(module, inputs, output):
        if torch.is_grad_enabled():  # not the validation passes
            seen["windows"] += output.shape[0]

    model.network.register_forward_hook(count_training_windows)
    values = torch.randn(37, 2, 16, generator=torch.Generator().manual_seed(1))
    data = WindowData(values, torch.ones_like(values, dtype=torch.bool))
    # batches of 9 windows (shares of 5 and 4), a last short batch, a validation split
    config = TrainingConfig(
        epochs=3, batch_size=9, learning_rate=1e-2, validation_fraction=0.2, seed=5
    )
    history = train_model(model, data, MaskStrategy(random=0.5, suffix=0.5), config)
    y = pd.Series(np.sin(np.arange(120) / 4.0) + np.arange(120) / 50.0)
    forecasters = {}
    for name, random_state in [("seeded", 11), ("unseeded", None)]:
        forecaster = DiffusionForecaster(
            network=DilatedConvNetwork(channels=8, n_layers=2, time_embedding_dim=16),
            training_steps=6,
            n_samples=4,
            n_sampling_steps=3,
            random_state=random_state,
        )
        forecasters[name] = forecaster.fit(y, fh=[1, 2, 3]).model_.state_dict()
    torch.save(
        {
            "model": model.state_dict(),
            "train_loss": history.train_loss,
            "validation_loss": history.validation_loss,
            "n_steps": history.n_steps,
            "windows_seen": seen["windows"],
            "forecasters": forecasters,
        },
        os.path.join(out, f"rank{rank}.pt"),
    )
    if distributed:
        dist.destroy_process_group()


if __name__ == "__main__":
    main(sys.argv[1])
