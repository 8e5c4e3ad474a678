"""A CSDI-style denoiser: residual layers with temporal and feature attention.

After Tashiro et al. (2021), "CSDI: Conditional Score-based Diffusion Models for
Probabilistic Time Series Imputation". Each entry of the window becomes a vector of
``channels``; every residual layer adds the diffusion-time embedding, attends along time
(per feature) and along features (per time point), mixes in side information (position
embedding, feature embedding, given mask, side channels) and applies a gated activation.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor, nn

from .embeddings import DiffusionTimeEmbedding, sinusoidal_embedding
from .stack import skip_sum


def _attention_layer(
    channels: int, n_heads: int, feedforward_dim: int
) -> nn.TransformerEncoderLayer:
    return nn.TransformerEncoderLayer(
        d_model=channels,
        nhead=n_heads,
        dim_feedforward=feedforward_dim,
        dropout=0.0,
        activation="gelu",
        batch_first=True,
    )


class _ResidualLayer(nn.Module):
    def __init__(
        self,
        channels: int,
        side_dim: int,
        embedding_dim: int,
        n_heads: int,
        feedforward_dim: int,
    ) -> None:
        super().__init__()
        self.time_projection = nn.Linear(embedding_dim, channels)
        self.side_projection = nn.Conv1d(side_dim, 2 * channels, 1)
        self.mid_projection = nn.Conv1d(channels, 2 * channels, 1)
        self.output_projection = nn.Conv1d(channels, 2 * channels, 1)
        self.temporal = _attention_layer(channels, n_heads, feedforward_dim)
        self.feature = _attention_layer(channels, n_heads, feedforward_dim)

    def forward(self, h: Tensor, side: Tensor, embedding: Tensor) -> tuple[Tensor, Tensor]:
        # h: (batch, channels, n_features, length); side: (batch, side_dim, F * L)
        batch, channels, n_features, length = h.shape
        y = h + self.time_projection(embedding)[:, :, None, None]
        if length > 1:
            y = y.permute(0, 2, 3, 1).reshape(batch * n_features, length, channels)
            y = self.temporal(y).reshape(batch, n_features, length, channels)
            y = y.permute(0, 3, 1, 2)
        if n_features > 1:
            y = y.permute(0, 3, 2, 1).reshape(batch * length, n_features, channels)
            y = self.feature(y).reshape(batch, length, n_features, channels)
            y = y.permute(0, 3, 2, 1)
        y = self.mid_projection(y.reshape(batch, channels, n_features * length))
        y = y + self.side_projection(side)
        gate, signal = y.chunk(2, dim=1)
        y = torch.sigmoid(gate) * torch.tanh(signal)
        residual, skip = self.output_projection(y).chunk(2, dim=1)
        shape = (batch, channels, n_features, length)
        return (h + residual.reshape(shape)) / math.sqrt(2.0), skip.reshape(shape)


class CSDIDenoiser(nn.Module):
    """Residual stack with temporal and feature transformers (CSDI).

    The hyper-parameters have no defaults here: they live once, in the specification
    :class:`sktime_diffusion.networks.CSDINetwork`, whose ``network_config`` gives
    them all.

    Parameters
    ----------
    n_features : int
        Features of a window.
    n_side : int
        Side channels (exogenous covariates, time features).
    channels : int
        Width of every entry's hidden vector.
    n_layers : int
        Residual layers.
    n_heads : int
        Attention heads; must divide ``channels``.
    time_embedding_dim : int
        Size of the diffusion-time embedding.
    position_embedding_dim : int
        Size of the sinusoidal position-in-window embedding.
    feature_embedding_dim : int
        Size of the learned per-feature embedding.
    feedforward_dim : int or None
        Hidden size of the transformers' feed-forward block; ``None`` means
        ``channels``.
    """

    def __init__(
        self,
        n_features: int,
        n_side: int = 0,
        *,
        channels: int,
        n_layers: int,
        n_heads: int,
        time_embedding_dim: int,
        position_embedding_dim: int,
        feature_embedding_dim: int,
        feedforward_dim: int | None,
    ) -> None:
        super().__init__()
        if channels % n_heads:
            raise ValueError(f"n_heads ({n_heads}) must divide channels ({channels})")
        self.n_features = n_features
        self.position_embedding_dim = position_embedding_dim
        side_dim = position_embedding_dim + feature_embedding_dim + 1 + n_side
        self.feature_embedding = nn.Embedding(n_features, feature_embedding_dim)
        self.time_embedding = DiffusionTimeEmbedding(time_embedding_dim)
        self.input_projection = nn.Conv1d(2, channels, 1)
        self.layers = nn.ModuleList(
            _ResidualLayer(
                channels,
                side_dim,
                time_embedding_dim,
                n_heads,
                feedforward_dim or channels,
            )
            for _ in range(n_layers)
        )
        self.skip_projection = nn.Conv1d(channels, channels, 1)
        self.output_projection = nn.Conv1d(channels, 1, 1)
        nn.init.zeros_(self.output_projection.weight)
        nn.init.zeros_(self.output_projection.bias)

    def _side_information(self, given: Tensor, side: Tensor | None) -> Tensor:
        batch, n_features, length = given.shape
        position = sinusoidal_embedding(
            torch.arange(length, device=given.device), self.position_embedding_dim
        )  # (L, P)
        position = position.T[None, :, None, :].expand(batch, -1, n_features, -1)
        feature = self.feature_embedding.weight.T[None, :, :, None]
        feature = feature.expand(batch, -1, -1, length)
        parts = [position, feature, given[:, None].to(position.dtype)]
        if side is not None:
            parts.append(side[:, :, None, :].expand(-1, -1, n_features, -1))
        return torch.cat(parts, dim=1).reshape(batch, -1, n_features * length)

    def forward(
        self,
        x_in: Tensor,
        t: Tensor,
        given_values: Tensor,
        given: Tensor,
        side: Tensor | None = None,
    ) -> Tensor:
        """Predict for every entry; see :mod:`sktime_diffusion.engine.denoisers`."""
        batch, n_features, length = x_in.shape
        dtype = self.input_projection.weight.dtype
        h = torch.stack([x_in, given_values], dim=1).to(dtype)
        h = self.input_projection(h.reshape(batch, 2, n_features * length))
        h = torch.relu(h).reshape(batch, -1, n_features, length)
        side_info = self._side_information(given, side).to(dtype)
        skips = skip_sum(self.layers, h, side_info, self.time_embedding(t))
        out = torch.relu(
            self.skip_projection(skips.reshape(batch, -1, n_features * length))
        )
        return self.output_projection(out).reshape(batch, n_features, length).to(x_in.dtype)
