"""Bad input for every estimator: each case works correctly or is refused clearly.

A matrix of the data users actually pass (random NaN patterns, empty columns, object,
bool, int, float32 and nullable columns, every kind of time index, unsorted and
duplicated timestamps, time zones, panels of unequal length, other columns at
predict) over the four estimators. For each case the test pins one of two outcomes:

- it works, and the output is right in kind: the forecast is indexed by the time
  points of ``fh`` and finite, the imputer keeps observed values bit for bit and fills
  every gap, the detector scores every observed time point, the generator returns
  finite series with the training columns; int, bool and nullable columns give the
  result of the same values as float64, float32 columns the float64 result within a
  small tolerance;
- or it raises a ``ValueError`` / ``TypeError`` whose message names the problem (and
  the estimator, when the check is ours), raised by our checks or sktime's own, never
  from inside torch, numpy or pandas.

In every case the caller's data is left as it was (values, index, frequency, dtypes).
"""

from __future__ import annotations

import copy
import re
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import pytest

from sktime_diffusion import (
    DiffusionAnomalyDetector,
    DiffusionForecaster,
    DiffusionGenerator,
    DiffusionImputer,
)

N_TIMEPOINTS = 40
FH = [1, 2, 3]

#: outcome of a case that must work
WORKS = None


# ====================================================================== data
def _frame(n: int = N_TIMEPOINTS, seed: int = 0, index: pd.Index | None = None):
    """Two weekly-seasonal columns on a daily index; ``a`` misses two values."""
    rng = np.random.default_rng(seed)
    t = np.arange(n)
    frame = pd.DataFrame(
        {
            "a": 10 + np.sin(2 * np.pi * t / 7) + 0.1 * rng.normal(size=n),
            "b": 5 + np.cos(2 * np.pi * t / 7) + 0.1 * rng.normal(size=n),
        },
        index=pd.date_range("2020-01-01", periods=n, freq="D") if index is None else index,
    )
    frame.iloc[[5, 17], 0] = np.nan
    return frame


def _random_nan(seed: int) -> Callable[[], pd.DataFrame]:
    def build() -> pd.DataFrame:
        frame = _frame()
        hidden = np.random.default_rng(100 + seed).random(frame.shape) < 0.25
        return frame.mask(hidden)

    return build


def _head_and_tail_missing() -> pd.DataFrame:
    frame = _frame()
    frame.iloc[:3] = np.nan
    frame.iloc[-3:] = np.nan
    return frame


def _column(make: Callable[[pd.Series], pd.Series]) -> Callable[[], pd.DataFrame]:
    def build() -> pd.DataFrame:
        frame = _frame()
        frame["b"] = make(frame["b"])
        return frame

    return build


def _index(make: Callable[[pd.DataFrame], pd.DataFrame]) -> Callable[[], pd.DataFrame]:
    return lambda: make(_frame())


