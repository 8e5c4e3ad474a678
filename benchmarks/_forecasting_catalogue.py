"""The real series of the forecasting suite: one record per series, all read locally.

Every loader reads a file on this machine and downloads nothing: sktime's bundled data
(``sktime/datasets/data``), statsmodels' and pmdarima's bundled data sets (files or
arrays inside those packages) and the shared data folder (``--data-dir`` or
``$SKTIME_DIFFUSION_DATA``, read through :mod:`sktime_diffusion.datasets` where it has a
loader). :func:`load_series` makes each series regular the same way (see there); the
horizon and the seasonal period follow from the frequency (:data:`FREQUENCIES`).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from sktime_diffusion.datasets import data_path, load_ett, load_ili, load_nab

#: longest series the suite keeps (its last points; weather and ETTm1 are longer)
MAX_LENGTH = 20_000
#: at most this share of a series is one horizon (3 folds: 3 / 5 of it is test data)
MAX_HORIZON_SHARE = 5

#: frequency label: (horizon, seasonal period)
FREQUENCIES = {
    "annual": (6, 1),
    "quarterly": (8, 4),
    "monthly": (18, 12),
    "weekly": (13, 52),
    "daily": (14, 7),
    "hourly": (48, 24),
    "30-minute": (48, 48),
    "15-minute": (96, 96),
    "10-minute": (96, 144),
}


@dataclass(frozen=True)
class Entry:
    """One series of the suite.

    Attributes
    ----------
    name : str
    frequency : str
        A key of :data:`FREQUENCIES`.
    source : str
        Where the data come from and under which terms.
    load : callable
        ``load(data_dir) -> (y, X)``: ``y`` a Series or a DataFrame (several columns
        forecast jointly), ``X`` a DataFrame of exogenous data on the same index or
        None.
    sp : int or None
        Seasonal period; None takes the frequency's (1 for a series without a
        calendar period).
    note : str
        What was done to the raw data, if anything.
    """

    name: str
    frequency: str
    source: str
    load: Callable
    sp: int | None = None
    note: str = ""

    @property
    def multivariate(self) -> bool:
        """Whether several columns are forecast jointly (known after loading)."""
        return self.name in MULTIVARIATE

    @property
    def exogenous(self) -> bool:
        """Whether the series comes with exogenous data ``X``."""
        return self.name in EXOGENOUS


# -- loaders ------------------------------------------------------------------------


def _sktime(name: str, column: str | None = None, exogenous: bool = False):
    """A loader of an ``sktime.datasets`` function reading its bundled file."""

    def load(data_dir):
        import sktime.datasets

        data = getattr(sktime.datasets, name)()
        y, X = data if isinstance(data, tuple) else (data, None)
        if column is not None:
            y = y[column]
        return y, (X if exogenous else None)

    return load


def _uschange(column: str | None = None, exogenous: bool = False):
    """fpp2's ``uschange`` (sktime's file has no dates; fpp2: quarterly 1970Q1-2016Q3)."""

    def load(data_dir):
        from sktime.datasets import load_uschange

        y, X = load_uschange()
        frame = pd.concat([y, X], axis=1)
        frame.index = pd.period_range("1970Q1", periods=len(frame), freq="Q")
        if exogenous:
            return frame[column], frame.drop(columns=column)
        return (frame if column is None else frame[column]), None

    return load


def _seatbelts(data_dir):
    """sktime's bundled ``seatbelts.csv``: UK drivers killed or seriously injured."""
    import sktime.datasets

    path = os.path.join(os.path.dirname(sktime.datasets.__file__), "data", "seatbelts")
    frame = pd.read_csv(os.path.join(path, "seatbelts.csv"), index_col=0)
    y = frame["KSI"].astype(np.float64)
    y.index = pd.PeriodIndex(pd.DatetimeIndex(frame.index), freq="M")
    return y, None


def _solar(data_dir):
    """sktime's stored sample of GB solar generation (``api_version=None``: no request)."""
    from sktime.datasets import load_solar

    return load_solar(api_version=None), None


