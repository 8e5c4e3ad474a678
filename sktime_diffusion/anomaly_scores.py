"""Anomaly scores from a conditional diffusion model's reconstructions.

The scoring of :class:`~sktime_diffusion.DiffusionAnomalyDetector` (its class docstring
describes the score): grating masks hide slices of overlapping windows, the model
reconstructs them, each hidden value's distance from its reconstructions in units of
their spread is its standardised error, and the point scores are pooled over a
stretch. The estimator only checks data, trains and sets the threshold.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd
import torch

from ._estimator_engine import make_condition
from ._windows import tiling_starts
from .engine import Condition, grating_hidden

__all__ = [
    "grating_masks",
    "point_scores",
    "pool_scores",
    "smooth_scores",
    "standardised_errors",
]

#: windows scored per batch of sampling (bounds the memory of the samples)
WINDOWS_PER_BATCH = 256
#: smallest spread of the samples, in units of the fit data's standard deviation
SPREAD_FLOOR = 0.01

#: draws ``n_samples`` per window of a condition with a seed: (condition, n_samples,
#: seed) -> array of shape (n_windows, n_samples, n_features, length)
Draw = Callable[[Condition, int, int], np.ndarray]


def grating_masks(window_length: int, slice_counts: tuple[int, ...]) -> np.ndarray:
    """Hidden steps of the even and the odd grating of each slice count.

    Parameters
    ----------
    window_length : int
    slice_counts : tuple of int
        Numbers of equal slices, each at most ``window_length``.

    Returns
    -------
    np.ndarray of bool, shape (2 * len(slice_counts), window_length)
        Row ``2 k`` hides the even slices of count ``k``, row ``2 k + 1`` the odd ones.
    """
    n_slices = torch.tensor(slice_counts).repeat_interleave(2)
    phase = torch.tensor([0, 1] * len(slice_counts))
    return grating_hidden(window_length, n_slices, phase).numpy()


def standardised_errors(
    draw: Draw,
    scaled: np.ndarray,
    starts: np.ndarray,
    hidden: np.ndarray,
    n_samples: int,
    seed: int,
) -> np.ndarray:
    """``|x - median| / spread`` of the hidden, observed entries of some windows.

    Parameters
    ----------
    draw
        The model's sampler.
    scaled : np.ndarray of shape (n_features, n_timepoints)
        The scaled series, NaN where unobserved.
    starts : np.ndarray of int, shape (n_windows,)
        First steps of the windows.
    hidden : np.ndarray of bool, shape (n_masks, length)
        Steps each mask hides.
    n_samples : int
        Reconstructions per window and mask (at least 2).
    seed : int

    Returns
    -------
    np.ndarray of shape (n_masks, n_windows, n_features, length)
        NaN for entries that are given or unobserved.
    """
    length = hidden.shape[1]
    windows = np.stack([scaled[:, s : s + length] for s in starts])
    observed = ~np.isnan(windows)
    n_masks, n_windows = len(hidden), len(windows)
    values = np.broadcast_to(windows, (n_masks, *windows.shape))
    target = observed[None] & hidden[:, None, None, :]
    given = observed[None] & ~target
    flat_shape = (n_masks * n_windows, *windows.shape[1:])
    condition = make_condition(values.reshape(flat_shape), given.reshape(flat_shape))
    samples = draw(condition, int(n_samples), seed)
    samples = samples.reshape(n_masks, n_windows, *samples.shape[1:])
    centre = np.median(samples, axis=2)
    spread = np.maximum(samples.std(axis=2, ddof=1), SPREAD_FLOOR)
    errors = np.abs(values - centre) / spread
    return np.where(target, errors, np.nan)


def point_scores(
    draw: Draw,
    scaled: np.ndarray,
    window_length: int,
    slice_counts: tuple[int, ...],
    n_samples: int,
    batch_seed: Callable[[int], int],
) -> np.ndarray:
    """Unpooled anomaly score of every time point of a scaled series.

    Windows of ``window_length`` steps start every half window; per slice count, the
    standardised errors of a point are averaged over the windows it lies in, the
    largest over the features is taken, and that is averaged over the slice counts.

    Parameters
    ----------
    draw
        The model's sampler (:func:`standardised_errors`).
    scaled : np.ndarray of shape (n_features, n_timepoints)
        At least ``window_length`` steps; NaN where unobserved.
    window_length : int
    slice_counts : tuple of int
        Distinct grating slice counts, each at most ``window_length``.
    n_samples : int
    batch_seed : callable
        Seed of the sampling of each batch of windows, from its number (0, 1, ...).

    Returns
    -------
    np.ndarray of shape (n_timepoints,)
        NaN where a time point has no observed value.
    """
    n_features, n_timepoints = scaled.shape
    length = window_length
    starts = tiling_starts(n_timepoints, length, stride=max(1, length // 2))
    counts = slice_counts
    error_sum = np.zeros((len(counts), n_features, n_timepoints))
    error_count = np.zeros((len(counts), n_features, n_timepoints))
    hidden = grating_masks(length, counts)  # (n_masks, length)
    count_of_mask = np.repeat(np.arange(len(counts)), 2)
    for batch_number, first in enumerate(range(0, len(starts), WINDOWS_PER_BATCH)):
        batch_starts = starts[first : first + WINDOWS_PER_BATCH]
        errors = standardised_errors(
            draw,
            scaled,
            batch_starts,
            hidden,
            n_samples,
            batch_seed(batch_number),
        )  # (n_masks, n_windows, n_features, length), NaN where not scored
        steps = batch_starts[:, None] + np.arange(length)[None, :]  # (windows, L)
        for mask, count in enumerate(count_of_mask):
            scored = ~np.isnan(errors[mask]).transpose(1, 0, 2)  # (F, windows, L)
            mask_errors = np.where(scored, errors[mask].transpose(1, 0, 2), 0.0)
            # windows overlap: unbuffered adds count every window's entry
            np.add.at(error_sum[count], (slice(None), steps), mask_errors)
            np.add.at(error_count[count], (slice(None), steps), scored)
    with np.errstate(invalid="ignore"):
        errors = error_sum / error_count  # NaN where never scored (unobserved)
    worst_feature = np.where(
        np.isnan(errors).all(axis=1),
        np.nan,
        np.nanmax(np.where(np.isnan(errors), -np.inf, errors), axis=1),
    )
    return worst_feature.mean(axis=0)


def smooth_scores(scores: np.ndarray, steps: int) -> np.ndarray:
    """Centred moving average of point scores, ignoring NaN.

    Parameters
    ----------
    scores : np.ndarray of shape (n_timepoints,)
        NaN where a point has no score.
    steps : int
        Width of the moving window (1 returns the scores unchanged); at the ends of the
        series the window is cut short.

    Returns
    -------
    np.ndarray of shape (n_timepoints,)
        NaN stays NaN.
    """
    if steps <= 1:
        return scores
    smoothed = (
        pd.Series(scores).rolling(int(steps), center=True, min_periods=1).mean().to_numpy()
    )
    return np.where(np.isnan(scores), np.nan, smoothed)


def pool_scores(scores: np.ndarray, steps: int) -> np.ndarray:
    """Two-scale pooling: the stretch's mean score or the point's own, the larger.

    The moving average over ``steps`` points (:func:`smooth_scores`) makes a lasting
    anomaly stand out and averages away the noise of the few reconstructions per
    point, but it spreads a single spike thin. A point's own score divided by
    ``sqrt(steps)`` is put next to it: the mean of ``steps`` scores of a calibrated
    model spreads about ``sqrt(steps)`` times less than one score, so this weighs a
    lone point's evidence against a whole stretch's on a like scale.

    Parameters
    ----------
    scores : np.ndarray of shape (n_timepoints,)
        Non-negative point scores; NaN where a point has no score.
    steps : int
        Width of the moving window (1 returns the scores unchanged).

    Returns
    -------
    np.ndarray of shape (n_timepoints,)
        NaN stays NaN.
    """
    if steps <= 1:
        return scores
    # both terms are NaN where the point has no score, and np.maximum keeps NaN
    return np.maximum(smooth_scores(scores, steps), scores / np.sqrt(steps))
