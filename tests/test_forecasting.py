"""DiffusionForecaster where sktime users put it, and what it promises."""

import pickle

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sktime.base import load
from sktime.datasets import load_airline
from sktime.forecasting.base import ForecastingHorizon
from sktime.forecasting.compose import (
    ForecastingPipeline,
    MultiplexForecaster,
    TransformedTargetForecaster,
)
from sktime.forecasting.model_evaluation import evaluate
from sktime.forecasting.model_selection import ForecastingGridSearchCV
from sktime.forecasting.naive import NaiveForecaster
from sktime.forecasting.theta import ThetaForecaster
from sktime.performance_metrics.forecasting import MeanAbsoluteError
from sktime.performance_metrics.forecasting.probabilistic import PinballLoss
from sktime.split import ExpandingWindowSplitter
from sktime.transformations.series.detrend import Deseasonalizer, Detrender
from sktime.transformations.series.exponent import ExponentTransformer
from sktime.utils._testing.hierarchical import _make_hierarchical

from sktime_diffusion import DiffusionForecaster, DilatedConvNetwork

FH = list(range(1, 7))


def tiny(**kwargs):
    params = {
        "network": DilatedConvNetwork(channels=8, n_layers=2, time_embedding_dim=16),
        "training_steps": 30,
        "fine_tune_steps": 5,
        "n_samples": 20,
        "n_sampling_steps": 4,
        "batch_size": 16,
        "random_state": 0,
    }
    params.update(kwargs)
    return DiffusionForecaster(**params)


@pytest.fixture(scope="module")
def airline():
    return load_airline()


@pytest.fixture(scope="module")
def fitted(airline):
    return tiny().fit(airline, fh=FH)


def _with_exogenous(n=80, seed=0):
    rng = np.random.default_rng(seed)
    index = pd.period_range("2000-01", periods=n, freq="M")
    X = pd.DataFrame({"driver": rng.normal(size=n), "level": np.linspace(0, 1, n)}, index)
    y = pd.Series(2.0 * X["driver"].to_numpy() + rng.normal(0, 0.1, n), index, name="y")
    return y, X


# ------------------------------------------------------------------ sample paths
def test_predict_samples_gives_exactly_n_samples_whole_paths(fitted, airline):
    paths = fitted.predict_samples()
    assert paths.index.names[0] == "sample"
    assert paths.index.get_level_values("sample").nunique() == 20
    assert len(paths) == 20 * len(FH)
    assert list(paths.columns) == [airline.name]


def test_quantiles_are_the_empirical_quantiles_and_never_cross(fitted):
    alpha = [0.05, 0.1, 0.25, 0.5, 0.75, 0.9, 0.95]
    quantiles = fitted.predict_quantiles(alpha=alpha)
    empirical = fitted.predict_proba()
    for a in alpha:
        np.testing.assert_array_equal(
            quantiles.xs(a, axis=1, level=1).to_numpy().ravel(),
            empirical.ppf(a).to_numpy().ravel(),
        )
    assert (np.diff(quantiles.to_numpy(), axis=1) >= 0).all()


def test_median_forecast_is_the_median_quantile_and_var_the_empirical_var(fitted):
    median = fitted.predict()
    q50 = fitted.predict_quantiles(alpha=[0.5])
    np.testing.assert_array_equal(median.to_numpy(), q50.to_numpy().ravel())
    np.testing.assert_allclose(
        fitted.predict_var().to_numpy(), fitted.predict_proba().var().to_numpy()
    )


def test_mean_point_estimate_is_the_mean_of_the_paths(airline):
    forecaster = tiny(point_estimate="mean").fit(airline, fh=FH)
    paths = forecaster.predict_samples()
    expected = paths.groupby(level=-1).mean().iloc[:, 0]
    np.testing.assert_allclose(forecaster.predict().to_numpy(), expected.to_numpy())


