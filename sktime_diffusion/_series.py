"""sktime data -> checked series: the one place that checks what the estimators are given.

The estimators see pandas data in sktime's formats (``pd.Series``, ``pd.DataFrame``,
``pd-multiindex`` panels and hierarchical frames). This module checks a frame (numeric
columns, a sorted time index without duplicates, a regular frequency, observed columns)
and splits a panel into its series, one :class:`InstanceSeries` per instance, in float64
with NaN where missing. Cutting them into windows is the job of
:mod:`sktime_diffusion._windows`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

__all__ = [
    "InstanceSeries",
    "as_frame",
    "check_columns",
    "check_every_column_observed",
    "check_frame",
    "check_time_index",
    "split_series",
    "time_frequency",
]


@dataclass
class InstanceSeries:
    """One series of a (possibly panel) data set.

    Attributes
    ----------
    key : tuple
        Instance index values (empty for a single series).
    index : pd.Index
        Time index of the series.
    values : np.ndarray of shape (n_timepoints, n_columns), float64
        Values with NaN where missing.
    rows : np.ndarray of int
        Positions of the series' rows in the data it was split from.
    """

    key: tuple
    index: pd.Index
    values: np.ndarray
    rows: np.ndarray


def as_frame(data: pd.Series | pd.DataFrame) -> pd.DataFrame:
    """A DataFrame view of ``data`` (a Series becomes one column)."""
    return data.to_frame() if isinstance(data, pd.Series) else data


def check_frame(
    data: pd.Series | pd.DataFrame,
    owner: str,
    name: str = "y",
    allow_missing: bool = True,
    require_observed: bool = False,
    check_index: bool = True,
    regular: bool = False,
) -> pd.DataFrame:
    """Check that ``data`` is numeric, finite where present, and not empty.

    Parameters
    ----------
    data : pd.Series or pd.DataFrame
        One series, or a panel with a row MultiIndex (the last level is time).
    owner : str
        Estimator name for messages.
    name : str
        Argument name for messages (``"y"``, ``"X"``).
    allow_missing : bool
        Whether NaN is allowed.
    require_observed : bool
        Whether every column of every series needs an observed value.
    check_index : bool
        Whether the time index of every series must be sorted and free of duplicates
        (see :func:`check_time_index`).
    regular : bool
        Whether a ``DatetimeIndex`` must have a frequency, given or inferable, one for
        all series (see :func:`time_frequency`).

    Returns
    -------
    pd.DataFrame
        ``data`` itself (a Series as one column); bool and int columns count as
        numeric, and the estimators read them as float64.

    Raises
    ------
    TypeError
        Naming non-numeric (object, text, category, date) columns.
    ValueError
        Naming the offending columns, series or time points.
    """
    frame = as_frame(data)
    if frame.shape[0] == 0 or frame.shape[1] == 0:
        raise ValueError(f"{owner} got an empty {name}")
    non_numeric = [
        str(column)
        for column, dtype in frame.dtypes.items()
        if not (pd.api.types.is_numeric_dtype(dtype) or pd.api.types.is_bool_dtype(dtype))
    ]
    if non_numeric:
        raise TypeError(
            f"{owner} needs numeric {name}; non-numeric column(s): {', '.join(non_numeric)}"
        )
    values = frame.to_numpy(dtype=np.float64, na_value=np.nan)
    infinite = np.isinf(values).any(axis=0)
    if infinite.any():
        columns = ", ".join(str(c) for c in frame.columns[infinite])
        raise ValueError(f"{owner} got inf in {name}, column(s): {columns}")
    if not allow_missing and np.isnan(values).any():
        columns = ", ".join(str(c) for c in frame.columns[np.isnan(values).any(axis=0)])
        raise ValueError(f"{owner} got NaN in {name}, column(s): {columns}")
    if check_index or regular or require_observed:
        series = _group_series(frame.index)
        if check_index:
            check_time_index(owner, name, series)
        if regular:
            _regular_frequency(owner, name, series)
        if require_observed:
            _check_observed(owner, series, values, frame.columns)
    return frame


def _series_label(key: tuple) -> str:
    """`` of series 'a'`` for a panel's series, empty for a single series."""
    if key == ():
        return ""
    return f" of series {key if len(key) > 1 else key[0]!r}"


