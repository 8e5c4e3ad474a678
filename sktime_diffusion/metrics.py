"""Scores of probabilistic predictions and of anomaly scores.

CRPS, pinball loss and interval coverage for samples and quantiles; best F1 of anomaly
scores, with and without point adjustment. One implementation each, shared by the tests
and every benchmark. All functions take numpy arrays; the probabilistic ones broadcast
over leading axes.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

__all__ = [
    "crps_from_samples",
    "crps_from_quantiles",
    "pinball_loss",
    "interval_coverage",
    "best_f1",
    "point_adjusted_scores",
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


def best_f1(labels: np.ndarray, scores: np.ndarray) -> float:
    """Highest F1 over all thresholds of point scores (no point adjustment).

    Parameters
    ----------
    labels : np.ndarray of shape (n,), 0/1 or bool
        1 marks an anomalous point.
    scores : np.ndarray of shape (n,)
        Higher means more anomalous; a point is flagged when its score reaches the
        threshold.

    Returns
    -------
    float
        0.0 when there is no anomalous point.
    """
    from sklearn.metrics import precision_recall_curve

    labels = np.asarray(labels, dtype=bool)
    if not labels.any():
        return 0.0
    precision, recall, _ = precision_recall_curve(labels, np.asarray(scores, float))
    with np.errstate(invalid="ignore", divide="ignore"):
        f1 = 2 * precision * recall / (precision + recall)
    return float(np.nanmax(f1))


def point_adjusted_scores(labels: np.ndarray, scores: np.ndarray) -> np.ndarray:
    """Scores under the "point-adjust" protocol, for comparison with published figures.

    Point adjustment counts a whole labelled anomaly segment as detected as soon as one
    of its points is flagged. That equals giving every point of a segment the highest
    score in the segment; ``best_f1(labels, point_adjusted_scores(labels, scores))`` is
    the point-adjusted best F1. It inflates results: random scores reach a high
    point-adjusted F1 on long segments.

    Parameters
    ----------
    labels : np.ndarray of shape (n,), 0/1 or bool
    scores : np.ndarray of shape (n,)

    Returns
    -------
    np.ndarray of shape (n,)
    """
    labels = np.asarray(labels, dtype=bool)
    adjusted = np.asarray(scores, dtype=np.float64).copy()
    edges = np.diff(np.r_[0, labels.astype(np.int8), 0])
    for start, end in zip(
        np.flatnonzero(edges == 1), np.flatnonzero(edges == -1), strict=True
    ):
        adjusted[start:end] = adjusted[start:end].max()
    return adjusted
