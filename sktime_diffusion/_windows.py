"""Checked series -> scaled window arrays, shared by every estimator.

The engine sees arrays of windows ``(n_windows, n_features, length)`` with an observed
mask. This module cuts the series of :mod:`sktime_diffusion._series` into windows
(sliding, for training; tiling, for scoring and generation), scales them with the
engine's one rule (:mod:`sktime_diffusion.engine.scaling`) and chooses a default window
length from the index's period.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
import torch

from .engine.scaling import given_entry_scaling, spread_floor
from .engine.series_windows import SeriesWindows

__all__ = [
    "ColumnWhitening",
    "WindowScaling",
    "column_whitening",
    "daily_period",
    "default_window_length",
    "scale_floor",
    "seasonal_period",
    "series_scaling",
    "sliding_windows",
    "tiling_starts",
    "training_windows",
    "window_scaling",
]

#: seasonal period guessed from the index frequency, for default window lengths
_SEASONAL_PERIODS = {"H": 24, "h": 24, "D": 7, "B": 5, "W": 52, "M": 12, "Q": 4}


def sliding_windows(values: np.ndarray, length: int, stride: int = 1) -> np.ndarray:
    """Windows of ``length`` consecutive rows, every ``stride`` rows.

    Parameters
    ----------
    values : np.ndarray of shape (n_timepoints, n_features)
    length : int
    stride : int

    Returns
    -------
    np.ndarray of shape (n_windows, n_features, length)
        Empty along the first axis when the series is shorter than ``length``. The last
        window always ends at the last row.
    """
    n_timepoints, n_features = values.shape
    if n_timepoints < length:
        return np.empty((0, n_features, length))
    starts = np.arange(n_timepoints - length, -1, -max(int(stride), 1))[::-1]
    steps = starts[:, None] + np.arange(length)[None, :]
    return np.ascontiguousarray(values[steps].transpose(0, 2, 1))


#: most training windows of the imputer, detector and generator (a common stride keeps
#: larger data under it)
MAX_TRAINING_WINDOWS = 50_000


def training_windows(
    series: Sequence[np.ndarray],
    length: int,
    max_windows: int | None = MAX_TRAINING_WINDOWS,
    *,
    recent: int | None = None,
    side: Sequence[np.ndarray] | None = None,
    scaling_context: int | None = None,
    scale_floors: np.ndarray | None = None,
) -> SeriesWindows:
    """Sliding windows over several series, cut per batch while training.

    The one way the estimators cut training windows: the series are kept once and each
    batch's windows are cut when the training loop asks for them
    (:class:`~sktime_diffusion.engine.series_windows.SeriesWindows`), so memory grows
    with the series, not with the number of windows.

    Parameters
    ----------
    series : sequence of np.ndarray of shape (n_features, n_timepoints)
        Series, NaN where missing; a series shorter than ``length`` gives no window.
    length : int
    max_windows : int or None
        A common stride keeps the count near this bound; None: stride 1, every window.
    recent : int or None
        Only the last ``recent`` windows of each series; None: all.
    side : sequence of np.ndarray of shape (n_side, n_timepoints) or None
        Side channels of each series (no NaN).
    scaling_context : int or None
        Each window standardised per feature by its first ``scaling_context`` entries
        (the forecaster's context), never below ``scale_floors``; None: as they come.
    scale_floors : np.ndarray of shape (n_series, n_features) or None

    Returns
    -------
    SeriesWindows
        ``len`` windows with at least one observed entry each.
    """
    return SeriesWindows(
        series,
        length,
        max_windows=max_windows,
        recent=recent,
        side=side,
        scaling_context=scaling_context,
        scale_floors=scale_floors,
    )


class _SeriesUnits:
    """The units a model sees: windows in, windows out; a whole series is one window."""

    def apply(self, values: np.ndarray) -> np.ndarray:
        """Map windows of shape (n_windows, n_features, length) to the model's units."""
        raise NotImplementedError

    def apply_to_series(self, values: np.ndarray) -> np.ndarray:
        """Map a whole series as a single window.

        Parameters
        ----------
        values : np.ndarray of shape (n_timepoints, n_features)

        Returns
        -------
        np.ndarray of shape (n_features, n_timepoints), laid out as windows are
        """
        return self.apply(values.T[None])[0]


@dataclass
class WindowScaling(_SeriesUnits):
    """Per-window, per-feature affine scaling ``(x - loc) / scale``.

    Attributes
    ----------
    loc, scale : np.ndarray of shape (n_windows, n_features, 1)
    """

    loc: np.ndarray
    scale: np.ndarray

    def apply(self, values: np.ndarray) -> np.ndarray:
        """Scale windows of shape (n_windows, n_features, length)."""
        return (values - self.loc) / self.scale

    def invert(self, values: np.ndarray, in_place: bool = False) -> np.ndarray:
        """Undo :meth:`apply`; extra middle axes (samples) broadcast.

        Parameters
        ----------
        values : np.ndarray of shape (n_windows, ..., n_features, length)
        in_place : bool
            Overwrite ``values`` (float64, writeable) instead of returning a new
            array: the same numbers without a second copy of many samples.
        """
        extra = values.ndim - 3
        shape = (self.loc.shape[0],) + (1,) * extra + self.loc.shape[1:]
        if not in_place:
            return values * self.scale.reshape(shape) + self.loc.reshape(shape)
        values *= self.scale.reshape(shape)
        values += self.loc.reshape(shape)
        return values


def scale_floor(values: np.ndarray, share: float = 0.1) -> np.ndarray:
    """Smallest window scale per feature: a share of the series' own spread.

    Parameters
    ----------
    values : np.ndarray of shape (n_timepoints, n_features)
        A whole series, NaN where missing.
    share : float
        Share of the series' standard deviation.

    Returns
    -------
    np.ndarray of shape (n_features,)
        :func:`~sktime_diffusion.engine.scaling.spread_floor` of the series as one
        window: ``max(share * std, 1e-6 * max(|mean|, 1))``, so a window that is flat
        while its series moves is scaled by the series' spread (no blow-up of the values
        after it), and a constant series keeps a tiny scale, so it is forecast as that
        constant.
    """
    windows = torch.tensor(
        values.T[None], dtype=torch.float64
    )  # a copy: data may be read-only
    floor = spread_floor(windows, ~torch.isnan(windows), share)
    return floor[0, :, 0].numpy()


def seasonal_period(index: pd.Index) -> int:
    """Seasonal period guessed from a time index's frequency (1 when unknown).

    Parameters
    ----------
    index : pd.Index
        Hourly data gives 24, daily 7, business-daily 5, weekly 52, monthly 12,
        quarterly 4.

    Returns
    -------
    int
    """
    freq = getattr(index, "freqstr", None)
    if not freq:
        return 1
    letters = "".join(ch for ch in freq if ch.isalpha())
    for code, period in _SEASONAL_PERIODS.items():
        if letters.startswith(code):
            return period
    return 1


def daily_period(index: pd.Index) -> int:
    """Points per day of a sub-daily time index (1 for anything else).

    The step is the index frequency or, for a ``DatetimeIndex`` without one (NAB's
    files, sensor logs with a few missing stamps), the median step between its
    timestamps. Hourly data gives 24, 5-minute data 288.

    Parameters
    ----------
    index : pd.Index

    Returns
    -------
    int
    """
    step = _typical_step(index)
    day = pd.Timedelta(days=1)
    if step is None or not pd.Timedelta(0) < step < day:
        return 1
    return int(day // step)


def _typical_step(index: pd.Index) -> pd.Timedelta | None:
    freq = getattr(index, "freq", None)
    if freq is not None:
        try:
            return pd.Timedelta(freq)
        except ValueError:  # calendar offsets (months, business days) have no length
            return None
    if not isinstance(index, pd.DatetimeIndex) or len(index) < 2:
        return None
    # in nanoseconds whatever the index's resolution
    steps = np.diff(index.values.astype("datetime64[ns]").astype(np.int64))
    steps = steps[steps > 0]
    return pd.Timedelta(int(np.median(steps)), unit="ns") if len(steps) else None


def default_window_length(index: pd.Index, longest: int, unknown: int = 32) -> int:
    """Window length of the windowed estimators when the user gives none.

    Parameters
    ----------
    index : pd.Index
        Time index of (one series of) the data; its frequency gives the period, and
        sub-daily data without a seasonal period from its frequency (minutes, seconds,
        or no frequency but timestamps) has a day as its period (:func:`daily_period`).
    longest : int
        Length of the longest series; the window is never longer.
    unknown : int
        Length when the index says nothing of a period.

    Returns
    -------
    int
        Two seasonal periods within [16, 96] (48 for hourly data, 96 for data every
        30 minutes or more often), ``unknown`` without a period, capped at ``longest``
        and at least 2.
    """
    period = seasonal_period(index)
    if period == 1:
        period = daily_period(index)
    wanted = unknown if period == 1 else min(max(2 * period, 16), 96)
    return int(max(2, min(wanted, longest)))


def tiling_starts(n_timepoints: int, length: int, stride: int | None = None) -> np.ndarray:
    """First rows of windows that cover a whole series.

    Windows start every ``stride`` rows (default ``length``: side by side) from the
    first row; the last one ends at the last row, so it may overlap the one before.
    Empty when the series is shorter than ``length``.
    """
    if n_timepoints < length:
        return np.empty(0, dtype=np.int64)
    step = length if stride is None else max(1, int(stride))
    starts = np.arange(0, n_timepoints - length + 1, step)
    if starts[-1] != n_timepoints - length:
        starts = np.append(starts, n_timepoints - length)
    return starts


def series_scaling(values: np.ndarray) -> WindowScaling:
    """Mean and standard deviation of each column of a whole series.

    Parameters
    ----------
    values : np.ndarray of shape (n_timepoints, n_features)
        NaN where missing.

    Returns
    -------
    WindowScaling
        With ``loc`` and ``scale`` of shape (1, n_features, 1), for windows of the
        series; the scale is at least ``1e-6 * max(|mean|, 1)`` (constant columns), and
        columns without an observed value get ``loc = 0``, ``scale = 1``.
    """
    windows = values.T[None]
    return window_scaling(windows, ~np.isnan(windows), scale_floor(values, share=1.0))


def window_scaling(
    values: np.ndarray, reference: np.ndarray, floor: np.ndarray | float = 0.0
) -> WindowScaling:
    """Mean and standard deviation of each window's reference entries.

    The engine's rule, :func:`~sktime_diffusion.engine.scaling.given_entry_scaling`,
    on numpy arrays.

    Parameters
    ----------
    values : np.ndarray of shape (n_windows, n_features, length)
        With NaN where missing.
    reference : np.ndarray of shape (n_windows, n_features, length), bool
        Entries the statistics are computed on (e.g. the forecast context).
    floor : np.ndarray of shape (n_windows, n_features, 1) or (n_features,), or float
        Smallest scale (see :func:`scale_floor`); never below ``1e-6 * max(|loc|, 1)``.

    Returns
    -------
    WindowScaling
        Features without a usable reference entry get ``loc = 0`` and ``scale = 1``.
    """
    # copies: torch.from_numpy warns on read-only arrays (views of a caller's frame)
    windows = torch.tensor(values, dtype=torch.float64)
    usable = torch.tensor(reference, dtype=torch.bool) & ~torch.isnan(windows)
    floor = np.asarray(floor, dtype=np.float64)
    if floor.ndim == 1:
        floor = floor[None, :, None]
    loc, scale = given_entry_scaling(windows, usable, torch.tensor(floor))
    return WindowScaling(loc=loc.numpy(), scale=scale.numpy())


#: smallest eigenvalue of the columns' correlation matrix that whitening divides by,
#: relative to the largest (columns that are nearly copies of each other)
WHITENING_EIGENVALUE_FLOOR = 1e-6


@dataclass
class ColumnWhitening(_SeriesUnits):
    """Per-column standardising, then a rotation that decorrelates the columns.

    Each time step's vector of columns ``x`` becomes ``rotation @ ((x - loc) / scale)``
    (ZCA whitening: ``rotation`` is the inverse symmetric square root of the standardised
    columns' correlation matrix), so the columns the model sees have unit variance and
    no correlation at lag 0. A missing entry makes the whole time step missing, since
    every whitened column mixes all of the step's columns.

    Attributes
    ----------
    columns : WindowScaling
        The per-column standardising, ``loc`` and ``scale`` of shape (1, n_features, 1).
    rotation, inverse : np.ndarray of shape (n_features, n_features)
        The whitening matrix and its inverse (symmetric).
    """

    columns: WindowScaling
    rotation: np.ndarray
    inverse: np.ndarray

    def apply(self, values: np.ndarray) -> np.ndarray:
        """Whiten windows of shape (n_windows, n_features, length)."""
        return np.einsum("gf,nfl->ngl", self.rotation, self.columns.apply(values))

    def invert(self, values: np.ndarray, in_place: bool = False) -> np.ndarray:
        """Undo :meth:`apply`; extra middle axes (samples) broadcast.

        Parameters
        ----------
        values : np.ndarray of shape (n_windows, ..., n_features, length)
        in_place : bool
            Also write the result into ``values`` (float64, writeable), for the
            callers of :meth:`WindowScaling.invert`; unlike there, the rotation
            still makes one temporary of the same size.
        """
        restored = np.einsum("gf,...fl->...gl", self.inverse, values)
        restored = self.columns.invert(restored, in_place=True)
        if not in_place:
            return restored
        values[...] = restored
        return values


def column_whitening(values: np.ndarray) -> ColumnWhitening:
    """The whitening of the columns of a fully observed series (or stacked panel).

    Parameters
    ----------
    values : np.ndarray of shape (n_timepoints, n_features)
        No NaN.

    Returns
    -------
    ColumnWhitening
        Standardised by :func:`series_scaling`; eigenvalues of the correlation matrix
        below ``WHITENING_EIGENVALUE_FLOOR`` times the largest are raised to that floor,
        so columns that copy each other (or a constant column) do not blow up.
    """
    if np.isnan(values).any():
        raise ValueError("column_whitening needs fully observed values")
    columns = series_scaling(values)
    standardised = columns.apply_to_series(values)  # (n_features, n_timepoints)
    correlation = standardised @ standardised.T / max(standardised.shape[1], 1)
    eigenvalues, vectors = np.linalg.eigh(correlation)
    largest = max(float(eigenvalues.max()), np.finfo(np.float64).tiny)
    eigenvalues = np.maximum(eigenvalues, WHITENING_EIGENVALUE_FLOOR * largest)
    return ColumnWhitening(
        columns=columns,
        rotation=(vectors / np.sqrt(eigenvalues)) @ vectors.T,
        inverse=(vectors * np.sqrt(eigenvalues)) @ vectors.T,
    )