def test_intervals_contain_the_median(fitted):
    intervals = fitted.predict_interval(coverage=[0.5, 0.9])
    median = fitted.predict().to_numpy()
    lower = intervals.xs("lower", axis=1, level=2).to_numpy()
    upper = intervals.xs("upper", axis=1, level=2).to_numpy()
    assert (lower <= median[:, None]).all() and (median[:, None] <= upper).all()
    assert (lower[:, 1] <= lower[:, 0]).all()


# ------------------------------------------------------------- reproducibility
def test_same_random_state_gives_identical_forecasts(airline, fitted):
    again = tiny().fit(airline, fh=FH)
    pd.testing.assert_frame_equal(again.predict_samples(), fitted.predict_samples())
    pd.testing.assert_frame_equal(fitted.predict_samples(), fitted.predict_samples())
    other = tiny(random_state=1).fit(airline, fh=FH)
    assert not np.allclose(other.predict().to_numpy(), fitted.predict().to_numpy())


def test_clone_pickle_and_save_load_give_identical_predictions(tmp_path, fitted, airline):
    expected = fitted.predict_samples()
    pd.testing.assert_frame_equal(
        pickle.loads(pickle.dumps(fitted)).predict_samples(), expected
    )
    fitted.save(tmp_path / "forecaster")
    loaded = load(str(tmp_path / "forecaster"))
    pd.testing.assert_frame_equal(loaded.predict_samples(), expected)
    refit = clone(fitted).fit(airline, fh=FH)
    pd.testing.assert_frame_equal(refit.predict_samples(), expected)


def test_fit_leaves_the_global_random_state_alone(airline):
    np.random.seed(5)
    expected = np.random.rand()
    np.random.seed(5)
    tiny().fit(airline, fh=FH)
    assert np.random.rand() == expected


# ------------------------------------------------------------ in sktime workflows
def test_in_a_transformed_target_forecaster(airline):
    pipe = TransformedTargetForecaster(
        [("deseason", Deseasonalizer(sp=12)), ("detrend", Detrender()), ("model", tiny())]
    )
    pipe.fit(airline, fh=FH)
    assert pipe.predict().shape == (len(FH),)
    assert pipe.predict_interval().shape == (len(FH), 2)


def test_in_a_forecasting_pipeline_with_exogenous_transformers():
    y, X = _with_exogenous()
    pipe = ForecastingPipeline(
        [("square", ExponentTransformer(power=2)), ("model", tiny())]
    )
    pipe.fit(y[:-6], X=X[:-6], fh=FH)
    prediction = pipe.predict(X=X[-6:])
    pd.testing.assert_index_equal(prediction.index, y.index[-6:])


def test_grid_search_reaches_nested_network_parameters_with_a_probabilistic_scorer(
    airline,
):
    search = ForecastingGridSearchCV(
        tiny(),
        cv=ExpandingWindowSplitter(initial_window=108, step_length=12, fh=FH),
        param_grid={"network__channels": [4, 8]},
        scoring=PinballLoss(),
    )
    search.fit(airline[:-12])
    assert search.best_params_["network__channels"] in (4, 8)
    assert search.predict(fh=FH).shape == (len(FH),)


@pytest.mark.parametrize(
    "backend, backend_params",
    [("loky", None), ("joblib", {"backend": "loky"}), ("dask", None)],
)
def test_evaluate_with_an_expanding_window(airline, backend, backend_params):
    if backend == "dask":
        pytest.importorskip("dask.dataframe")
    results = evaluate(
        tiny(),
        ExpandingWindowSplitter(initial_window=120, step_length=12, fh=FH),
        airline,
        scoring=[MeanAbsoluteError(), PinballLoss()],
        backend=backend,
        backend_params=backend_params,
    )
    assert len(results) == 2
    assert np.isfinite(results["test_MeanAbsoluteError"]).all()


def test_multiplex_against_classical_forecasters(airline):
    multiplex = MultiplexForecaster(
        [
            ("naive", NaiveForecaster(sp=12)),
            ("theta", ThetaForecaster(sp=12)),
            ("diffusion", tiny()),
        ],
        selected_forecaster="diffusion",
    )
    multiplex.fit(airline, fh=FH)
    assert multiplex.predict().shape == (len(FH),)


