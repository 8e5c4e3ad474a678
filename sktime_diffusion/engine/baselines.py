"""Deterministic baselines from the given entries, for residual diffusion.

A model with a baseline generates the difference between a window and a simple fill
of its given entries instead of the window itself: on smooth data that difference is
small, so the model's own error no longer sets a floor that linear interpolation
would beat. The seasonal fill also carries the last (first) seen season past the
given entries, so a forecast suffix starts from seasonal naive, not from a network
that has to learn to continue a cycle from its context; the seasonal fill with drift
adds the given entries' mean change per step beyond them (seasonal naive with drift),
so a trend is continued too.
"""

from __future__ import annotations

import torch
from torch import Tensor

__all__ = [
    "BASELINES",
    "baseline_fill",
    "dominant_period",
    "interpolate_given",
    "seasonal_drift_fill",
    "seasonal_fill",
]

#: names of the baselines; "none" generates the values themselves
BASELINES = ("none", "interpolation", "seasonal", "seasonal_drift")

#: the autocorrelation of the detrended given values a lag needs to count as a season
MIN_SEASONAL_CORRELATION = 0.5


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


def _given_span(given: Tensor) -> tuple[Tensor, Tensor]:
    """First and last given position of each row, shape (...,) each (0 and -1 if none)."""
    length = given.shape[-1]
    positions = torch.arange(length, device=given.device).expand_as(given)
    first = torch.where(given, positions, torch.full_like(positions, length)).amin(-1)
    last = torch.where(given, positions, torch.full_like(positions, -1)).amax(-1)
    return torch.where(first < length, first, torch.zeros_like(first)), last


def _detrended(values: Tensor, given: Tensor) -> Tensor:
    """Each row less its least-squares line through the given entries; 0 elsewhere."""
    weight = given.to(values.dtype)
    count = weight.sum(-1, keepdim=True).clamp_min(1)
    positions = torch.arange(values.shape[-1], device=values.device).to(values.dtype)
    mean_position = (positions * weight).sum(-1, keepdim=True) / count
    mean_value = (values * weight).sum(-1, keepdim=True) / count
    spread = ((positions - mean_position).square() * weight).sum(-1, keepdim=True)
    covariance = ((positions - mean_position) * (values - mean_value) * weight).sum(
        -1, keepdim=True
    )
    slope = covariance / spread.clamp_min(1e-12)
    residual = values - mean_value - slope * (positions - mean_position)
    return torch.where(given, residual, torch.zeros_like(values))


def _autocorrelations(residual: Tensor, given: Tensor, max_lag: int) -> Tensor:
    """Autocorrelation at lags 1 to ``max_lag`` over pairs of given steps, (rows, lags).

    A lag counts where at least as many pairs as its length are given, the given
    span holds two of it and the correlation exceeds three standard errors of white
    noise's (``3 / sqrt(pairs)``); -1 elsewhere.
    """
    first, last = _given_span(given)
    span = last - first + 1
    correlations = []
    for lag in range(1, max_lag + 1):
        head, tail = residual[:, lag:], residual[:, :-lag]
        both = (given[:, lag:] & given[:, :-lag]).to(residual.dtype)
        cross = (head * tail * both).sum(-1)
        norm = ((head.square() * both).sum(-1) * (tail.square() * both).sum(-1)).sqrt()
        pairs = both.sum(-1)
        correlation = cross / norm.clamp_min(1e-12)
        counts = (pairs >= lag) & (span >= 2 * lag) & (norm > 0)
        counts &= correlation >= 3 * pairs.clamp_min(1).rsqrt()
        correlations.append(torch.where(counts, correlation, torch.full_like(cross, -1.0)))
    return torch.stack(correlations, dim=-1)


def dominant_period(
    values: Tensor, given: Tensor, min_correlation: float = MIN_SEASONAL_CORRELATION
) -> Tensor:
    """The season of each row: the lag at which its detrended given values repeat.

    The autocorrelation of each row less its straight line through the given
    entries, over pairs of given steps (:func:`_autocorrelations`), at lags from 2
    to half the given span; a season is a lag where it peaks (no lower than at the
    lags either side) at ``min_correlation`` or more, and of the peaks within 10% of
    the highest the shortest (a season, not its multiples).

    Parameters
    ----------
    values : torch.Tensor of shape (..., length)
    given : torch.Tensor of shape (..., length), bool
    min_correlation : float

    Returns
    -------
    torch.Tensor of shape (...,), int64
        The period, 0 where no lag qualifies (too short a span, or no season).
    """
    length = values.shape[-1]
    max_lag = length // 2
    no_season = torch.zeros(given.shape[:-1], dtype=torch.long, device=values.device)
    if max_lag < 2:
        return no_season
    flat_given = given.reshape(-1, length)
    flat_values = values.reshape(-1, length)
    residual = _detrended(flat_values, flat_given)
    size = torch.where(flat_given, flat_values, torch.zeros_like(flat_values))
    size = size.abs().amax(-1, keepdim=True)
    # a straight line leaves rounding errors, which must not read as a season
    residual = torch.where(
        residual.abs() > 1e-5 * size, residual, torch.zeros_like(residual)
    )
    correlations = _autocorrelations(residual, flat_given, max_lag + 1)
    centre, left, right = correlations[:, 1:-1], correlations[:, :-2], correlations[:, 2:]
    peak = (centre >= left) & (centre >= right) & (centre >= min_correlation)
    score = torch.where(peak, centre, torch.full_like(centre, -2.0))
    best = score.amax(-1, keepdim=True)
    shortest = (peak & (centre >= 0.9 * best)).to(torch.int8).argmax(-1) + 2
    period = torch.where(peak.any(-1), shortest, torch.zeros_like(shortest))
    return period.reshape(given.shape[:-1])


