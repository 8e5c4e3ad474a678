"""Loaders for standard public time-series files read from a local path.

Nothing is downloaded: each loader reads the file in its usual public format from a
folder given as ``data_dir``, or from the environment variable
``SKTIME_DIFFUSION_DATA`` (the folder that holds ``ETT/``, ``NAB/``, ...). Outputs are
sktime data: ``pd.DataFrame`` with a ``PeriodIndex`` or ``DatetimeIndex``.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd

__all__ = [
    "data_path",
    "load_ett",
    "load_ili",
    "load_nab",
    "load_nab_labels",
    "load_stock_windows",
    "make_correlated_series",
    "make_sines",
    "nab_point_labels",
]

ENVIRONMENT_VARIABLE = "SKTIME_DIFFUSION_DATA"


def data_path(relative: str, data_dir: str | os.PathLike | None = None) -> Path:
    """Locate ``relative`` under ``data_dir`` or ``$SKTIME_DIFFUSION_DATA``.

    Raises
    ------
    FileNotFoundError
        Saying where it looked and how to point at the data.
    """
    base = data_dir if data_dir is not None else os.environ.get(ENVIRONMENT_VARIABLE)
    if base is None:
        raise FileNotFoundError(
            f"no data folder given: pass data_dir or set {ENVIRONMENT_VARIABLE} to the "
            f"folder that holds {relative}"
        )
    path = Path(base) / relative
    if not path.exists():
        raise FileNotFoundError(f"{path} does not exist")
    return path


def load_ett(
    name: str = "ETTh1", data_dir: str | os.PathLike | None = None
) -> pd.DataFrame:
    """Read an ETT file (Zhou et al., 2021) as a frame with a ``PeriodIndex``.

    Parameters
    ----------
    name : {"ETTh1", "ETTh2", "ETTm1", "ETTm2"}
        File name without ``.csv``; read from ``<data_dir>/ETT/<name>.csv``.
    data_dir : path or None
        Folder holding ``ETT/``; None uses ``$SKTIME_DIFFUSION_DATA``.

    Returns
    -------
    pd.DataFrame
        Columns HUFL, HULL, MUFL, MULL, LUFL, LULL, OT; hourly (``h``) or 15-minute
        (``m``) ``PeriodIndex`` named ``date``.
    """
    frame = pd.read_csv(data_path(f"ETT/{name}.csv", data_dir), parse_dates=["date"])
    freq = "h" if name.startswith("ETTh") else "15min"
    frame.index = pd.PeriodIndex(frame.pop("date"), freq=freq, name="date")
    return frame.astype(np.float64)


def load_ili(data_dir: str | os.PathLike | None = None) -> pd.DataFrame:
    """Read the weekly influenza-like-illness file of the long-term forecasting papers.

    The file is ``national_illness.csv`` as published with Autoformer (Wu et al., 2021):
    US CDC FluView figures, weekly from 2002 to 2020.

    Parameters
    ----------
    data_dir : path or None
        Folder holding ``ltsf_weather_ili/national_illness.csv``; None uses
        ``$SKTIME_DIFFUSION_DATA``.

    Returns
    -------
    pd.DataFrame
        The file's seven numeric columns (``% WEIGHTED ILI``, ..., ``OT``) with a weekly
        ``PeriodIndex`` named ``date`` (weeks ending on the file's weekday).
    """
    frame = pd.read_csv(
        data_path("ltsf_weather_ili/national_illness.csv", data_dir),
        parse_dates=["date"],
    )
    dates = pd.DatetimeIndex(frame.pop("date"))
    freq = f"W-{dates[0].day_name()[:3].upper()}"
    frame.index = pd.PeriodIndex(dates, freq=freq, name="date")
    return frame.astype(np.float64)


def load_nab(name: str, data_dir: str | os.PathLike | None = None) -> pd.Series:
    """Read one series of the Numenta Anomaly Benchmark (Lavin and Ahmad, 2015).

    Parameters
    ----------
    name : str
        Path of the file inside NAB's ``data/`` folder, as NAB's label files name it,
        e.g. ``"realKnownCause/nyc_taxi.csv"``.
    data_dir : path or None
        Folder holding ``NAB/`` (with ``NAB/data/`` and ``NAB/labels/``); None uses
        ``$SKTIME_DIFFUSION_DATA``.

    Returns
    -------
    pd.Series
        Float values named ``value`` with a ``DatetimeIndex`` named ``timestamp``
        (regular for most files; its ``freq`` is set when pandas can infer it).
    """
    frame = pd.read_csv(
        data_path(f"NAB/data/{name}", data_dir),
        parse_dates=["timestamp"],
        index_col="timestamp",
    )
    values = frame["value"].astype(np.float64)
    freq = pd.infer_freq(values.index) if len(values) > 2 else None
    if freq is not None:
        values = values.asfreq(freq)
    return values


def load_nab_labels(
    name: str, data_dir: str | os.PathLike | None = None
) -> list[tuple[pd.Timestamp, pd.Timestamp]]:
    """NAB's anomaly windows of one series (``labels/combined_windows.json``).

    Parameters
    ----------
    name : str
        As for :func:`load_nab`.
    data_dir : path or None

    Returns
    -------
    list of (start, end) timestamps
        Both ends included, as NAB scores them.
    """
    import json

    windows = json.loads(
        data_path("NAB/labels/combined_windows.json", data_dir).read_text()
    )
    if name not in windows:
        raise KeyError(f"NAB has no label windows for {name!r}")
    return [(pd.Timestamp(start), pd.Timestamp(end)) for start, end in windows[name]]


def nab_point_labels(index: pd.Index, windows) -> np.ndarray:
    """Point labels from NAB's anomaly windows.

    Parameters
    ----------
    index : pd.DatetimeIndex
        Timestamps of the points to label.
    windows : sequence of (start, end)
        As returned by :func:`load_nab_labels`; both ends included.

    Returns
    -------
    np.ndarray of bool, shape (len(index),)
        True for points inside a window.
    """
    labels = np.zeros(len(index), dtype=bool)
    for start, end in windows:
        labels |= (index >= start) & (index <= end)
    return labels


def load_stock_windows(path: str | os.PathLike, length: int = 24) -> np.ndarray:
    """TimeGAN's stock data as min-max scaled windows, as TimeGAN's loader makes them.

    Parameters
    ----------
    path : path
        TimeGAN's ``stock_data.csv`` (Google daily prices, newest day first).
    length : int
        Steps per window; windows start at every day.

    Returns
    -------
    np.ndarray of shape (n_windows, length, n_columns)
        In time order, each column scaled to [0, 1] over the whole file.
    """
    values = pd.read_csv(path).to_numpy(np.float64)[::-1]
    low, high = values.min(axis=0), values.max(axis=0)
    scaled = (values - low) / (high - low + 1e-7)
    windows = np.lib.stride_tricks.sliding_window_view(scaled, length, axis=0)
    return windows.transpose(0, 2, 1)


def make_sines(
    n_series: int,
    length: int,
    n_features: int = 1,
    noise: float = 0.0,
    random_state: int | None = None,
) -> pd.DataFrame:
    """Sine waves with random frequency and phase per series and feature (as in TimeGAN).

    Parameters
    ----------
    n_series, length, n_features : int
    noise : float
        Standard deviation of added Gaussian noise.
    random_state : int or None

    Returns
    -------
    pd.DataFrame
        Panel in sktime's ``pd-multiindex`` format, index ``(instance, time)``.
    """
    rng = np.random.default_rng(random_state)
    frequency = rng.uniform(0, 0.1, size=(n_series, 1, n_features))
    phase = rng.uniform(0, 0.1, size=(n_series, 1, n_features))
    time = np.arange(length)[None, :, None]
    values = np.sin(frequency * time + phase) + noise * rng.normal(
        size=(n_series, length, n_features)
    )
    index = pd.MultiIndex.from_product(
        [range(n_series), range(length)], names=["instance", "time"]
    )
    columns = [f"feature_{i}" for i in range(n_features)]
    return pd.DataFrame(values.reshape(-1, n_features), index=index, columns=columns)


def make_correlated_series(
    n_timepoints: int,
    n_features: int = 32,
    n_factors: int = 4,
    period: int = 24,
    random_state: int | None = None,
) -> pd.DataFrame:
    """A wide series whose features share a few latent factors, with known correlation.

    Each feature is ``loadings @ factors + own noise``: the first factor is a sine of
    ``period`` steps with a random phase, the others are stationary AR(1) processes
    (coefficients spread over [0.7, 0.98]), all of unit variance; each feature adds its
    own AR(1) noise (coefficient 0.5, variance 0.3). Loadings are standard normal. So
    features move together (cross-correlation), each is smooth (autocorrelation) and
    none is constant.

    Parameters
    ----------
    n_timepoints : int
        Steps of the series.
    n_features : int, default=32
        Columns.
    n_factors : int, default=4
        Latent factors, >= 1.
    period : int, default=24
        Period of the first factor.
    random_state : int or None
        Seeds the loadings, phase and innovations.

    Returns
    -------
    pd.DataFrame of shape (n_timepoints, n_features)
        ``RangeIndex``; columns ``feature_0``, ... . ``frame.attrs["correlation"]`` is
        the features' exact (population) correlation matrix, shape (n_features,
        n_features).

    Examples
    --------
    >>> from sktime_diffusion.datasets import make_correlated_series
    >>> frame = make_correlated_series(2_000, n_features=3, random_state=0)
    >>> frame.shape, frame.attrs["correlation"].shape
    ((2000, 3), (3, 3))
    """
    rng = np.random.default_rng(random_state)
    loadings = rng.normal(size=(n_features, n_factors))
    time = np.arange(n_timepoints)
    factors = np.empty((n_timepoints, n_factors))
    factors[:, 0] = np.sqrt(2) * np.sin(2 * np.pi * time / period + rng.uniform(0, 6.3))
    coefficients = np.linspace(0.98, 0.7, max(n_factors - 1, 1))[: n_factors - 1]
    for column, coefficient in enumerate(coefficients, start=1):
        factors[:, column] = _unit_variance_ar1(coefficient, n_timepoints, rng)
    noise_variance = 0.3
    noise = np.sqrt(noise_variance) * np.stack(
        [_unit_variance_ar1(0.5, n_timepoints, rng) for _ in range(n_features)], axis=1
    )
    values = factors @ loadings.T + noise
    covariance = loadings @ loadings.T + noise_variance * np.eye(n_features)
    spread = np.sqrt(np.diag(covariance))
    frame = pd.DataFrame(values, columns=[f"feature_{i}" for i in range(n_features)])
    frame.attrs["correlation"] = covariance / np.outer(spread, spread)
    return frame


def _unit_variance_ar1(
    coefficient: float, n_timepoints: int, rng: np.random.Generator
) -> np.ndarray:
    """A stationary AR(1) path of unit variance, started from its stationary law."""
    innovations = rng.normal(size=n_timepoints) * np.sqrt(1 - coefficient**2)
    path = np.empty(n_timepoints)
    path[0] = rng.normal()
    for step in range(1, n_timepoints):
        path[step] = coefficient * path[step - 1] + innovations[step]
    return path