def test_sktimes_conformal_intervals_wrap_the_forecaster(airline):
    from sktime.forecasting.conformal import ConformalIntervals

    # the documented fix when the sample intervals miss: intervals from the errors
    # of refits on growing stretches of the series
    conformal = ConformalIntervals(tiny(), initial_window=120, sample_frac=0.5)
    conformal.fit(airline, fh=[1, 2, 3])
    intervals = conformal.predict_interval(coverage=[0.5, 0.9])
    lower_50, upper_50 = intervals.iloc[:, 0], intervals.iloc[:, 1]
    lower_90, upper_90 = intervals.iloc[:, 2], intervals.iloc[:, 3]
    assert (lower_90 <= lower_50).all() and (lower_50 < upper_50).all()
    assert (upper_50 <= upper_90).all()
    inner = tiny().fit(airline, fh=[1, 2, 3]).predict()
    pd.testing.assert_series_equal(conformal.predict(), inner)


def test_exogenous_X_steers_the_forecast():
    y, X = _with_exogenous(n=200)
    forecaster = tiny(training_steps=300, context_length=12).fit(y[:-6], X=X[:-6], fh=FH)
    future = X[-6:].copy()
    high, low = future.copy(), future.copy()
    high["driver"], low["driver"] = 2.0, -2.0
    assert (forecaster.predict(X=high) > forecaster.predict(X=low)).all()


# ------------------------------------------------------------------ panels
def test_panel_is_one_global_model_with_a_forecast_per_series():
    y = _make_hierarchical(hierarchy_levels=(3,), min_timepoints=40, max_timepoints=40)
    forecaster = tiny().fit(y, fh=[1, 2, 3])
    prediction = forecaster.predict()
    assert prediction.index.nlevels == 2 and len(prediction) == 9
    assert forecaster.predict_proba().shape == (9, 1)


def test_pretrain_then_fit_keeps_the_pretrained_network():
    panel = _make_hierarchical(hierarchy_levels=(4,), min_timepoints=50, max_timepoints=50)
    forecaster = tiny(fine_tune_steps=0).pretrain(panel, fh=[1, 2, 3])
    weights = {k: v.clone() for k, v in forecaster.pretrained_model_.state_dict().items()}
    series = panel.loc["h0_0"]
    forecaster.fit(series, fh=[1, 2, 3])
    for name, value in forecaster.model_.state_dict().items():
        assert bool((value == weights[name]).all()), name
    assert forecaster.predict().shape == (3, 1)


def test_update_without_refit_moves_the_cutoff_only(airline):
    forecaster = tiny().fit(airline[:-12], fh=FH)
    weights = {k: v.clone() for k, v in forecaster.model_.state_dict().items()}
    forecaster.update(airline[-12:], update_params=False)
    assert forecaster.cutoff[0] == airline.index[-1]
    assert forecaster.predict().index[0] == airline.index[-1] + 1
    for name, value in forecaster.model_.state_dict().items():
        assert bool((value == weights[name]).all())
    forecaster.update(airline[-12:], update_params=True)
    changed = any(
        not bool((value == weights[name]).all())
        for name, value in forecaster.model_.state_dict().items()
    )
    assert changed


# ------------------------------------------------------------ horizons and gaps
def test_horizons_beyond_the_trained_one_continue_autoregressively(airline):
    forecaster = tiny(horizon=6).fit(airline, fh=FH)
    long = forecaster.predict_samples(fh=list(range(1, 20)))
    assert long.index.get_level_values(-1).nunique() == 19
    assert np.isfinite(long.to_numpy()).all()
    strict = tiny(horizon=6, autoregressive=False).fit(airline, fh=FH)
    with pytest.raises(ValueError, match="autoregressive"):
        strict.predict(fh=list(range(1, 20)))


def test_fh_may_be_given_only_at_predict(airline):
    forecaster = tiny().fit(airline)
    assert forecaster.predict(fh=[1, 2, 3]).shape == (3,)


