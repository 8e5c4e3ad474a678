"""Deterministic baselines from the given entries, for residual diffusion.

A model with a baseline generates the difference between a window and a simple fill
of its given entries instead of the window itself: on smooth data that difference is
small, so the model's own error no longer sets a floor that linear interpolation
would beat.
"""

from __future__ import annotations

import torch
from torch import Tensor

__all__ = ["BASELINES", "baseline_fill", "interpolate_given"]

#: names of the baselines; "none" generates the values themselves
BASELINES = ("none", "interpolation")


def interpolate_given(values: Tensor, given: Tensor) -> Tensor:
    """Linear interpolation of the given entries along the last axis.

    Parameters
    ----------
    values : torch.Tensor of shape (..., length)
    given : torch.Tensor of shape (..., length), bool

    Returns
    -------
    torch.Tensor of shape (..., length)
        Equal to ``values`` on given entries; linear between two given entries,
        constant before the first and after the last; zero on rows with none.
    """
    length = values.shape[-1]
    positions = torch.arange(length, device=values.device).expand_as(values)
    before = torch.where(given, positions, torch.full_like(positions, -1))
    before = torch.cummax(before, dim=-1).values
    after = torch.where(given, positions, torch.full_like(positions, length))
    after = torch.flip(torch.cummin(torch.flip(after, [-1]), dim=-1).values, [-1])
    has_before, has_after = before >= 0, after < length
    before = torch.where(has_before, before, after).clamp(0, length - 1)
    after = torch.where(has_after, after, before).clamp(0, length - 1)
    left, right = values.gather(-1, before), values.gather(-1, after)
    span = (after - before).to(values.dtype)
    weight = torch.where(
        span > 0, (positions - before).to(values.dtype) / span.clamp_min(1), 0.0
    )
    filled = left + weight * (right - left)
    any_given = given.any(dim=-1, keepdim=True)
    return torch.where(any_given, filled, torch.zeros_like(values))


def baseline_fill(kind: str, values: Tensor, given: Tensor) -> Tensor:
    """The baseline ``kind`` (one of :data:`BASELINES`) of ``values`` given ``given``."""
    if kind == "none":
        return torch.zeros_like(values)
    if kind == "interpolation":
        return interpolate_given(values, given)
    raise ValueError(f"baseline must be one of {BASELINES}, got {kind!r}")