def _without_freq(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.set_axis(pd.DatetimeIndex(list(frame.index)))


def _irregular(frame: pd.DataFrame) -> pd.DataFrame:
    steps = np.random.default_rng(4).integers(1, 4, len(frame))
    stamps = pd.Timestamp("2020-01-01") + pd.to_timedelta(np.cumsum(steps), unit="D")
    return frame.set_axis(pd.DatetimeIndex(stamps))


def _unsorted(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.iloc[np.random.default_rng(3).permutation(len(frame))]


def _duplicated(frame: pd.DataFrame) -> pd.DataFrame:
    stamps = list(frame.index)
    stamps[10] = stamps[9]
    return frame.set_axis(pd.DatetimeIndex(stamps))


def _panel(lengths: list[int]) -> Callable[[], pd.DataFrame]:
    def build() -> pd.DataFrame:
        parts = {f"s{i}": _frame(n, seed=i) for i, n in enumerate(lengths)}
        return pd.concat(parts, names=["instance", "time"])

    return build


@dataclass
class Case:
    """Data of one case, and the outcome per estimator.

    Attributes
    ----------
    build : callable
        Makes the data (fresh each call).
    outcome : None or str
        ``WORKS`` or a regular expression the error message must match.
    outcomes : dict
        Per-estimator exceptions to ``outcome``.
    error : exception type or tuple of them
        What a refusal raises: a type problem is a ``TypeError``.
    reference : callable or None
        Makes the float64 data that must give the same result.
    rtol : float
        Tolerance of that comparison (0: identical).
    """

    build: Callable[[], pd.DataFrame | pd.Series]
    outcome: str | None = WORKS
    outcomes: dict[str, str | None] = field(default_factory=dict)
    error: type | tuple[type, ...] = (ValueError, TypeError)
    reference: Callable[[], pd.DataFrame] | None = None
    rtol: float = 0.0


_EMPTY = r"'b'.*no observed value"
_OBJECT = r"numeric|categorical"

CASES = {
    "random_nan_0": Case(_random_nan(0)),
    "random_nan_1": Case(_random_nan(1)),
    "random_nan_2": Case(_random_nan(2)),
    "missing_head_and_tail": Case(_head_and_tail_missing),
    "all_nan_column": Case(_column(lambda b: b * np.nan), _EMPTY),
    "object_column_of_text": Case(
        _column(lambda b: b.map("{:.2f}".format)), _OBJECT, error=TypeError
    ),
    "object_column_of_numbers": Case(
        _column(lambda b: b.astype(object)), _OBJECT, error=TypeError
    ),
    "bool_column": Case(
        _column(lambda b: b > 5), reference=_column(lambda b: (b > 5).astype(float))
    ),
    "int_column": Case(
        _column(lambda b: (10 * b).round().astype(int)),
        reference=_column(lambda b: (10 * b).round()),
    ),
    "float32_column": Case(
        _column(lambda b: b.astype(np.float32)), reference=_frame, rtol=1e-3
    ),
    "nullable_float_column": Case(
        _column(lambda b: b.mask(b > 5.5).astype("Float64")),
        reference=_column(lambda b: b.mask(b > 5.5)),
    ),
    "range_index": Case(_index(lambda f: f.reset_index(drop=True))),
    "period_index": Case(
        _index(lambda f: f.set_axis(pd.period_range("2000-01", periods=len(f), freq="M")))
    ),
    "datetime_index_without_freq": Case(_index(_without_freq)),
    "irregular_timestamps": Case(
        _index(_irregular), outcomes={"forecaster": r"regular|frequency"}
    ),
    "unsorted_timestamps": Case(_index(_unsorted), r"sorted"),
    "duplicated_timestamps": Case(_index(_duplicated), r"duplicate"),
    "tz_aware_index": Case(_index(lambda f: f.tz_localize("Europe/Berlin"))),
    "panel_of_equal_lengths": Case(_panel([40, 40, 40]), outcomes={"detector": r"Panel"}),
    "panel_of_unequal_lengths": Case(_panel([40, 30, 25]), outcomes={"detector": r"Panel"}),
    "series": Case(_index(lambda f: f["a"])),
}


# ====================================================================== estimators
def _tiny(cls, **params):
    """The first test configuration, cut to 2 training and 2 sampling steps."""
    settings = {
        **cls.get_test_params()[0],
        "training_steps": 2,
        "n_sampling_steps": 2,
        "random_state": 0,
    }
    settings.update(params)
    return cls(**settings)


def _forecast(data):
    forecaster = _tiny(DiffusionForecaster, n_samples=4, fine_tune_steps=1)
    forecaster.fit(data, fh=FH)
    return forecaster.predict(), forecaster.predict_interval(coverage=0.9)


def _impute(data):
    return (_tiny(DiffusionImputer, n_samples=3, n_models=1).fit(data).transform(data),)


def _detect(data):
    detector = _tiny(DiffusionAnomalyDetector, n_samples=3).fit(data)
    return detector.transform_scores(data), detector.predict(data)


def _generate(data):
    return (_tiny(DiffusionGenerator).fit(data).sample(2),)


RUNS = {
    "forecaster": _forecast,
    "imputer": _impute,
    "detector": _detect,
    "generator": _generate,
}

OWNERS = {
    "forecaster": "DiffusionForecaster",
    "imputer": "DiffusionImputer",
    "detector": "DiffusionAnomalyDetector",
    "generator": "DiffusionGenerator",
}


# ====================================================================== checks
def _time_points(data) -> list[tuple[tuple, pd.Index]]:
    """(instance key, time index) of each series of ``data``."""
    index = data.index
    if not isinstance(index, pd.MultiIndex):
        return [((), index)]
    keys = index.droplevel(-1).unique()
    return [
        ((key,) if not isinstance(key, tuple) else key, data.loc[key].index) for key in keys
    ]


def _expected_forecast_index(data) -> pd.Index:
    """The time points of ``FH`` after the latest time point, for every series."""
    series = _time_points(data)
    longest = max((times for _, times in series), key=len)
    latest = max(times[-1] for _, times in series)
    if isinstance(longest, pd.PeriodIndex):
        future = pd.period_range(latest, periods=len(FH) + 1, freq=longest.freq)[1:]
    elif isinstance(longest, pd.DatetimeIndex):
        freq = longest.freq or pd.infer_freq(longest)
        future = pd.date_range(latest, periods=len(FH) + 1, freq=freq)[1:]
    else:
        future = pd.Index(latest + np.asarray(FH))
    if len(series) == 1 and series[0][0] == ():
        return future
    keys = [key[0] if len(key) == 1 else key for key, _ in series]
    return pd.MultiIndex.from_tuples(
        [(key, time) for key in keys for time in future], names=data.index.names
    )


def _columns(data) -> list:
    return [data.name] if isinstance(data, pd.Series) else list(data.columns)


def _check_forecast(data, outputs) -> np.ndarray:
    point, interval = outputs
    assert type(point) is type(data)
    expected = _expected_forecast_index(data)
    pd.testing.assert_index_equal(point.index, expected, check_names=False)
    if isinstance(point, pd.DataFrame):
        assert list(point.columns) == _columns(data)
    assert np.isfinite(point.to_numpy(np.float64)).all()
    pd.testing.assert_index_equal(interval.index, expected, check_names=False)
    assert list(interval.columns) == [
        (column, 0.9, side) for column in _columns(data) for side in ("lower", "upper")
    ]
    bounds = interval.to_numpy(np.float64).reshape(len(interval), -1, 2)
    assert np.isfinite(bounds).all() and (bounds[..., 0] <= bounds[..., 1]).all()
    return point.to_numpy(np.float64)


def _check_imputation(data, outputs) -> np.ndarray:
    (filled,) = outputs
    assert type(filled) is type(data)
    pd.testing.assert_index_equal(filled.index, data.index)
    if isinstance(data, pd.DataFrame):
        pd.testing.assert_index_equal(filled.columns, data.columns)
    given = pd.DataFrame(data).to_numpy(np.float64, na_value=np.nan)
    out = pd.DataFrame(filled).to_numpy(np.float64, na_value=np.nan)
    observed = ~np.isnan(given)
    np.testing.assert_array_equal(out[observed], given[observed])  # bit for bit
    assert np.isfinite(out).all()
    return out


def _check_detection(data, outputs) -> np.ndarray:
    scores, flagged = outputs
    pd.testing.assert_index_equal(scores.index, data.index)
    assert list(scores.columns) == ["scores"]
    values = scores["scores"].to_numpy(np.float64)
    observed = pd.DataFrame(data).notna().any(axis=1).to_numpy()
    assert np.isfinite(values[observed]).all()
    assert np.isnan(values[~observed]).all()
    positions = flagged.to_numpy()
    assert ((positions >= 0) & (positions < len(data))).all()
    assert (np.diff(positions) > 0).all()
    return values


def _check_generation(data, outputs) -> np.ndarray:
    (samples,) = outputs
    assert isinstance(samples, pd.DataFrame)
    assert list(samples.columns) == _columns(data)
    assert isinstance(samples.index, pd.MultiIndex)
    assert samples.index.get_level_values(0).nunique() == 2
    values = samples.to_numpy(np.float64)
    assert np.isfinite(values).all()
    return values


CHECKS = {
    "forecaster": _check_forecast,
    "imputer": _check_imputation,
    "detector": _check_detection,
    "generator": _check_generation,
}


def _assert_unchanged(data, before) -> None:
    if isinstance(data, pd.Series):
        pd.testing.assert_series_equal(data, before, check_freq=True)
    else:
        pd.testing.assert_frame_equal(data, before, check_freq=True)


def _assert_refused_clearly(error: Exception, owner: str, pattern: str) -> None:
    """A ValueError / TypeError of our checks or sktime's, naming the problem."""
    assert isinstance(error, ValueError | TypeError), repr(error)
    message = str(error)
    assert re.search(pattern, message), f"{pattern!r} not in: {message[:500]}"
    origin = traceback.extract_tb(error.__traceback__)[-1].filename.replace("\\", "/")
    assert "torch" not in origin, f"raised inside torch: {origin}"
    ours = "/sktime_diffusion/" in origin
    sktimes = "/sktime/" in origin
    assert ours or sktimes, f"raised inside {origin}, not by a check: {message[:300]}"
    if ours:
        assert owner in message, f"{owner} not named in: {message}"


def _outcome(estimator: str, case: Case) -> str | None:
    return case.outcomes.get(estimator, case.outcome)


def _run_and_check(estimator: str, data):
    """Run the estimator on ``data`` and check its output; leaves ``data`` alone."""
    before = copy.deepcopy(data)
    try:
        return CHECKS[estimator](data, RUNS[estimator](data))
    finally:
        _assert_unchanged(data, before)


#: a case that works, works quietly: no warning from pandas (a dropped time zone) or
#: numpy (NaN arithmetic), and a refused case raises before any
QUIET = pytest.mark.filterwarnings(
    "error::UserWarning",
    "error::RuntimeWarning",
    # the tiny configurations sample with too few steps on purpose (speed)
    r"ignore:sampler '.*' with \d+ sampling steps:UserWarning",
)


@QUIET
@pytest.mark.parametrize("case_name", list(CASES))
@pytest.mark.parametrize("estimator", list(RUNS))
def test_bad_input_works_or_is_refused_clearly_and_the_data_is_left_alone(
    estimator, case_name
):
    case = CASES[case_name]
    data = case.build()
    pattern = _outcome(estimator, case)
    if pattern is not WORKS:
        before = copy.deepcopy(data)
        with pytest.raises(case.error) as raised:
            RUNS[estimator](data)
        _assert_unchanged(data, before)
        _assert_refused_clearly(raised.value, OWNERS[estimator], pattern)
        return
    result = _run_and_check(estimator, data)
    if case.reference is not None:
        expected = _run_and_check(estimator, case.reference())
        scale = np.nanstd(expected) if case.rtol else 0.0
        np.testing.assert_allclose(
            result, expected, rtol=case.rtol, atol=case.rtol * scale, equal_nan=True
        )


# ============================================================ other columns later
def _exogenous(n: int = N_TIMEPOINTS + len(FH)) -> pd.DataFrame:
    index = pd.date_range("2020-01-01", periods=n, freq="D")
    t = np.arange(n)
    return pd.DataFrame({"b": np.cos(t / 3), "c": np.linspace(0, 1, n)}, index=index)


#: how the data of the second call (predict, transform, a context) differs from fit's
LATER_COLUMNS = {
    "same_columns": lambda frame: frame,
    "renamed_column": lambda frame: frame.rename(columns={frame.columns[-1]: "other"}),
    "reordered_columns": lambda frame: frame[frame.columns[::-1]],
    "missing_column": lambda frame: frame[frame.columns[:1]],
    "extra_column": lambda frame: frame.assign(extra=1.0),
}


def _forecast_with_later_X(change):
    y = _frame()[["a"]]
    X = _exogenous()
    forecaster = _tiny(DiffusionForecaster, n_samples=4, fine_tune_steps=1)
    forecaster.fit(y, X=X.iloc[:N_TIMEPOINTS], fh=FH)
    future = change(X.iloc[N_TIMEPOINTS:])
    return future, lambda: _check_forecast(
        y, (forecaster.predict(X=future), forecaster.predict_interval(X=future))
    )


def _impute_later(change):
    data = _frame()
    imputer = _tiny(DiffusionImputer, n_samples=3, n_models=1).fit(data)
    later = change(data)
    return later, lambda: _check_imputation(later, (imputer.transform(later),))


def _detect_later(change):
    data = _frame()
    detector = _tiny(DiffusionAnomalyDetector, n_samples=3).fit(data)
    later = change(data)
    return later, lambda: _check_detection(
        later, (detector.transform_scores(later), detector.predict(later))
    )


def _generate_from_context(change):
    data = _frame()
    generator = _tiny(DiffusionGenerator).fit(data)
    context = change(data.iloc[:4])
    return context, lambda: _check_generation(data, (generator.sample(2, context=context),))


LATER_RUNS = {
    "forecaster": _forecast_with_later_X,
    "imputer": _impute_later,
    "detector": _detect_later,
    "generator": _generate_from_context,
}


@QUIET
@pytest.mark.parametrize("change", list(LATER_COLUMNS))
@pytest.mark.parametrize("estimator", list(LATER_RUNS))
def test_other_columns_after_fit_are_refused_by_name(estimator, change):
    later, run = LATER_RUNS[estimator](LATER_COLUMNS[change])
    before = copy.deepcopy(later)
    if change == "same_columns":
        run()
    else:
        with pytest.raises((ValueError, TypeError)) as raised:
            run()
        _assert_refused_clearly(raised.value, OWNERS[estimator], r"column")
    _assert_unchanged(later, before)


@QUIET
@pytest.mark.parametrize("change", list(LATER_COLUMNS))
@pytest.mark.parametrize("which", ["y", "X"])
def test_forecaster_update_with_other_columns_is_refused_by_name(which, change):
    y = _frame()
    X = _exogenous()
    forecaster = _tiny(DiffusionForecaster, n_samples=4, fine_tune_steps=1)
    forecaster.fit(y.iloc[:35], X=X.iloc[:35], fh=FH)
    new = {"y": y.iloc[35:], "X": X.iloc[35:N_TIMEPOINTS]}
    new[which] = LATER_COLUMNS[change](new[which])
    before = copy.deepcopy(new[which])
    future = X.iloc[N_TIMEPOINTS:]
    if change == "same_columns":
        forecaster.update(new["y"], X=new["X"], update_params=False)
        _check_forecast(
            y, (forecaster.predict(X=future), forecaster.predict_interval(X=future))
        )
    else:
        with pytest.raises((ValueError, TypeError)) as raised:
            forecaster.update(new["y"], X=new["X"], update_params=False)
        _assert_refused_clearly(raised.value, "DiffusionForecaster", r"column|variable")
    _assert_unchanged(new[which], before)