def test_in_sample_fh_is_refused(fitted):
    with pytest.raises(NotImplementedError):
        fitted.predict(fh=ForecastingHorizon([-1, 0]))


def test_missing_values_in_y_are_handled(airline):
    y = airline.copy()
    y.iloc[[10, 50, 51, 52, -3]] = np.nan
    prediction = tiny().fit(y, fh=FH).predict()
    assert np.isfinite(prediction.to_numpy()).all()


def test_constant_series_forecasts_that_constant():
    y = pd.Series(5.0, index=pd.RangeIndex(60))
    prediction = tiny().fit(y, fh=FH).predict_samples()
    np.testing.assert_allclose(prediction.to_numpy(), 5.0, rtol=1e-4)


def test_multivariate_y_is_forecast_jointly():
    rng = np.random.default_rng(0)
    y = pd.DataFrame(rng.normal(size=(60, 3)).cumsum(axis=0), columns=["a", "b", "c"])
    prediction = tiny().fit(y, fh=FH).predict()
    assert list(prediction.columns) == ["a", "b", "c"] and len(prediction) == len(FH)


def test_verbose_shows_progress(airline, capsys):
    tiny(verbose=True, training_steps=3).fit(airline, fh=FH).predict()
    err = capsys.readouterr().err
    assert "training" in err and "sampling" in err


# ---------------------------------------------------------------- bad input
def test_series_shorter_than_context_plus_horizon_names_the_minimum():
    with pytest.raises(ValueError, match="at least 30 time points"):
        tiny(context_length=24).fit(pd.Series(np.arange(20.0)), fh=FH)


def test_panel_with_a_too_short_series_is_named():
    panel = _make_hierarchical(hierarchy_levels=(2,), min_timepoints=40, max_timepoints=40)
    short = panel.drop(index=panel.loc["h0_1"].index[:35], level=1)
    with pytest.raises(ValueError, match="h0_1"):
        tiny(context_length=10).fit(short, fh=[1, 2])


@pytest.mark.parametrize("where", ["y", "X"])
def test_inf_is_refused(where):
    y, X = _with_exogenous()
    if where == "y":
        y.iloc[3] = np.inf
    else:
        X.iloc[3, 0] = -np.inf
    with pytest.raises(ValueError, match="inf"):
        tiny().fit(y, X=X, fh=FH)


@pytest.mark.parametrize("where", ["y", "X"])
def test_non_numeric_data_is_refused(where):
    y, X = _with_exogenous()
    if where == "X":
        X["label"] = "a"
    else:
        y = y.astype(object)
        y.iloc[2] = "x"
    with pytest.raises((TypeError, ValueError), match="categorical|label|numeric"):
        tiny().fit(y, X=X, fh=FH)


def test_X_at_fit_but_not_at_predict_is_a_clear_error():
    y, X = _with_exogenous()
    forecaster = tiny().fit(y[:-6], X=X[:-6], fh=FH)
    with pytest.raises(ValueError, match="pass the future X"):
        forecaster.predict()
    with pytest.raises(ValueError, match="does not cover"):
        forecaster.predict(X=X[-6:-3])


@pytest.mark.parametrize(
    "params, message",
    [
        ({"n_samples": 0}, "n_samples"),
        ({"sampler": "euler"}, "sampler"),
        ({"schedule": "sigmoid"}, "schedule"),
        ({"training_steps": 0}, "training_steps"),
        ({"context_length": 0}, "context_length"),
        ({"point_estimate": "mode"}, "point_estimate"),
        ({"device": "tpu"}, "device"),
        ({"network": "big"}, "network"),
        ({"training_time_power": 0}, "training_time_power"),
        ({"training_time_power": "low"}, "training_time_power"),
        ({"baseline": "drift"}, "baseline"),
    ],
)
def test_bad_parameters_are_named_at_fit(params, message, airline):
    with pytest.raises(ValueError, match=message):
        tiny(**params).fit(airline, fh=FH)


