"""A dilated-convolution residual denoiser (WaveNet / DiffWave style) for long windows.

All features of a window are channels of one 1D convolution over time; residual blocks
with dilations ``1, 2, 4, ...`` (cycling) see far back and ahead at a cost linear in the
window length. The diffusion-time embedding is added in every block, and the condition
(given values, given mask, side channels) enters every block through a 1x1 convolution.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor, nn

from .embeddings import DiffusionTimeEmbedding
from .stack import skip_sum


class _DilatedBlock(nn.Module):
    def __init__(
        self,
        channels: int,
        condition_dim: int,
        embedding_dim: int,
        dilation: int,
        kernel_size: int,
    ) -> None:
        super().__init__()
        self.time_projection = nn.Linear(embedding_dim, channels)
        self.dilated = nn.Conv1d(
            channels,
            2 * channels,
            kernel_size,
            dilation=dilation,
            padding=dilation * (kernel_size - 1) // 2,
        )
        self.condition_projection = nn.Conv1d(condition_dim, 2 * channels, 1)
        self.output_projection = nn.Conv1d(channels, 2 * channels, 1)

    def forward(
        self, h: Tensor, condition: Tensor, embedding: Tensor
    ) -> tuple[Tensor, Tensor]:
        y = h + self.time_projection(embedding)[:, :, None]
        y = self.dilated(y) + self.condition_projection(condition)
        gate, signal = y.chunk(2, dim=1)
        y = torch.sigmoid(gate) * torch.tanh(signal)
        residual, skip = self.output_projection(y).chunk(2, dim=1)
        return (h + residual) / math.sqrt(2.0), skip


class DilatedConvDenoiser(nn.Module):
    """Gated residual blocks of dilated 1D convolutions over time.

    The hyper-parameters have no defaults here: they live once, in the specification
    :class:`sktime_diffusion.networks.DilatedConvNetwork`, whose ``network_config``
    gives them all.

    Parameters
    ----------
    n_features : int
        Features of a window.
    n_side : int
        Side channels (exogenous covariates, time features).
    channels : int
        Hidden channels.
    n_layers : int
        Residual blocks.
    dilation_cycle : int
        Dilations are ``2 ** (i % dilation_cycle)`` for block ``i``.
    kernel_size : int
        Odd convolution width.
    time_embedding_dim : int
        Size of the diffusion-time embedding.
    """

    def __init__(
        self,
        n_features: int,
        n_side: int = 0,
        *,
        channels: int,
        n_layers: int,
        dilation_cycle: int,
        kernel_size: int,
        time_embedding_dim: int,
    ) -> None:
        super().__init__()
        if kernel_size % 2 == 0:
            raise ValueError(f"kernel_size must be odd, got {kernel_size}")
        condition_dim = 2 * n_features + n_side
        self.time_embedding = DiffusionTimeEmbedding(time_embedding_dim)
        self.input_projection = nn.Conv1d(n_features + condition_dim, channels, 1)
        self.blocks = nn.ModuleList(
            _DilatedBlock(
                channels,
                condition_dim,
                time_embedding_dim,
                2 ** (i % max(dilation_cycle, 1)),
                kernel_size,
            )
            for i in range(n_layers)
        )
        self.skip_projection = nn.Conv1d(channels, channels, 1)
        self.output_projection = nn.Conv1d(channels, n_features, 1)
        nn.init.zeros_(self.output_projection.weight)
        nn.init.zeros_(self.output_projection.bias)

    def forward(
        self,
        x_in: Tensor,
        t: Tensor,
        given_values: Tensor,
        given: Tensor,
        side: Tensor | None = None,
    ) -> Tensor:
        """Predict for every entry; see :mod:`sktime_diffusion.engine.denoisers`."""
        dtype = self.input_projection.weight.dtype
        parts = [given_values, given.to(given_values.dtype)]
        if side is not None:
            parts.append(side)
        condition = torch.cat(parts, dim=1).to(dtype)
        h = torch.relu(self.input_projection(torch.cat([x_in.to(dtype), condition], 1)))
        skips = skip_sum(self.blocks, h, condition, self.time_embedding(t))
        out = self.output_projection(torch.relu(self.skip_projection(skips)))
        return out.to(x_in.dtype)