@dataclass
class _SeriesRows:
    """Where the series of a (panel) index lie, for checks without a loop per series.

    Attributes
    ----------
    keys : list of tuple
        Instance keys in order of first appearance (``[()]`` for a single series).
    order : np.ndarray of int
        Row positions, series after series, each series in its row order.
    bounds : np.ndarray of int
        Series ``i`` is ``order[bounds[i]:bounds[i + 1]]``.
    times : pd.Index
        The time points of the rows in ``order``.
    """

    keys: list[tuple]
    order: np.ndarray
    bounds: np.ndarray
    times: pd.Index

    @property
    def rows(self) -> list[np.ndarray]:
        """Row positions of each series."""
        return [
            self.order[a:b] for a, b in zip(self.bounds[:-1], self.bounds[1:], strict=True)
        ]

    def series_times(self, number: int) -> pd.Index:
        """Time index of series ``number`` (a single series keeps its ``freq``)."""
        return self.times[self.bounds[number] : self.bounds[number + 1]]

    def number_at(self, position: np.ndarray | int) -> np.ndarray | int:
        """Number of the series holding ``position`` (a position in ``order``)."""
        return np.searchsorted(self.bounds, position, side="right") - 1

    def next_in_same_series(self) -> np.ndarray:
        """Bool of shape (n_rows - 1,): entries ``j`` and ``j + 1`` share a series."""
        same = np.ones(max(len(self.order) - 1, 0), dtype=bool)
        same[self.bounds[1:-1] - 1] = False
        return same


def _group_series(index: pd.Index) -> _SeriesRows:
    """The series of ``index``: all levels of a row MultiIndex but the last name one."""
    if not isinstance(index, pd.MultiIndex):
        return _SeriesRows([()], np.arange(len(index)), np.array([0, len(index)]), index)
    # the instance levels' integer codes name a series; numbered by first appearance
    level_codes = [np.asarray(c, dtype=np.int64) for c in index.codes[:-1]]
    sizes = [len(level) + 1 for level in index.levels[:-1]]  # + 1: code -1 is NaN
    combined = np.ravel_multi_index([c + 1 for c in level_codes], sizes)
    codes, uniques = pd.factorize(combined, sort=False)
    order = np.argsort(codes, kind="stable")
    bounds = np.searchsorted(codes[order], np.arange(len(uniques) + 1))
    instances = index.droplevel(-1)[order[bounds[:-1]]].tolist()
    keys = [key if isinstance(key, tuple) else (key,) for key in instances]
    return _SeriesRows(keys, order, bounds, index.get_level_values(-1)[order])


def _wall_time(times: pd.Index) -> pd.Index:
    """Time-zone aware stamps as their local wall time (steps as a calendar counts)."""
    return times.tz_localize(None) if getattr(times, "tz", None) is not None else times


def _comparable(times: pd.Index) -> np.ndarray | None:
    """Time points as numbers that order as they do (None for other index types)."""
    if isinstance(times, pd.DatetimeIndex | pd.PeriodIndex):
        return _wall_time(times).asi8
    if pd.api.types.is_numeric_dtype(times.dtype):
        return times.to_numpy(np.float64)
    return None


def check_time_index(owner: str, name: str, series: _SeriesRows) -> None:
    """Raise ``ValueError`` if a series' time points are duplicated or not sorted.

    Two values at one time point, or rows out of time order, make every window cut
    by position wrong; sktime refuses unsorted data, and duplicates are refused here.

    Parameters
    ----------
    owner, name : str
        Estimator and argument names for messages.
    series : _SeriesRows
        The series of the data (:func:`_group_series`).
    """
    numbers = _comparable(series.times)
    if numbers is None:  # an index pandas cannot order numerically: check each series
        problems = [
            (i, times.has_duplicates, not times.is_monotonic_increasing)
            for i, times in ((i, series.series_times(i)) for i in range(len(series.keys)))
        ]
        duplicated = [i for i, dup, _ in problems if dup]
        unsorted = [i for i, _, bad in problems if bad]
    else:
        step = np.diff(numbers)
        within = series.next_in_same_series()
        duplicated = series.number_at(np.flatnonzero(within & (step == 0))).tolist()
        unsorted = series.number_at(np.flatnonzero(within & (step < 0))).tolist()
    if duplicated:
        times = series.series_times(duplicated[0])
        labels = ", ".join(str(t) for t in times[times.duplicated()].unique()[:5])
        raise ValueError(
            f"{owner}: {name}{_series_label(series.keys[duplicated[0]])} has duplicate "
            f"time points ({labels}); keep one row per time point (e.g. aggregate with "
            "groupby(level=-1).mean())"
        )
    if unsorted:
        raise ValueError(
            f"{owner}: the time index of {name}{_series_label(series.keys[unsorted[0]])} "
            f"is not sorted; sort it first ({name}.sort_index())"
        )


def time_frequency(
    data: pd.Series | pd.DataFrame, owner: str = "", name: str = "y"
) -> pd.DateOffset | None:
    """The frequency of the time index of every series of ``data``.

    Parameters
    ----------
    data : pd.Series or pd.DataFrame
        One series or a panel (row MultiIndex, last level time), sorted in time.
    owner, name : str
        Estimator and argument names for messages.

    Returns
    -------
    pd.DateOffset or None
        The ``freq`` of a ``PeriodIndex`` or ``DatetimeIndex``, inferred from the
        longest series where the index does not carry it (a panel's time level never
        does); None for integer indices and series too short to tell.

    Raises
    ------
    ValueError
        If a ``DatetimeIndex`` series is not regular at that frequency (irregular
        or missing time points, another frequency, another phase).
    """
    return _regular_frequency(owner, name, _group_series(as_frame(data).index))