def test_predict_before_fit_is_refused():
    from sktime.exceptions import NotFittedError

    with pytest.raises(NotFittedError):
        tiny().predict(fh=FH)


def test_automatic_training_budget_grows_with_the_data_within_bounds():
    from sktime_diffusion.engine import training_budget

    assert training_budget(10) == 300
    assert training_budget(100) == 600
    assert training_budget(100_000) == 1500
    assert (
        training_budget(100_000, DiffusionForecaster(training_steps=7).training_steps) == 7
    )


def test_the_forecasters_automatic_budget_is_two_steps_per_training_window():
    # 180 points in windows of 12 + 6 steps: 163 windows, 326 steps (six per window
    # would be 978); 100 points give 83 windows, below the floor of 300 steps
    index = pd.period_range("1990-01", periods=180, freq="M")
    y = pd.Series(np.sin(np.arange(180) * np.pi / 6), index)
    fh = list(range(1, 7))
    fitted = tiny(training_steps=None, context_length=12).fit(y, fh=fh)
    assert fitted.training_history_.n_steps == 326
    fitted = tiny(training_steps=None, context_length=12).fit(y.iloc[:100], fh=fh)
    assert fitted.training_history_.n_steps == 300


def test_the_forecasters_training_windows_hold_the_series_once_not_every_window():
    # 20,000 x 2 points in stride-1 windows of 64 + 8 steps: copies of every window
    # would take about 90 MB, the series 0.3 MB
    index = pd.date_range("2000-01-01", periods=20_000, freq="h")
    values = np.random.default_rng(0).normal(size=(20_000, 2)).cumsum(axis=0)
    y = pd.DataFrame(values, index=index, columns=["a", "b"])
    fitted = tiny(training_steps=1, context_length=64).fit(y, fh=list(range(1, 9)))
    windows = fitted._windows_of(y, None)
    assert len(windows) == 20_000 - 72 + 1
    held = windows.nbytes
    assert held < 3 * values.nbytes


@pytest.mark.parametrize(
    "length, context",
    [
        (600, 48),  # four seasons of 12 months
        (84, 41),  # shortened to leave 32 training windows: 84 - 12 - 32 + 1
        (60, 17),  # 60 - 12 - 32 + 1
    ],
)
def test_automatic_context_is_four_seasons_leaving_32_windows(length, context):
    index = pd.period_range("1990-01", periods=length, freq="M")
    y = pd.Series(np.sin(np.arange(length) * np.pi / 6), index)
    fitted = tiny(training_steps=1).fit(y, fh=list(range(1, 13)))
    assert fitted.context_length_ == context


def test_automatic_context_counts_the_windows_of_every_series_of_a_panel():
    index = pd.period_range("1990-01", periods=84, freq="M")
    values = np.sin(np.arange(84) * np.pi / 6)
    panel = pd.concat(
        {name: pd.DataFrame({"y": values + k}, index) for k, name in enumerate("abcd")}
    )
    fitted = tiny(training_steps=1).fit(panel, fh=list(range(1, 13)))
    assert fitted.context_length_ == 48  # 32 windows over the four series: 8 each


def test_automatic_learning_rate_grows_with_the_data_within_bounds():
    forecaster = DiffusionForecaster()
    assert forecaster._learning_rate(60) == pytest.approx(1e-3)
    assert forecaster._learning_rate(4_000) == pytest.approx(4e-3)
    assert forecaster._learning_rate(100_000) == pytest.approx(1e-2)
    assert DiffusionForecaster(learning_rate=5e-4)._learning_rate(100_000) == 5e-4


def test_bad_learning_rate_is_refused_by_name(airline):
    with pytest.raises(ValueError, match="learning_rate"):
        tiny(learning_rate=-1.0).fit(airline, fh=FH)


