"""Scores of probabilistic predictions, of anomaly scores and of synthetic series.

CRPS, energy score, pinball loss and interval coverage for samples and quantiles; best
F1 of anomaly scores, with and without point adjustment; for synthetic series, TimeGAN's
discriminative score (and the same with an MLP classifier) and predictive score,
distances between marginal distributions, autocorrelations and cross-correlations of
the features, the share of values outside the training range, and a nearest-neighbour
check for copied training windows. One
implementation each, shared by the tests and every benchmark. All functions take numpy
arrays; windows of series are ``(n, length, n_features)`` arrays.
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
    "energy_score",
    "discriminative_score",
    "mlp_discriminative_score",
    "predictive_score",
    "marginal_distance",
    "autocorrelation_distance",
    "cross_correlation_distance",
    "out_of_range_share",
    "nearest_neighbour_ratio",
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


def energy_score(samples: np.ndarray, observed: np.ndarray) -> np.ndarray:
    """Energy score of multivariate samples: ``E||X - y|| - E||X - X'|| / 2``.

    The multivariate CRPS (Gneiting and Raftery, 2007); for one dimension it equals
    :func:`crps_from_samples`. Lower is better.

    Parameters
    ----------
    samples : np.ndarray of shape (n_samples, ..., d)
        Sample vectors (e.g. whole sample paths, flattened) along the first axis.
    observed : np.ndarray of shape (..., d)

    Returns
    -------
    np.ndarray of shape (...)
    """
    samples = np.asarray(samples, dtype=np.float64)
    observed = np.asarray(observed, dtype=np.float64)
    to_truth = np.linalg.norm(samples - observed[None], axis=-1).mean(axis=0)
    pairs = np.linalg.norm(samples[:, None] - samples[None, :], axis=-1)
    return to_truth - 0.5 * pairs.mean(axis=(0, 1))


def _check_windows(real: np.ndarray, synthetic: np.ndarray) -> tuple[np.ndarray, ...]:
    real = np.asarray(real, dtype=np.float64)
    synthetic = np.asarray(synthetic, dtype=np.float64)
    if real.ndim != 3 or synthetic.ndim != 3 or real.shape[1:] != synthetic.shape[1:]:
        raise ValueError(
            "real and synthetic must be arrays of windows (n, length, n_features) of "
            f"the same length and features, got {real.shape} and {synthetic.shape}"
        )
    if np.isnan(real).any() or np.isnan(synthetic).any():
        raise ValueError("real and synthetic windows must not contain NaN")
    return real, synthetic


def discriminative_score(
    real: np.ndarray,
    synthetic: np.ndarray,
    iterations: int = 2000,
    random_state: int = 0,
) -> float:
    """TimeGAN's discriminative score: ``|accuracy - 0.5|`` of a real-vs-synthetic GRU.

    A one-layer GRU (hidden size half the number of features) is trained for
    ``iterations`` Adam steps on 80% of the windows of both sets and tested on the other
    20%. 0 means the classifier cannot tell them apart; 0.5 that it always can.

    Parameters
    ----------
    real, synthetic : np.ndarray of shape (n, length, n_features)
    iterations : int, default=2000
        As in TimeGAN.
    random_state : int, default=0
        Seeds the split, the classifier's weights and its batches.

    Returns
    -------
    float in [0, 0.5]
    """
    from ._sequence_models import train_classifier_accuracy

    real, synthetic = _check_windows(real, synthetic)
    accuracy = train_classifier_accuracy(real, synthetic, iterations, random_state)
    return abs(accuracy - 0.5)


def mlp_discriminative_score(
    real: np.ndarray,
    synthetic: np.ndarray,
    random_state: int = 0,
    test_share: float = 0.2,
) -> float:
    """``|accuracy - 0.5|`` of an MLP classifier telling real from synthetic windows.

    The windows are flattened (``length * n_features`` inputs) and an scikit-learn
    ``MLPClassifier`` (two hidden layers of 128 and 64 units, early stopping) is
    trained on ``1 - test_share`` of both sets and tested on the rest. Unlike the GRU of
    :func:`discriminative_score`, which sees one step at a time through a small hidden
    state, it sees every feature at every step at once, so it also spots wrong
    dependence between features.

    Parameters
    ----------
    real, synthetic : np.ndarray of shape (n, length, n_features)
    random_state : int, default=0
        Seeds the split and the classifier.
    test_share : float, default=0.2
        Share of both sets the classifier is tested on.

    Returns
    -------
    float in [0, 0.5]
        0 when the classifier cannot tell the sets apart, 0.5 when it always can.

    Examples
    --------
    >>> import numpy as np
    >>> from sktime_diffusion.metrics import mlp_discriminative_score
    >>> rng = np.random.default_rng(0)
    >>> real = rng.normal(size=(400, 8, 2))
    >>> mlp_discriminative_score(real, rng.normal(size=(400, 8, 2))) < 0.1
    True
    >>> mlp_discriminative_score(real, rng.normal(2, 1, size=(400, 8, 2))) > 0.4
    True
    """
    from sklearn.model_selection import train_test_split
    from sklearn.neural_network import MLPClassifier

    real, synthetic = _check_windows(real, synthetic)
    inputs = np.concatenate([real, synthetic]).reshape(len(real) + len(synthetic), -1)
    labels = np.r_[np.ones(len(real)), np.zeros(len(synthetic))]
    train_x, test_x, train_y, test_y = train_test_split(
        inputs, labels, test_size=test_share, random_state=random_state, stratify=labels
    )
    classifier = MLPClassifier(
        hidden_layer_sizes=(128, 64),
        early_stopping=True,
        max_iter=200,
        random_state=random_state,
    )
    classifier.fit(train_x, train_y)
    return abs(float(classifier.score(test_x, test_y)) - 0.5)


def predictive_score(
    real: np.ndarray,
    synthetic: np.ndarray,
    iterations: int = 5000,
    random_state: int = 0,
) -> float:
    """TimeGAN's predictive score: train on synthetic, test on real (MAE).

    A one-layer GRU learns, on the synthetic windows, to predict the last feature one
    step ahead from the other features; its mean absolute error on the real windows is
    the score. ``predictive_score(real, real)`` is the floor to compare with.

    Parameters
    ----------
    real, synthetic : np.ndarray of shape (n, length, n_features)
    iterations : int, default=5000
        As in TimeGAN.
    random_state : int, default=0

    Returns
    -------
    float
    """
    from ._sequence_models import train_next_step_mae

    real, synthetic = _check_windows(real, synthetic)
    return train_next_step_mae(synthetic, real, iterations, random_state)


def marginal_distance(real: np.ndarray, synthetic: np.ndarray) -> float:
    """Mean over features of the Wasserstein-1 distance between marginal distributions.

    Parameters
    ----------
    real, synthetic : np.ndarray of shape (n, length, n_features)
        All values of a feature, over windows and steps, form its marginal.

    Returns
    -------
    float
        In the data's units; 0 for identical distributions.
    """
    from scipy.stats import wasserstein_distance

    real, synthetic = _check_windows(real, synthetic)
    return float(
        np.mean(
            [
                wasserstein_distance(real[..., f].ravel(), synthetic[..., f].ravel())
                for f in range(real.shape[-1])
            ]
        )
    )


def _mean_autocorrelation(windows: np.ndarray, max_lag: int) -> np.ndarray:
    """Autocorrelation at lags 1..max_lag per feature, averaged over the windows."""
    centred = windows - windows.mean(axis=1, keepdims=True)
    variance = (centred**2).sum(axis=1)
    lags = []
    for lag in range(1, max_lag + 1):
        covariance = (centred[:, lag:] * centred[:, :-lag]).sum(axis=1)
        with np.errstate(invalid="ignore", divide="ignore"):
            lags.append(np.where(variance > 0, covariance / variance, 0.0))
    return np.stack(lags, axis=1).mean(axis=0)  # (max_lag, n_features)


def autocorrelation_distance(
    real: np.ndarray, synthetic: np.ndarray, max_lag: int | None = None
) -> float:
    """Mean absolute difference of the average autocorrelation, lags 1..max_lag.

    Parameters
    ----------
    real, synthetic : np.ndarray of shape (n, length, n_features)
    max_lag : int or None
        Default: a quarter of the window length (at least 1).

    Returns
    -------
    float in [0, 2]
    """
    real, synthetic = _check_windows(real, synthetic)
    length = real.shape[1]
    max_lag = max(1, length // 4) if max_lag is None else int(max_lag)
    if not 1 <= max_lag < length:
        raise ValueError(f"max_lag must be in [1, {length - 1}], got {max_lag}")
    return float(
        np.abs(
            _mean_autocorrelation(real, max_lag) - _mean_autocorrelation(synthetic, max_lag)
        ).mean()
    )


def cross_correlation_distance(real: np.ndarray, synthetic: np.ndarray) -> float:
    """Mean absolute difference between the correlation matrices of the features.

    Each set's Pearson correlation between every pair of features is computed over all
    its values (windows and steps pooled); the distance is the mean absolute difference
    over the pairs. A generator that draws each feature on its own scores about the mean
    absolute correlation of the data; a Gaussian fitted to the windows matches it.

    Parameters
    ----------
    real, synthetic : np.ndarray of shape (n, length, n_features), n_features >= 2

    Returns
    -------
    float in [0, 2]
        A feature that is constant in a set has correlation 0 with every other one.

    Examples
    --------
    >>> import numpy as np
    >>> from sktime_diffusion.metrics import cross_correlation_distance
    >>> rng = np.random.default_rng(0)
    >>> common = rng.normal(size=(500, 10, 1))
    >>> together = common + 0.1 * rng.normal(size=(500, 10, 2))
    >>> apart = rng.normal(size=(500, 10, 2))
    >>> round(cross_correlation_distance(together, apart), 1)
    1.0
    """
    real, synthetic = _check_windows(real, synthetic)
    n_features = real.shape[-1]
    if n_features < 2:
        raise ValueError("cross_correlation_distance needs at least 2 features")

    def correlations(windows: np.ndarray) -> np.ndarray:
        values = windows.reshape(-1, n_features)
        centred = values - values.mean(axis=0)
        spread = np.sqrt((centred**2).sum(axis=0))
        spread[spread == 0] = np.inf
        return (centred.T @ centred) / np.outer(spread, spread)

    pairs = np.triu_indices(n_features, k=1)
    difference = correlations(real)[pairs] - correlations(synthetic)[pairs]
    return float(np.abs(difference).mean())


def out_of_range_share(
    real: np.ndarray, synthetic: np.ndarray, tolerance: float = 0.05
) -> float:
    """Share of synthetic values outside the real data's range by more than a margin.

    A value of feature ``f`` counts when it lies below ``min_f - tolerance * range_f``
    or above ``max_f + tolerance * range_f``, where ``min_f``, ``max_f`` and
    ``range_f`` are those of feature ``f`` over all real values.

    Parameters
    ----------
    real, synthetic : np.ndarray of shape (n, length, n_features)
        ``real`` are the training windows.
    tolerance : float, default=0.05
        The margin, as a share of each feature's range.

    Returns
    -------
    float in [0, 1]

    Examples
    --------
    >>> import numpy as np
    >>> from sktime_diffusion.metrics import out_of_range_share
    >>> real = np.linspace(0, 1, 50).reshape(10, 5, 1)
    >>> synthetic = np.array([-0.2, -0.01, 0.5, 1.04, 1.1]).reshape(1, 5, 1)
    >>> out_of_range_share(real, synthetic)
    0.4
    """
    real, synthetic = _check_windows(real, synthetic)
    if tolerance < 0:
        raise ValueError(f"tolerance must be >= 0, got {tolerance}")
    low, high = real.min(axis=(0, 1)), real.max(axis=(0, 1))
    margin = tolerance * (high - low)
    outside = (synthetic < low - margin) | (synthetic > high + margin)
    return float(outside.mean())


def nearest_neighbour_ratio(
    real: np.ndarray, synthetic: np.ndarray, exclusion: int = 0
) -> float:
    """How close synthetic windows sit to the training windows, relative to real ones.

    The median Euclidean distance from each synthetic window to its nearest real window,
    divided by the median distance from each real window to its nearest *other* real
    window. A generator that copies its training windows scores near 0; one that draws
    new windows from the data's distribution scores about 1 (a little above, since a
    synthetic window is compared with all real windows and not only with the others).

    Parameters
    ----------
    real, synthetic : np.ndarray of shape (n, length, n_features)
        ``real`` are the training windows.
    exclusion : int, default=0
        Real windows ``i`` and ``j`` with ``|i - j| <= exclusion`` are not each other's
        neighbours: pass the window length for overlapping windows cut from one series
        in time order, whose neighbours would otherwise be the same values shifted by a
        step.

    Returns
    -------
    float >= 0

    Examples
    --------
    >>> import numpy as np
    >>> from sktime_diffusion.metrics import nearest_neighbour_ratio
    >>> rng = np.random.default_rng(0)
    >>> real = rng.normal(size=(300, 12, 2))
    >>> copies = real[:100] + 1e-3 * rng.normal(size=(100, 12, 2))
    >>> nearest_neighbour_ratio(real, copies) < 0.01
    True
    """
    from sklearn.neighbors import NearestNeighbors

    real, synthetic = _check_windows(real, synthetic)
    exclusion = int(exclusion)
    if exclusion < 0 or len(real) <= 2 * exclusion + 1:
        raise ValueError(
            f"exclusion must be >= 0 and leave other real windows to compare with; got "
            f"{exclusion} for {len(real)} real windows"
        )
    flat_real = real.reshape(len(real), -1)
    search = NearestNeighbors().fit(flat_real)
    synthetic_distance, _ = search.kneighbors(
        synthetic.reshape(len(synthetic), -1), n_neighbors=1
    )
    n_neighbours = min(len(real), 2 * exclusion + 2)
    distances, neighbours = search.kneighbors(flat_real, n_neighbors=n_neighbours)
    allowed = np.abs(neighbours - np.arange(len(real))[:, None]) > exclusion
    real_distance = np.where(allowed, distances, np.inf).min(axis=1)
    reference = float(np.median(real_distance))
    if reference == 0:
        raise ValueError("the real windows repeat exactly; the ratio is undefined")
    return float(np.median(synthetic_distance[:, 0]) / reference)