def _statsmodels(name: str, column: str, start: str, freq: str, drop=()):
    """A loader of a statsmodels data set (a csv inside the package) with a new index."""

    def load(data_dir):
        import importlib

        module = importlib.import_module(f"statsmodels.datasets.{name}")
        frame = module.load_pandas().data.drop(columns=list(drop))
        y = frame[column].astype(np.float64) if isinstance(column, str) else frame[column]
        y.index = pd.period_range(start, periods=len(frame), freq=freq)
        return y, None

    return load


def _elnino(data_dir):
    """statsmodels' El Nino sea surface temperatures: a year per row -> monthly."""
    from statsmodels.datasets import elnino

    frame = elnino.load_pandas().data.set_index("YEAR")
    y = pd.Series(frame.to_numpy(np.float64).ravel(), name="temperature")
    y.index = pd.period_range(f"{int(frame.index[0])}-01", periods=len(y), freq="M")
    return y, None


def _dated(name: str, freq: str):
    """statsmodels' data sets that carry a DatetimeIndex (co2, elec_equip, danish)."""

    def load(data_dir):
        import importlib

        module = importlib.import_module(f"statsmodels.datasets.{name}")
        frame = module.load_pandas().data
        y = frame.iloc[:, 0].astype(np.float64)
        y.index = pd.PeriodIndex(pd.DatetimeIndex(frame.index), freq=freq)
        return y, None

    return load


def _pmdarima(name: str, start: str | None, freq: str | None):
    """pmdarima's bundled arrays; ``start`` None keeps positions (no calendar)."""

    def load(data_dir):
        import pmdarima.datasets

        values = getattr(pmdarima.datasets, f"load_{name}")(as_series=False)
        y = pd.Series(np.asarray(values, dtype=np.float64), name=name)
        if start is not None:
            y.index = pd.period_range(start, periods=len(y), freq=freq)
        return y, None

    return load


def _taylor(data_dir):
    """Taylor's half-hourly electricity demand, England and Wales, from 5 June 2000."""
    import pmdarima.datasets

    y = pd.Series(pmdarima.datasets.load_taylor(as_series=False), name="demand")
    y.index = pd.date_range("2000-06-05", periods=len(y), freq="30min")
    return y.astype(np.float64), None


def _ett(name: str, column: str | None = None, exogenous: bool = False, last=None):
    def load(data_dir):
        frame = load_ett(name, data_dir)
        if last is not None:
            frame = frame.iloc[-last:]
        if exogenous:
            return frame[column], frame.drop(columns=column)
        return (frame if column is None else frame[column]), None

    return load


def _ili(column: str):
    def load(data_dir):
        return load_ili(data_dir)[column], None

    return load


def _exchange(column: int | None = None):
    """LSTNet's exchange rates (no dates in the file: positions, no calendar period)."""

    def load(data_dir):
        path = data_path("exchange_rate/exchange_rate.txt", data_dir)
        frame = pd.read_csv(path, header=None, dtype=np.float64)
        frame.columns = EXCHANGE_COLUMNS
        return (frame if column is None else frame[EXCHANGE_COLUMNS[column]]), None

    return load


EXCHANGE_COLUMNS = [
    "Australia",
    "Britain",
    "Canada",
    "Switzerland",
    "China",
    "Japan",
    "New Zealand",
    "Singapore",
]


def _weather(column: str):
    """The Jena weather file at 10 minutes (latin-1 header)."""

    def load(data_dir):
        path = data_path("ltsf_weather_ili/weather.csv", data_dir)
        frame = pd.read_csv(path, encoding="latin-1", parse_dates=["date"])
        y = frame[column].astype(np.float64)
        y.index = pd.DatetimeIndex(frame["date"], name="date")
        return y, None

    return load


def _nab(name: str):
    def load(data_dir):
        return load_nab(name, data_dir), None

    return load


# -- the catalogue ------------------------------------------------------------------

SKTIME = "sktime bundled data (sktime: BSD-3-Clause)"
STATSMODELS = "statsmodels bundled data (public domain, as statsmodels states)"
JMULTI = "statsmodels bundled data (no terms stated; JMulTi's e6 data)"
PMDARIMA = "pmdarima bundled data (pmdarima: MIT; from R's datasets/forecast/fpp)"
ETT = "shared data ETT/ (CC BY-ND 4.0, unmodified)"
SHARED = "shared data {} (no licence stated by the source repo)"
MACRO = "sktime load_macroeconomic = statsmodels macrodata (public domain, US data)"