def test_intervals_are_calibrated_on_simulated_gaussian_ar():
    """On AR(1) data with unit Gaussian noise, intervals cover near their nominal level.

    A global model over 60 simulated series forecasts 3 steps of each; the 180 held-out
    values must fall inside the 50/80/95% intervals about as often as promised, and the
    one-step interval must be about as wide as the true conditional distribution's.
    """
    rng = np.random.default_rng(0)
    n_series, n_timepoints, phi, horizon = 60, 160, 0.6, 3
    values = np.zeros((n_series, n_timepoints + horizon))
    values[:, 0] = rng.normal(size=n_series) / np.sqrt(1 - phi**2)
    for t in range(1, n_timepoints + horizon):
        values[:, t] = phi * values[:, t - 1] + rng.normal(size=n_series)
    index = pd.MultiIndex.from_product(
        [range(n_series), pd.RangeIndex(n_timepoints)], names=["series", "time"]
    )
    y = pd.DataFrame({"y": values[:, :n_timepoints].ravel()}, index=index)
    forecaster = DiffusionForecaster(
        network=DilatedConvNetwork(channels=16, n_layers=4, time_embedding_dim=32),
        context_length=16,
        training_steps=200,
        n_samples=100,
        n_sampling_steps=10,
        random_state=0,
    ).fit(y, fh=list(range(1, horizon + 1)))
    intervals = forecaster.predict_interval(coverage=[0.5, 0.8, 0.95])
    truth = values[:, n_timepoints:].ravel()
    for coverage, z in [(0.5, 0.674), (0.8, 1.282), (0.95, 1.960)]:
        lower = intervals[("y", coverage, "lower")].to_numpy()
        upper = intervals[("y", coverage, "upper")].to_numpy()
        inside = np.mean((lower <= truth) & (truth <= upper))
        assert abs(inside - coverage) < 0.12, (coverage, inside)
        one_step_width = (upper - lower).reshape(n_series, horizon)[:, 0].mean()
        assert 0.7 < one_step_width / (2 * z) < 1.4, (coverage, one_step_width)


def test_too_few_sampling_steps_warn_once_at_fit_not_at_every_predict(airline):
    import warnings

    forecaster = tiny(n_sampling_steps=3)
    with pytest.warns(UserWarning, match="'dpm_solver' with 3 sampling steps"):
        forecaster.fit(airline, fh=FH)
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)
        forecaster.predict()
        forecaster.predict(fh=[1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14])


def _fitted_on_a_clean_season(clean_season, **params):
    """A tiny forecaster trained one step on the clean season, and its 12-month MAE."""
    y, fh = clean_season, list(range(1, 13))
    forecaster = tiny(training_steps=1, context_length=48, **params)
    forecast = forecaster.fit(y, fh=fh).predict()
    return forecaster, np.abs(forecast.to_numpy() - y.to_numpy()[-12:]).mean()


def test_by_default_the_forecaster_forecasts_from_the_seasonal_fill(clean_season):
    # the default since D31: one training step forecasts a clean season about as
    # its last season repeated, as baseline="seasonal" does (see the test below)
    forecaster, error = _fitted_on_a_clean_season(clean_season)
    assert forecaster.model_.baseline == "seasonal"
    assert error < 2.5


def test_a_seasonal_baseline_forecasts_from_the_last_season_and_pretrains_with_it(
    clean_season,
):
    # one training step: the network adds noise but no shift to the fill, so the
    # median forecast of a clean season is about the season repeated (MAE 1.0-1.2
    # for seeds 0-2); without a baseline the barely trained network misses it
    # (6.4-6.5)
    errors = {}
    for baseline in ("seasonal", "none"):
        forecaster, errors[baseline] = _fitted_on_a_clean_season(
            clean_season, baseline=baseline
        )
        assert forecaster.model_.baseline == baseline
    assert errors["seasonal"] < 2.5 < 4.0 < errors["none"]
    panel = pd.concat({"a": clean_season, "b": clean_season + 5}).to_frame("value")
    pretrained = tiny(baseline="seasonal", training_steps=1, context_length=48)
    pretrained.pretrain(panel, fh=list(range(1, 13)))
    assert pretrained.pretrained_model_.baseline == "seasonal"
