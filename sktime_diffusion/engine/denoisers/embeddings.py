"""Embeddings shared by the networks: diffusion time and position in the window."""

from __future__ import annotations

import math

import torch
from torch import Tensor, nn


def sinusoidal_embedding(positions: Tensor, dim: int) -> Tensor:
    """Transformer-style sinusoidal features.

    Parameters
    ----------
    positions : torch.Tensor of shape (n,)
    dim : int
        Even embedding size.

    Returns
    -------
    torch.Tensor of shape (n, dim)
    """
    half = dim // 2
    frequencies = torch.exp(
        -math.log(10000.0)
        * torch.arange(half, device=positions.device, dtype=torch.float32)
        / max(half - 1, 1)
    )
    angles = positions.float()[:, None] * frequencies[None, :]
    return torch.cat([angles.sin(), angles.cos()], dim=1)


class DiffusionTimeEmbedding(nn.Module):
    """Sinusoidal features of ``1000 t`` followed by a two-layer MLP (SiLU).

    Parameters
    ----------
    dim : int
        Output size.
    """

    def __init__(self, dim: int) -> None:
        super().__init__()
        self.dim = dim
        self.mlp = nn.Sequential(
            nn.Linear(dim, dim), nn.SiLU(), nn.Linear(dim, dim), nn.SiLU()
        )

    def forward(self, t: Tensor) -> Tensor:
        """Embed times of shape (batch,) into shape (batch, dim)."""
        return self.mlp(sinusoidal_embedding(1000.0 * t, self.dim))