CATALOGUE = [
    # annual
    Entry("lynx", "annual", SKTIME, _sktime("load_lynx")),
    Entry("nile", "annual", STATSMODELS, _statsmodels("nile", "volume", "1871", "Y")),
    Entry(
        "sunspots-annual",
        "annual",
        STATSMODELS,
        _statsmodels("sunspots", "SUNACTIVITY", "1700", "Y"),
    ),
    # quarterly
    Entry("uschange", "quarterly", SKTIME + "; fpp2 dates", _uschange()),
    Entry(
        "uschange-consumption-x",
        "quarterly",
        SKTIME + "; fpp2 dates",
        _uschange("Consumption", exogenous=True),
    ),
    Entry("uschange-income", "quarterly", SKTIME, _uschange("Income")),
    Entry("uschange-unemployment", "quarterly", SKTIME, _uschange("Unemployment")),
    *[
        Entry(f"macro-{column}", "quarterly", MACRO, _sktime("load_macroeconomic", column))
        for column in ("realgdp", "cpi", "unemp", "tbilrate", "infl")
    ],
    Entry("woolyrnq", "quarterly", PMDARIMA, _pmdarima("woolyrnq", "1965Q1", "Q")),
    Entry(
        "ausbeer",
        "quarterly",
        PMDARIMA,
        _pmdarima("ausbeer", "1956Q1", "Q"),
    ),
    Entry("austres", "quarterly", PMDARIMA, _pmdarima("austres", "1971Q2", "Q")),
    Entry("danish-lrm", "quarterly", STATSMODELS, _dated("danish_data", "Q")),
    Entry(
        "interest-inflation",
        "quarterly",
        JMULTI,
        _statsmodels("interest_inflation", ["Dp", "R"], "1972Q2", "Q"),
    ),
    # monthly
    Entry("airline", "monthly", SKTIME, _sktime("load_airline")),
    Entry("shampoo", "monthly", SKTIME, _sktime("load_shampoo_sales")),
    Entry("pbs", "monthly", SKTIME, _sktime("load_PBS_dataset")),
    Entry("seatbelts-ksi", "monthly", SKTIME, _seatbelts),
    Entry("wineind", "monthly", PMDARIMA, _pmdarima("wineind", "1980-01", "M")),
    Entry("elec-equip", "monthly", STATSMODELS, _dated("elec_equip", "M")),
    Entry("elnino", "monthly", STATSMODELS, _elnino),
    Entry("sunspots-monthly", "monthly", PMDARIMA, _pmdarima("sunspots", "1749-01", "M")),
    # weekly
    Entry(
        "co2",
        "weekly",
        STATSMODELS,
        _dated("co2", "W-SAT"),
    ),
    Entry(
        "ili-weighted",
        "weekly",
        SHARED.format("ltsf_weather_ili/; US CDC"),
        _ili("% WEIGHTED ILI"),
    ),
    Entry(
        "ili-total", "weekly", SHARED.format("ltsf_weather_ili/; US CDC"), _ili("ILITOTAL")
    ),
    # daily, without dates: positions, no calendar period
    Entry(
        "exchange-australia",
        "daily",
        SHARED.format("exchange_rate/"),
        _exchange(0),
        sp=1,
        note="no dates in the file: integer index",
    ),
    Entry(
        "exchange-singapore",
        "daily",
        SHARED.format("exchange_rate/"),
        _exchange(7),
        sp=1,
        note="no dates in the file: integer index",
    ),
    Entry(
        "exchange-rate",
        "daily",
        SHARED.format("exchange_rate/"),
        _exchange(),
        sp=1,
        note="8 currencies jointly; no dates in the file: integer index",
    ),
    # hourly
    Entry("etth1-ot", "hourly", ETT, _ett("ETTh1", "OT")),
    Entry("etth2-ot", "hourly", ETT, _ett("ETTh2", "OT")),
    Entry(
        "etth1",
        "hourly",
        ETT,
        _ett("ETTh1", last=2000),
        note="7 columns jointly, last 2,000 hours",
    ),
    Entry(
        "etth1-ot-x",
        "hourly",
        ETT,
        _ett("ETTh1", "OT", exogenous=True, last=2000),
        note="OT with the 6 load columns as X, last 2,000 hours",
    ),
    # 30-minute
    Entry("solar", "30-minute", SKTIME + "; Sheffield Solar PV_Live sample", _solar),
    Entry("taylor", "30-minute", PMDARIMA, _taylor),
    Entry(
        "nyc-taxi",
        "30-minute",
        "shared data NAB/ (MIT-style)",
        _nab("realKnownCause/nyc_taxi.csv"),
    ),
    # 15- and 10-minute
    Entry("ettm1-ot", "15-minute", ETT, _ett("ETTm1", "OT")),
    Entry(
        "weather-temperature",
        "10-minute",
        SHARED.format("ltsf_weather_ili/; MPI-BGC Jena"),
        _weather("T (degC)"),
    ),
    # no calendar
    Entry(
        "heartrate",
        "half-second",
        PMDARIMA + "; MIT-BIH",
        _pmdarima("heartrate", None, None),
        sp=1,
        note="no calendar: integer index",
    ),
]

