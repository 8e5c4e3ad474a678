"""Deterministic baselines from the given entries, for residual diffusion.

A model with a baseline generates the difference between a window and a simple fill
of its given entries instead of the window itself: on smooth data that difference is
small, so the model's own error no longer sets a floor that linear interpolation
would beat. The differences are divided by their typical size
(:func:`residual_scale`, at least 2/3), so the diffusion works on data of about
unit scale, as it does without a baseline.
"""

from __future__ import annotations

import torch
from torch import Tensor

from .masks import MaskStrategy, draw_given_mask

__all__ = ["BASELINES", "baseline_fill", "interpolate_given", "residual_scale"]

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


#: the smallest residual scale: smooth data's differences are enlarged by at most 1.5;
#: more puts the outliers of heavy-tailed data in charge of the loss (on the weather
#: benchmark data, x2 gave intervals far too wide while x1.5 helped every data set)
MIN_RESIDUAL_SCALE = 2 / 3


def residual_scale(
    kind: str,
    values: Tensor,
    observed: Tensor,
    strategy: MaskStrategy,
    generator: torch.Generator | None = None,
    max_windows: int = 4096,
) -> float:
    """Root mean square of the differences from the baseline that training will see.

    Draws given masks with ``strategy`` as training does and measures the differences
    between the values and the baseline ``kind`` on the target entries (observed, not
    given).

    Parameters
    ----------
    kind : str
        One of :data:`BASELINES`; ``"none"`` gives 1 (the values themselves).
    values, observed : torch.Tensor of shape (n_windows, n_features, length)
        Training windows and their observation mask (bool).
    strategy : MaskStrategy
        The training masks.
    generator : torch.Generator or None
        A CPU generator; draws the windows used (at most ``max_windows``) and their
        masks (the measurement runs on the CPU).
    max_windows : int
        A random subset of this many windows is enough for one number.

    Returns
    -------
    float
        At least :data:`MIN_RESIDUAL_SCALE`; 1 when there is nothing to measure.
    """
    if kind == "none":
        return 1.0
    values, observed = values.cpu(), observed.cpu()
    if values.shape[0] > max_windows:
        chosen = torch.randperm(values.shape[0], generator=generator)[:max_windows]
        values, observed = values[chosen], observed[chosen]
    given = draw_given_mask(observed, strategy, generator)
    targets = observed & ~given
    if not bool(targets.any()):
        return 1.0
    values = torch.where(observed, values, torch.zeros_like(values))
    differences = (values - baseline_fill(kind, values, given))[targets]
    rms = float(differences.double().square().mean().sqrt())
    return max(rms, MIN_RESIDUAL_SCALE)
