"""Denoising networks ``(x_in, t, given_values, given, side) -> prediction``.

Every network takes

- ``x_in`` : tensor of shape (batch, n_features, length), the scaled noisy window on the
  entries to generate and zero on given entries;
- ``t`` : tensor of shape (batch,), diffusion times in ``[0, 1]``;
- ``given_values`` : tensor of shape (batch, n_features, length), zero where not given;
- ``given`` : bool tensor of shape (batch, n_features, length);
- ``side`` : tensor of shape (batch, n_side, length) or None;

and returns a tensor of shape (batch, n_features, length).
"""

from __future__ import annotations

from typing import Any

from torch import nn

from .csdi import CSDIDenoiser
from .dilated import DilatedConvDenoiser

__all__ = ["CSDIDenoiser", "DilatedConvDenoiser", "NETWORKS", "build_network"]

#: network classes by the ``kind`` name used in model configurations
NETWORKS: dict[str, type[nn.Module]] = {
    "csdi": CSDIDenoiser,
    "dilated_conv": DilatedConvDenoiser,
}


def build_network(kind: str, **params: Any) -> nn.Module:
    """Build a denoising network by name.

    Parameters
    ----------
    kind : {"csdi", "dilated_conv"}
    **params
        Keyword arguments of the network class, including ``n_features`` and ``n_side``.

    Returns
    -------
    torch.nn.Module
    """
    if kind not in NETWORKS:
        raise ValueError(f"unknown network {kind!r}; choose one of {', '.join(NETWORKS)}")
    return NETWORKS[kind](**params)
