"""Scores of probabilistic predictions: CRPS, pinball loss, interval coverage.

One implementation each, shared by the tests and every benchmark. All functions take
numpy arrays and broadcast over leading axes.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

__all__ = [
    "crps_from_samples",
    "crps_from_quantiles",
    "pinball_loss",
    "interval_coverage",
]


def crps_from_samples(
    samples: np.ndarray, observed: np.ndarray, axis: int = 0
) -> np.ndarray:
    """CRPS of the empirical distribution of ``samples`` at ``observed``.

    Uses ``E|X - y| - E|X - X'| / 2`` with the sorted-sample form of the second term,
    exact for the empirical distribution, in ``O(S log S)``.

    Parameters
    ----------
    samples : np.ndarray
        Samples along ``axis``.
    observed : np.ndarray
        Shaped like ``samples`` without ``axis``.
    axis : int
        Sample axis.

    Returns
    -------
    np.ndarray, shaped like ``observed``
    """
    samples = np.moveaxis(np.asarray(samples, dtype=np.float64), axis, 0)
    n = samples.shape[0]
    spread_to_truth = np.abs(samples - observed[None]).mean(axis=0)
    ordered = np.sort(samples, axis=0)
    weights = (2 * np.arange(1, n + 1) - n - 1).reshape((n,) + (1,) * (samples.ndim - 1))
    half_mean_pair_distance = (weights * ordered).sum(axis=0) / n**2
    return spread_to_truth - half_mean_pair_distance


def pinball_loss(
    quantiles: np.ndarray, observed: np.ndarray, alpha: Sequence[float]
) -> np.ndarray:
    """Pinball (quantile) loss per level.

    Parameters
    ----------
    quantiles : np.ndarray of shape (..., n_levels)
    observed : np.ndarray of shape (...)
    alpha : sequence of n_levels floats in (0, 1)

    Returns
    -------
    np.ndarray of shape (..., n_levels)
    """
    alpha = np.asarray(alpha, dtype=np.float64)
    error = np.asarray(observed, dtype=np.float64)[..., None] - quantiles
    return np.maximum(alpha * error, (alpha - 1.0) * error)


def crps_from_quantiles(
    quantiles: np.ndarray, observed: np.ndarray, alpha: Sequence[float]
) -> np.ndarray:
    """CRPS approximated by twice the mean pinball loss over evenly spaced levels.

    With levels ``alpha = 1/(K+1), ..., K/(K+1)`` this converges to the CRPS as ``K``
    grows; any model that gives quantiles can be scored this way.

    Parameters
    ----------
    quantiles : np.ndarray of shape (..., n_levels)
    observed : np.ndarray of shape (...)
    alpha : sequence of n_levels floats

    Returns
    -------
    np.ndarray of shape (...)
    """
    return 2.0 * pinball_loss(quantiles, observed, alpha).mean(axis=-1)


def interval_coverage(lower: np.ndarray, upper: np.ndarray, observed: np.ndarray) -> float:
    """Share of ``observed`` values inside ``[lower, upper]``."""
    observed = np.asarray(observed, dtype=np.float64)
    return float(np.mean((observed >= lower) & (observed <= upper)))
