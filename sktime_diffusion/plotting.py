"""Plots of probabilistic outputs; needs matplotlib (the `plot` extra)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

__all__ = ["plot_fan_chart"]


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
    for share, level in zip(
        np.linspace(0.15, 0.4, len(coverage)), sorted(coverage, reverse=True), strict=True
    ):
        lower = intervals[(variable, level, "lower")].to_numpy()
        upper = intervals[(variable, level, "upper")].to_numpy()
        ax.fill_between(
            times,
            lower,
            upper,
            color="tab:blue",
            alpha=float(share),
            label=f"{level:.0%} interval",
            lw=0,
        )
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
    ax.legend(loc="upper left", fontsize="small")
    if title:
        ax.set_title(title)
    return ax