def _season_sources(values: Tensor, given: Tensor) -> tuple[Tensor, Tensor, Tensor]:
    """The interpolated rows, their seasons and where each entry's fill is read from.

    Returns ``(filled, period, source)``: :func:`interpolate_given` of the rows, the
    :func:`dominant_period` of each (shape ``(..., 1)``, 0 without a season), and for
    each position the position whose interpolated value seasonal naive carries to
    it: itself between the first and the last given entry, the same phase of the
    last (first) season after (before) them, the last (first) given entry on rows
    without a season.
    """
    filled = interpolate_given(values, given)
    period = dominant_period(filled, given)[..., None]
    first, last = (edge[..., None] for edge in _given_span(given))
    positions = torch.arange(values.shape[-1], device=values.device).expand_as(values)
    season = period.clamp_min(1)
    after = last - season + 1 + torch.remainder(positions - last - 1, season)
    before = first + torch.remainder(positions - first, season)
    source = torch.where(
        positions > last, after, torch.where(positions < first, before, positions)
    )
    return filled, period, source.clamp(0, values.shape[-1] - 1)


def seasonal_fill(values: Tensor, given: Tensor) -> Tensor:
    """Interpolation between given entries, seasonal naive beyond them.

    Between the first and the last given entry of a row as :func:`interpolate_given`;
    after the last, the interpolated last season (:func:`dominant_period` steps)
    repeated, before the first the first season repeated backwards; on rows without
    a season the last (first) given value, as interpolation has it.

    Parameters
    ----------
    values : torch.Tensor of shape (..., length)
    given : torch.Tensor of shape (..., length), bool

    Returns
    -------
    torch.Tensor of shape (..., length)
        Equal to ``values`` on given entries; zero on rows with none.
    """
    filled, _, source = _season_sources(values, given)
    return filled.gather(-1, source)


def _seasonal_drift(filled: Tensor, given: Tensor, season: Tensor) -> Tensor:
    """Mean change per step of the interpolated rows over their given span, (..., 1).

    The mean of the differences ``(y[t] - y[t - season]) / season`` over the span:
    the sum of its last season less the sum of its first, over ``season * (span -
    season)``, so a season's shape does not read as a trend; zero where the span is
    no longer than a season (a row with one given entry, or none).
    """
    first, last = (edge[..., None] for edge in _given_span(given))
    positions = torch.arange(filled.shape[-1], device=filled.device).expand_as(filled)
    inside = (positions >= first) & (positions <= last)
    head = inside & (positions < first + season)
    tail = inside & (positions > last - season)
    change = (torch.where(tail, filled, 0.0) - torch.where(head, filled, 0.0)).sum(
        -1, keepdim=True
    )
    steps = (season * (last - first + 1 - season)).to(filled.dtype)
    return torch.where(steps > 0, change / steps.clamp_min(1), torch.zeros_like(change))


def seasonal_drift_fill(values: Tensor, given: Tensor) -> Tensor:
    """The seasonal fill with the given entries' drift continued beyond them.

    :func:`seasonal_fill`, plus, outside the given span, the mean change per step
    over the span (:func:`_seasonal_drift`, the season of :func:`dominant_period`, one
    step on rows without a season) times the distance from the entry the fill
    repeats: seasonal naive with drift after the last given entry (naive with drift
    without a season), its mirror before the first. Equal to the seasonal fill
    inside the span, and on rows without a trend.

    Parameters
    ----------
    values : torch.Tensor of shape (..., length)
    given : torch.Tensor of shape (..., length), bool

    Returns
    -------
    torch.Tensor of shape (..., length)
        Equal to ``values`` on given entries; zero on rows with none.
    """
    filled, period, source = _season_sources(values, given)
    drift = _seasonal_drift(filled, given, period.clamp_min(1))
    positions = torch.arange(values.shape[-1], device=values.device).expand_as(values)
    return filled.gather(-1, source) + drift * (positions - source).to(values.dtype)


def baseline_fill(kind: str, values: Tensor, given: Tensor) -> Tensor:
    """The baseline ``kind`` (one of :data:`BASELINES`) of ``values`` given ``given``."""
    if kind == "none":
        return torch.zeros_like(values)
    if kind == "interpolation":
        return interpolate_given(values, given)
    if kind == "seasonal":
        return seasonal_fill(values, given)
    if kind == "seasonal_drift":
        return seasonal_drift_fill(values, given)
    raise ValueError(f"baseline must be one of {BASELINES}, got {kind!r}")
