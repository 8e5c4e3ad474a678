"""Plots of probabilistic outputs; needs matplotlib (the `plot` extra)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

__all__ = [
    "plot_anomalies",
    "plot_fan_chart",
    "plot_imputation",
    "plot_real_vs_synthetic",
    "plot_window_embedding",
]


def _pyplot():
    try:
        import matplotlib.pyplot as plt
    except ImportError as error:  # pragma: no cover - exercised without matplotlib
        raise ImportError(
            "plotting needs matplotlib: pip install 'sktime-diffusion[plot]'"
        ) from error
    return plt


def _as_timestamps(index: pd.Index) -> pd.Index:
    return index.to_timestamp() if isinstance(index, pd.PeriodIndex) else index


def _finish(ax: Any, title: str | None) -> Any:
    """Legend and title; returns ``ax``."""
    ax.legend(loc="upper left", fontsize="small")
    if title:
        ax.set_title(title)
    return ax


def _draw_bands(
    ax: Any,
    times: pd.Index,
    intervals: pd.DataFrame,
    variable: Any,
    coverage: Sequence[float],
    where: np.ndarray | None = None,
) -> None:
    """Nested interval bands, wide (light) to narrow (dark)."""
    for share, level in zip(
        np.linspace(0.15, 0.4, len(coverage)), sorted(coverage, reverse=True), strict=True
    ):
        ax.fill_between(
            times,
            intervals[(variable, level, "lower")].to_numpy(),
            intervals[(variable, level, "upper")].to_numpy(),
            where=where,
            color="tab:blue",
            alpha=float(share),
            label=f"{level:.0%} interval",
            lw=0,
        )


def plot_fan_chart(
    forecaster: Any,
    y_history: pd.Series | None = None,
    fh: Any = None,
    X: pd.DataFrame | None = None,
    coverage: Sequence[float] = (0.5, 0.8, 0.95),
    y_true: pd.Series | None = None,
    ax: Any = None,
    title: str | None = None,
):
    """Fan chart of a fitted probabilistic forecaster: median and nested intervals.

    Parameters
    ----------
    forecaster : fitted sktime forecaster with ``predict_interval``
        Univariate, single series.
    y_history : pd.Series, optional
        History drawn in black.
    fh : forecasting horizon, optional
        Passed to ``predict`` (may be omitted if given in ``fit``).
    X : pd.DataFrame, optional
        Future exogenous data.
    coverage : sequence of float
        Nominal coverages of the bands, drawn from wide (light) to narrow (dark).
    y_true : pd.Series, optional
        Actual future values, drawn as dots.
    ax : matplotlib Axes, optional
    title : str, optional

    Returns
    -------
    matplotlib.axes.Axes
    """
    plt = _pyplot()
    if ax is None:
        _, ax = plt.subplots(figsize=(9, 4))
    median = forecaster.predict(fh=fh, X=X)
    intervals = forecaster.predict_interval(fh=fh, X=X, coverage=sorted(coverage))
    if isinstance(median, pd.DataFrame):
        if median.shape[1] != 1:
            raise ValueError("plot_fan_chart draws one variable; select a column first")
        median = median.iloc[:, 0]
    times = _as_timestamps(median.index)
    if y_history is not None:
        ax.plot(
            _as_timestamps(y_history.index),
            y_history.to_numpy(),
            color="black",
            lw=1,
            label="history",
        )
    variable = intervals.columns.get_level_values(0)[0]
    _draw_bands(ax, times, intervals, variable, coverage)
    ax.plot(times, median.to_numpy(), color="tab:blue", lw=1.5, label="median")
    if y_true is not None:
        ax.plot(
            _as_timestamps(y_true.index),
            y_true.to_numpy(),
            "o",
            color="tab:red",
            ms=3,
            label="actual",
        )
    return _finish(ax, title)


def plot_imputation(
    imputer: Any,
    X: pd.Series | pd.DataFrame,
    column: Any = None,
    coverage: Sequence[float] = (0.5, 0.9),
    X_true: pd.Series | pd.DataFrame | None = None,
    ax: Any = None,
    title: str | None = None,
):
    """A series with its imputed entries and their interval bands.

    Parameters
    ----------
    imputer : fitted DiffusionImputer
        Anything with ``transform`` and ``transform_interval``.
    X : pd.Series or pd.DataFrame
        One series with gaps (NaN).
    column : column label, optional
        Which column of a multivariate ``X`` to draw; needed when there are several.
    coverage : sequence of float
        Nominal coverages of the bands (drawn around the gaps only).
    X_true : pd.Series or pd.DataFrame, optional
        The hidden values, drawn as dots where ``X`` is missing.
    ax : matplotlib Axes, optional
    title : str, optional

    Returns
    -------
    matplotlib.axes.Axes
    """
    plt = _pyplot()
    frame = X.to_frame() if isinstance(X, pd.Series) else X
    if isinstance(frame.index, pd.MultiIndex):
        raise ValueError("plot_imputation draws one series; select it from the panel first")
    if column is None:
        if frame.shape[1] != 1:
            raise ValueError("plot_imputation draws one column; pass column=...")
        column = frame.columns[0]
    if ax is None:
        _, ax = plt.subplots(figsize=(9, 4))
    filled = imputer.transform(frame)[column]
    intervals = imputer.transform_interval(frame, coverage=sorted(coverage))
    missing = frame[column].isna().to_numpy()
    # widen the shaded stretches by one step so single missing points show up
    near_gap = missing | np.roll(missing, 1) | np.roll(missing, -1)
    times = _as_timestamps(frame.index)
    _draw_bands(ax, times, intervals, column, coverage, where=near_gap)
    ax.plot(times, frame[column].to_numpy(), color="black", lw=1, label="observed")
    imputed = np.where(near_gap, filled.to_numpy(), np.nan)
    ax.plot(times, imputed, color="tab:blue", lw=1.5, label="imputed (median)")
    if X_true is not None:
        truth = X_true if isinstance(X_true, pd.Series) else X_true[column]
        hidden = np.where(missing, truth.reindex(frame.index).to_numpy(), np.nan)
        ax.plot(times, hidden, "o", color="tab:red", ms=3, label="hidden value")
    return _finish(ax, title)


def plot_anomalies(
    detector: Any,
    X: pd.Series | pd.DataFrame,
    column: Any = None,
    true_windows: Sequence[tuple[Any, Any]] = (),
    axes: Any = None,
    title: str | None = None,
    scores: pd.DataFrame | None = None,
):
    """A series over its anomaly scores, with the flagged stretches shaded.

    Parameters
    ----------
    detector : fitted DiffusionAnomalyDetector
        Anything with ``transform_scores`` and ``threshold_``.
    X : pd.Series or pd.DataFrame
        One series with the detector's columns.
    column : column label, optional
        Which column of a multivariate ``X`` to draw (the scores cover all columns).
    true_windows : sequence of (start, end)
        Known anomalous stretches (index values, both ends included), outlined in red.
    axes : pair of matplotlib Axes, optional
        Series axes and score axes; a new figure when None.
    title : str, optional
    scores : pd.DataFrame, optional
        ``detector.transform_scores(X)`` when already computed (scoring samples the
        model; passing them saves doing it again).

    Returns
    -------
    np.ndarray of two matplotlib Axes
        The series (top) and the scores with the threshold (bottom).
    """
    from .detection import flagged_segments

    plt = _pyplot()
    frame = X.to_frame() if isinstance(X, pd.Series) else X
    if isinstance(frame.index, pd.MultiIndex):
        raise ValueError("plot_anomalies draws one series; select it from the panel first")
    if column is None:
        column = frame.columns[0]
    if axes is None:
        _, axes = plt.subplots(
            2, 1, figsize=(10, 5), sharex=True, gridspec_kw={"height_ratios": [2, 1]}
        )
    series_ax, score_ax = axes
    times = _as_timestamps(frame.index)
    if scores is None:
        scores = detector.transform_scores(frame)
    scores = scores.iloc[:, 0].to_numpy()
    series_ax.plot(times, frame[column].to_numpy(), color="black", lw=0.8, label=column)
    score_ax.plot(times, scores, color="tab:blue", lw=0.8, label="anomaly score")
    score_ax.axhline(
        detector.threshold_, color="tab:orange", ls="--", lw=1, label="threshold"
    )
    for number, segment in enumerate(flagged_segments(scores, detector.threshold_)):
        for ax in axes:
            ax.axvspan(
                times[segment.left],
                times[segment.right - 1],
                color="tab:orange",
                alpha=0.3,
                lw=2,
                label="flagged" if number == 0 and ax is series_ax else None,
            )
    for number, (start, end) in enumerate(true_windows):
        series_ax.axvspan(
            _as_timestamps(pd.Index([start]))[0],
            _as_timestamps(pd.Index([end]))[0],
            fill=False,
            edgecolor="tab:red",
            lw=1.5,
            label="labelled anomaly" if number == 0 else None,
        )
    _finish(series_ax, title)
    _finish(score_ax, None)
    return np.asarray(axes)


def plot_real_vs_synthetic(
    real: np.ndarray,
    synthetic: np.ndarray,
    n_series: int = 4,
    feature: int = 0,
    axes: Any = None,
    random_state: int = 0,
):
    """A few real and synthetic windows side by side (one feature).

    Parameters
    ----------
    real, synthetic : np.ndarray of shape (n, length, n_features)
    n_series : int
        Windows drawn at random from each set.
    feature : int
        Feature to draw.
    axes : pair of matplotlib Axes, optional
    random_state : int
        Picks the windows.

    Returns
    -------
    np.ndarray of two matplotlib Axes
        Real windows (left) and synthetic ones (right), on the same y scale.
    """
    plt = _pyplot()
    if axes is None:
        _, axes = plt.subplots(1, 2, figsize=(10, 3.5), sharey=True)
    rng = np.random.default_rng(random_state)
    for ax, windows, name in zip(
        axes, (real, synthetic), ("real", "synthetic"), strict=True
    ):
        picks = rng.choice(len(windows), size=min(n_series, len(windows)), replace=False)
        for pick in picks:
            ax.plot(windows[pick, :, feature], lw=1)
        ax.set_title(f"{name} (feature {feature})")
        ax.set_xlabel("step")
    return np.asarray(axes)


def plot_window_embedding(
    real: np.ndarray,
    synthetic: np.ndarray,
    max_windows: int = 1000,
    ax: Any = None,
    random_state: int = 0,
):
    """Real and synthetic windows in the plane of the real windows' first two PCs.

    Each window is averaged over its features (as in TimeGAN's figures) and projected
    with scikit-learn's PCA fitted on the real windows; matching clouds mean the
    synthetic windows cover the real ones.

    Parameters
    ----------
    real, synthetic : np.ndarray of shape (n, length, n_features)
    max_windows : int
        Windows drawn at random from each set.
    ax : matplotlib Axes, optional
    random_state : int

    Returns
    -------
    matplotlib.axes.Axes
    """
    from sklearn.decomposition import PCA

    plt = _pyplot()
    if ax is None:
        _, ax = plt.subplots(figsize=(5, 5))
    rng = np.random.default_rng(random_state)

    def some(windows: np.ndarray) -> np.ndarray:
        picks = rng.choice(len(windows), size=min(max_windows, len(windows)), replace=False)
        return windows[picks].mean(axis=2)

    real_flat, synthetic_flat = some(real), some(synthetic)
    pca = PCA(n_components=2, random_state=random_state).fit(real_flat)
    for flat, name, colour in (
        (real_flat, "real", "tab:red"),
        (synthetic_flat, "synthetic", "tab:blue"),
    ):
        points = pca.transform(flat)
        ax.scatter(points[:, 0], points[:, 1], s=4, alpha=0.4, color=colour, label=name)
    ax.set_xlabel("PC 1")
    ax.set_ylabel("PC 2")
    return _finish(ax, "PCA of windows")
