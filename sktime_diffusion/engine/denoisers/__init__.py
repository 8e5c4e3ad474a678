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

import inspect
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
        Keyword arguments of the network class: ``n_features``, ``n_side`` and every
        hyper-parameter. The networks have no defaults of their own; the
        specifications of :mod:`sktime_diffusion.networks` hold them, and their
        ``network_config(n_features, n_side)`` gives a complete configuration.

    Returns
    -------
    torch.nn.Module
    """
    if kind not in NETWORKS:
        raise ValueError(f"unknown network {kind!r}; choose one of {', '.join(NETWORKS)}")
    network_class = NETWORKS[kind]
    missing = [
        name
        for name, parameter in inspect.signature(network_class).parameters.items()
        if parameter.default is inspect.Parameter.empty and name not in params
    ]
    if missing:
        raise ValueError(
            f"the {kind!r} network needs {', '.join(missing)}; a specification of "
            "sktime_diffusion.networks (with the defaults) gives them all: "
            "network_config(n_features, n_side)"
        )
    return network_class(**params)
