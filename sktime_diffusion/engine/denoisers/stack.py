"""The residual stack both denoisers are built on: layers that pass on ``h`` and a skip."""

from __future__ import annotations

import math

from torch import Tensor, nn


def skip_sum(
    layers: nn.ModuleList, h: Tensor, condition: Tensor, embedding: Tensor
) -> Tensor:
    """Run ``h`` through ``layers`` and return their skips' sum over ``sqrt(n_layers)``.

    Parameters
    ----------
    layers : nn.ModuleList
        Each ``layer(h, condition, embedding) -> (h, skip)``, ``skip`` of ``h``'s shape.
    h : torch.Tensor
        Input of the first layer.
    condition : torch.Tensor
        What every layer is conditioned on (given values and mask, side channels).
    embedding : torch.Tensor of shape (batch, time_embedding_dim)
        The diffusion time's embedding.

    Returns
    -------
    torch.Tensor, the shape of a skip
    """
    skips = 0.0
    for layer in layers:
        h, skip = layer(h, condition, embedding)
        skips = skips + skip
    return skips / math.sqrt(len(layers))