MULTIVARIATE = {"uschange", "interest-inflation", "exchange-rate", "etth1"}
EXOGENOUS = {"uschange-consumption-x", "etth1-ot-x"}
#: the ``--quick`` subset: short and long, multivariate and exogenous
QUICK = [
    "airline",
    "lynx",
    "shampoo",
    "uschange",
    "uschange-consumption-x",
    "macro-cpi",
    "co2",
    "ili-weighted",
    "exchange-australia",
]
ENTRIES = {entry.name: entry for entry in CATALOGUE}


def horizon_and_sp(entry: Entry, n_timepoints: int) -> tuple[int, int]:
    """The frequency's horizon (at most a fifth of the series) and seasonal period."""
    horizon, sp = FREQUENCIES.get(entry.frequency, (10, 1))
    horizon = min(horizon, n_timepoints // MAX_HORIZON_SHARE)
    return horizon, (sp if entry.sp is None else entry.sp)


def load_series(entry: Entry, data_dir=None) -> tuple:
    """Load a series and make it regular for every peer, filling nothing.

    The last :data:`MAX_LENGTH` points are kept; a ``DatetimeIndex`` without ``freq``
    gets the one pandas infers (a series whose timestamps have none is refused); a
    series with missing values is cut to the stretch after its last missing value
    (of ``y`` or ``X``; missing values at the very end are dropped first), so the
    folds end on its last observed point.

    Returns
    -------
    y : pd.Series or pd.DataFrame
    X : pd.DataFrame or None
    note : str
        What was cut.

    Raises
    ------
    ValueError
        If the index cannot be made regular.
    """
    y, X = entry.load(data_dir)
    notes = []
    if len(y) > MAX_LENGTH:
        notes.append(f"last {MAX_LENGTH} of {len(y)} points")
        y = y.iloc[-MAX_LENGTH:]
    if isinstance(y.index, pd.DatetimeIndex) and y.index.freq is None:
        freq = pd.infer_freq(y.index)
        if freq is None:
            raise ValueError(f"{entry.name}: its timestamps have no regular frequency")
        y = y.asfreq(freq)
    if X is not None:
        X = X.loc[y.index]
    missing = _frame(y).isna().any(axis=1).to_numpy()
    if X is not None:
        missing |= X.isna().any(axis=1).to_numpy()
    if missing.any():
        # trailing gaps end the series early; then the stretch after the last gap
        end = int(np.flatnonzero(~missing)[-1]) + 1
        start = int(np.flatnonzero(missing[:end])[-1]) + 1 if missing[:end].any() else 0
        notes.append(f"{int(missing.sum())} missing: kept points {start}..{end - 1}")
        y = y.iloc[start:end]
        X = None if X is None else X.iloc[start:end]
    return y, X, "; ".join(notes)


def _frame(data) -> pd.DataFrame:
    return data.to_frame() if isinstance(data, pd.Series) else data