def _regular_frequency(owner: str, name: str, series: _SeriesRows) -> pd.DateOffset | None:
    times = series.times
    if isinstance(times, pd.PeriodIndex):
        return times.freq
    if not isinstance(times, pd.DatetimeIndex):
        return None
    if len(series.keys) == 1 and times.freq is not None:
        return times.freq
    lengths = np.diff(series.bounds)
    longest = int(np.argmax(lengths))
    if lengths[longest] < 3:
        return None
    inferred = pd.infer_freq(_wall_time(series.series_times(longest)))
    if inferred is not None:
        offset = pd.tseries.frequencies.to_offset(inferred)
        off_grid = _off_grid(series, offset)
        if not off_grid.any():
            return offset
        bad, detail = (
            int(series.number_at(np.flatnonzero(off_grid)[0])),
            (f" at the frequency {offset.freqstr} of the longest series"),
        )
    else:
        bad, detail = longest, ""
    raise ValueError(
        f"{owner}: the time points of {name}{_series_label(series.keys[bad])} are not "
        f"regular{detail}, so no frequency places the forecast; make them regular "
        f"with missing steps as NaN (e.g. {name}.asfreq('D') for daily data)"
    )


def _off_grid(series: _SeriesRows, offset: pd.DateOffset) -> np.ndarray:
    """Bool per row (in ``order``): not one ``offset`` step after the previous row.

    All series lie on one grid, as one ``fh`` places the forecast of each: fixed
    steps (days, hours, ...) count from the earliest time point, calendar steps
    (months, business days, ...) lie on the calendar's anchors.
    """
    times = _wall_time(series.times)
    if isinstance(offset, pd.offsets.Tick):
        numbers = times.asi8
        elapsed = numbers - numbers.min()
        step = pd.Timedelta(offset).value
        on_grid = elapsed % step == 0
        position = np.where(on_grid, elapsed // step, -1)
    else:
        grid = pd.date_range(times.min(), times.max(), freq=offset)
        position = grid.get_indexer(times)
        on_grid = position >= 0
    consecutive = np.ones(len(times), dtype=bool)
    consecutive[1:] = ~series.next_in_same_series() | (np.diff(position) == 1)
    return ~on_grid | ~consecutive


def _check_observed(
    owner: str, series: _SeriesRows, values: np.ndarray, columns: pd.Index
) -> None:
    """Raise ``ValueError`` naming a column (and series) without an observed value."""
    observed = ~np.isnan(values[series.order])
    any_observed = np.logical_or.reduceat(observed, series.bounds[:-1], axis=0)
    empty = np.flatnonzero(~any_observed.all(axis=1))
    if len(empty):
        number = int(empty[0])
        rows = series.rows[number]
        instance = InstanceSeries(
            series.keys[number], series.series_times(number), values[rows], rows
        )
        check_every_column_observed(owner, [instance], columns)


def check_columns(
    owner: str, fitted: pd.Index, frame: pd.DataFrame, name: str = "X"
) -> None:
    """Raise ``ValueError`` unless ``frame`` has the columns seen in ``fit``, in order."""
    if list(frame.columns) != list(fitted):
        raise ValueError(
            f"{owner} was fitted on columns {list(fitted)}, "
            f"got {name} with columns {list(frame.columns)}"
        )


def check_every_column_observed(
    owner: str, instances: Sequence[InstanceSeries], columns: pd.Index
) -> None:
    """Raise ``ValueError`` naming a column (and series) without any observed value."""
    for instance in instances:
        empty = np.isnan(instance.values).all(axis=0)
        if empty.any():
            names = ", ".join(repr(c) for c in columns[empty])
            series = _series_label(instance.key)
            raise ValueError(
                f"{owner}: column(s) {names}{series} have no observed value; there is "
                "nothing to learn or fill them from"
            )


def split_series(data: pd.Series | pd.DataFrame) -> list[InstanceSeries]:
    """Split single-series, panel or hierarchical data into its series.

    Parameters
    ----------
    data : pd.Series or pd.DataFrame
        A row MultiIndex means a panel: all levels but the last name the instance.

    Returns
    -------
    list of InstanceSeries
        In order of first appearance.
    """
    frame = as_frame(data)
    values = frame.to_numpy(np.float64, na_value=np.nan)
    series = _group_series(frame.index)
    return [
        InstanceSeries(key, series.series_times(number), values[rows], rows)
        for number, (key, rows) in enumerate(zip(series.keys, series.rows, strict=True))
    ]
