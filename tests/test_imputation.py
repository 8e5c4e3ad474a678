"""DiffusionImputer where sktime users put it, and what it promises."""

import pickle

import numpy as np
import pandas as pd
import pytest
import torch
from sklearn.base import clone
from sktime.base import load
from sktime.datasets import load_airline, load_longley
from sktime.forecasting.compose import ForecastingPipeline, TransformedTargetForecaster
from sktime.forecasting.model_selection import ForecastingGridSearchCV
from sktime.forecasting.naive import NaiveForecaster
from sktime.performance_metrics.forecasting import MeanAbsoluteError
from sktime.split import ExpandingWindowSplitter
from sktime.transformations.compose import MultiplexTransformer
from sktime.transformations.series.impute import Imputer
from sktime.utils._testing.hierarchical import _make_hierarchical

from sktime_diffusion import DiffusionImputer, DilatedConvNetwork
from sktime_diffusion._estimator_engine import member_seeds, split_samples

WINDOW = 12


def tiny(**kwargs):
    params = {
        "network": DilatedConvNetwork(channels=8, n_layers=2, time_embedding_dim=16),
        "window_length": WINDOW,
        "training_steps": 20,
        "n_samples": 12,
        "n_sampling_steps": 3,
        "batch_size": 16,
        "random_state": 0,
    }
    params.update(kwargs)
    return DiffusionImputer(**params)


def with_gaps(series: pd.Series | pd.DataFrame, positions, column=None):
    gappy = series.copy()
    if isinstance(gappy, pd.Series):
        gappy.iloc[list(positions)] = np.nan
    else:
        gappy.iloc[list(positions), gappy.columns.get_loc(column)] = np.nan
    return gappy


@pytest.fixture(scope="module")
def airline():
    return load_airline()


@pytest.fixture(scope="module")
def gappy(airline):
    # gaps at the start, the end, scattered, and one longer than a window that crosses
    # window borders
    positions = [0, 1, 30, 31, 57, *range(70, 70 + WINDOW + 5), 142, 143]
    return with_gaps(airline, positions)


@pytest.fixture(scope="module")
def fitted(gappy):
    return tiny().fit(gappy)


# ------------------------------------------------------------------ the promise
def test_fills_every_gap_and_keeps_observed_values_bit_for_bit(fitted, gappy):
    filled = fitted.transform(gappy)
    assert isinstance(filled, pd.Series)
    pd.testing.assert_index_equal(filled.index, gappy.index)
    assert not filled.isna().any()
    observed = gappy.notna()
    np.testing.assert_array_equal(filled[observed].to_numpy(), gappy[observed].to_numpy())
    # filled values live on the series' scale, not in scaled units
    assert filled[~observed].between(50, 800).all()


def test_data_without_gaps_comes_back_unchanged(fitted, airline):
    pd.testing.assert_series_equal(fitted.transform(airline), airline)


def test_samples_are_complete_copies_with_the_observed_values(fitted, gappy):
    samples = fitted.transform_samples(gappy, n_samples=7)
    assert samples.index.names[0] == "sample"
    assert samples.index.get_level_values("sample").nunique() == 7
    assert len(samples) == 7 * len(gappy)
    assert not samples.isna().any().any()
    observed = gappy.notna().to_numpy()
    for _, copy in samples.groupby(level="sample"):
        values = copy.iloc[:, 0].to_numpy()
        np.testing.assert_array_equal(values[observed], gappy.to_numpy()[observed])
    spread = samples.iloc[:, 0].unstack(level=0).std(axis=1).to_numpy()
    assert (spread[~observed] > 0).all()  # imputations differ where values are missing


def test_point_fill_is_the_median_of_the_imputations(fitted, gappy):
    filled = fitted.transform(gappy)
    median = fitted.transform_quantiles(gappy, alpha=0.5)
    np.testing.assert_allclose(filled.to_numpy(), median.iloc[:, 0].to_numpy())


def test_mean_point_estimate(gappy):
    imputer = tiny(point_estimate="mean").fit(gappy)
    samples = imputer.transform_samples(gappy)
    mean = samples.iloc[:, 0].groupby(level=1).mean()
    np.testing.assert_allclose(imputer.transform(gappy).to_numpy(), mean.to_numpy())


def test_intervals_are_certain_where_observed_and_contain_the_fill(fitted, gappy):
    intervals = fitted.transform_interval(gappy, coverage=[0.5, 0.9])
    name = gappy.name
    assert list(intervals.columns) == [
        (name, 0.5, "lower"),
        (name, 0.5, "upper"),
        (name, 0.9, "lower"),
        (name, 0.9, "upper"),
    ]
    observed = gappy.notna().to_numpy()
    for column in intervals.columns:
        values = intervals[column].to_numpy()
        np.testing.assert_array_equal(values[observed], gappy.to_numpy()[observed])
    filled = fitted.transform(gappy).to_numpy()
    assert (intervals[(name, 0.9, "lower")] <= intervals[(name, 0.5, "lower")]).all()
    assert (intervals[(name, 0.5, "lower")].to_numpy() <= filled).all()
    assert (filled <= intervals[(name, 0.5, "upper")].to_numpy()).all()
    assert (intervals[(name, 0.5, "upper")] <= intervals[(name, 0.9, "upper")]).all()
    width = (intervals[(name, 0.9, "upper")] - intervals[(name, 0.9, "lower")]).to_numpy()
    assert (width[~observed] > 0).all()


def test_quantiles_never_cross(fitted, gappy):
    alpha = [0.05, 0.25, 0.5, 0.75, 0.95]
    quantiles = fitted.transform_quantiles(gappy, alpha=alpha).to_numpy()
    assert (np.diff(quantiles, axis=1) >= 0).all()


def test_other_data_at_transform(fitted, airline):
    later = with_gaps(airline.iloc[60:], [0, 5, 6, 7, 40, 83])
    filled = fitted.transform(later)
    pd.testing.assert_index_equal(filled.index, later.index)
    assert not filled.isna().any()


def test_series_shorter_than_a_window_are_filled(fitted, airline):
    short = with_gaps(airline.iloc[:5], [2])
    assert not fitted.transform(short).isna().any()


def test_multivariate_gaps_are_filled_from_the_other_columns():
    data = load_longley()[1].iloc[:, :3]
    gappy = data.copy()
    gappy.iloc[[2, 3, 9], 0] = np.nan
    gappy.iloc[[5, 12], 2] = np.nan
    imputer = tiny(window_length=8).fit(gappy)
    filled = imputer.transform(gappy)
    assert not filled.isna().any().any()
    observed = gappy.notna().to_numpy()
    np.testing.assert_array_equal(filled.to_numpy()[observed], data.to_numpy()[observed])


def test_panel_is_one_global_model_and_keeps_the_index():
    panel = _make_hierarchical((3,), n_columns=2, min_timepoints=30, max_timepoints=30)
    gappy = panel.copy()
    rng = np.random.default_rng(0)
    gappy[rng.random(gappy.shape) < 0.15] = np.nan
    imputer = tiny().fit(gappy)
    filled = imputer.transform(gappy)
    pd.testing.assert_index_equal(filled.index, gappy.index)
    assert not filled.isna().any().any()
    observed = gappy.notna().to_numpy()
    np.testing.assert_array_equal(filled.to_numpy()[observed], panel.to_numpy()[observed])
    samples = imputer.transform_samples(gappy, n_samples=3)
    assert samples.index.nlevels == 3


@pytest.mark.slow
def test_a_trained_model_fills_a_gap_across_window_borders_coherently():
    t = np.arange(600)
    series = pd.Series(np.sin(2 * np.pi * t / 24), name="sine")
    gap = list(range(300, 330))  # spans the window border at 320 (window 64)
    gappy = with_gaps(series, gap)
    # one model: each imputation is one model's path, so one model shows the stitching
    imputer = DiffusionImputer(
        window_length=64, training_steps=400, n_samples=20, n_models=1, random_state=0
    ).fit(gappy)
    samples = imputer.transform_samples(gappy).iloc[:, 0].unstack(level=0).to_numpy()
    error = np.abs(np.median(samples[gap], axis=1) - series.to_numpy()[gap])
    assert error.mean() < 0.2  # the sine's amplitude is 1
    # every imputation is one path: at the border (319 -> 320) no jump bigger than
    # the sine's largest step (0.26) plus the samples' own roughness, and the paths
    # are smooth throughout
    jumps = np.abs(np.diff(samples[299:331], axis=0))  # row k: step 299 + k -> 300 + k
    assert jumps[20].max() < 0.6, jumps[20].max()
    assert np.quantile(jumps, 0.95) < 0.6, np.quantile(jumps, 0.95)


# ------------------------------------------------------------------ ensembles
def test_an_ensemble_pools_equal_shares_and_starts_with_the_single_model(gappy):
    single = tiny(n_models=1).fit(gappy)
    pair = tiny(n_models=2).fit(gappy)
    assert len(pair.models_) == len(pair.training_histories_) == 2
    first, second = (model.state_dict() for model in pair.models_)
    for name, value in single.models_[0].state_dict().items():
        assert torch.equal(first[name], value), name
    assert any(not torch.equal(first[name], second[name]) for name in first)
    # five imputations: three from the first model (the single model's own three),
    # two from the second
    pooled = pair.transform_samples(gappy, n_samples=5).iloc[:, 0].unstack(level=0)
    alone = single.transform_samples(gappy, n_samples=3).iloc[:, 0].unstack(level=0)
    np.testing.assert_array_equal(pooled.iloc[:, :3].to_numpy(), alone.to_numpy())
    missing = gappy.isna().to_numpy()
    assert not np.allclose(pooled.iloc[missing, 3], pooled.iloc[missing, 0])


def test_more_models_than_imputations_draw_only_what_is_asked(gappy):
    imputer = tiny(n_models=3).fit(gappy)
    samples = imputer.transform_samples(gappy, n_samples=2)
    assert samples.index.get_level_values("sample").unique().tolist() == [0, 1]
    assert not samples.isna().any().any()


@pytest.fixture
def training_calls(monkeypatch):
    """The (masks, config) of every call of the engine's training loop, in order."""
    import sktime_diffusion._estimator_engine as engine_plumbing

    calls = []
    real_train_model = engine_plumbing.train_model

    def recording_train_model(model, data, masks, config):
        calls.append((masks, config))
        return real_train_model(model, data, masks, config)

    monkeypatch.setattr(engine_plumbing, "train_model", recording_train_model)
    return calls


def test_the_models_share_the_training_time(gappy, training_calls):
    tiny(n_models=3, max_time=60.0).fit(gappy)
    budgets = [config.max_time for _, config in training_calls]
    assert budgets == pytest.approx([20.0, 20.0, 20.0])


def test_max_mask_ratio_caps_the_scattered_training_masks(gappy, training_calls):
    tiny(n_models=1, max_mask_ratio=0.3).fit(gappy)
    tiny(n_models=1).fit(gappy)
    strategies = [masks for masks, _ in training_calls]
    assert [masks.max_ratio for masks in strategies] == [0.3, 0.5]
    assert all(masks.random > 0 and masks.block > 0 for masks in strategies)


def test_the_imputer_trains_long_series_up_to_twice_the_forecasters_budget():
    from sktime_diffusion.engine import training_budget

    budget = DiffusionImputer()._training_steps
    assert [budget(n) for n in (10, 100, 1_400, 5_000)] == [300, 600, 1500, 1500]
    assert budget(7_000) == 2100
    assert budget(10_405) == budget(100_000) == 3000
    assert training_budget(100_000) == 1500
    assert DiffusionImputer(training_steps=7)._training_steps(100_000) == 7


def test_the_imputer_trains_each_model_for_its_long_series_budget(monkeypatch):
    """fit passes the imputer's budget (with its long-series rule) to every model."""
    import sktime_diffusion._estimator_engine as mixin

    budgets = []
    train_model = mixin.train_model

    def counting(model, data, masks, config):
        budgets.append((len(data), config.max_steps))
        return train_model(model, data, masks, config)

    monkeypatch.setattr(mixin, "train_model", counting)
    monkeypatch.setattr(
        DiffusionImputer, "_training_steps", lambda self, n_windows: 3 + n_windows % 2
    )
    y = pd.Series(np.sin(np.arange(60) / 3.0))
    tiny(training_steps=None, n_models=2).fit(y)
    assert len(budgets) == 2
    assert all(steps == 3 + n_windows % 2 for n_windows, steps in budgets)


def test_shares_of_the_imputations_are_as_equal_as_possible():
    assert split_samples(10, 3) == [4, 3, 3]
    assert split_samples(2, 3) == [1, 1, 0]
    assert split_samples(6, 1) == [6]


def test_member_seeds_keep_the_first_and_differ():
    seeds = member_seeds(7, 4)
    assert seeds[0] == 7
    assert len(set(seeds)) == 4
    assert seeds == member_seeds(7, 4)
    assert member_seeds(7, 1) == [7]


# ------------------------------------------------------------------ sktime composition
def test_first_step_of_a_transformed_target_forecaster(gappy):
    forecaster = tiny() * NaiveForecaster(strategy="last")
    forecaster.fit(gappy, fh=[1, 2, 3])
    assert not forecaster.predict().isna().any()


def test_exogenous_transformer_in_forecasting_pipeline(airline):
    X = pd.DataFrame({"lagged": airline.shift(1).bfill().to_numpy()}, index=airline.index)
    gappy_x = with_gaps(X, [3, 4, 50, 100], column="lagged")
    pipeline = ForecastingPipeline([("impute", tiny()), ("forecaster", NaiveForecaster())])
    pipeline.fit(airline.iloc[:-3], X=gappy_x.iloc[:-3], fh=[1, 2, 3])
    assert len(pipeline.predict(X=gappy_x.iloc[-3:])) == 3


def test_grid_search_over_a_nested_network_parameter(gappy):
    forecaster = TransformedTargetForecaster(
        [("impute", tiny()), ("forecast", NaiveForecaster())]
    )
    search = ForecastingGridSearchCV(
        forecaster,
        cv=ExpandingWindowSplitter(initial_window=120, step_length=12, fh=[1, 2]),
        param_grid={"impute__network__channels": [4, 8]},
        scoring=MeanAbsoluteError(),
    )
    search.fit(gappy)
    assert search.best_params_["impute__network__channels"] in (4, 8)


def test_switchable_with_sktimes_imputer(gappy):
    multiplex = MultiplexTransformer(
        [("diffusion", tiny()), ("interpolation", Imputer(method="linear"))]
    )
    for choice in ("diffusion", "interpolation"):
        multiplex.set_params(selected_transformer=choice)
        assert not multiplex.fit_transform(gappy).isna().any()


# ------------------------------------------------------------------ reproducibility
def test_clone_pickle_and_save_give_identical_output(fitted, gappy, tmp_path):
    expected = fitted.transform(gappy)
    pd.testing.assert_series_equal(
        pickle.loads(pickle.dumps(fitted)).transform(gappy), expected
    )
    fitted.save(tmp_path / "imputer")
    pd.testing.assert_series_equal(
        load(str(tmp_path / "imputer")).transform(gappy), expected
    )
    pd.testing.assert_series_equal(clone(fitted).fit(gappy).transform(gappy), expected)


def test_random_state_decides_the_imputations(fitted, gappy):
    again = tiny().fit(gappy).transform_samples(gappy)
    pd.testing.assert_frame_equal(again, fitted.transform_samples(gappy))
    other = tiny(random_state=1).fit(gappy).transform_samples(gappy)
    assert not np.allclose(other.to_numpy(), again.to_numpy())


# ------------------------------------------------------------------ bad input
def test_column_without_an_observed_value_is_named(airline):
    data = pd.DataFrame({"good": airline.to_numpy(), "dead": np.nan}, index=airline.index)
    with pytest.raises(ValueError, match="'dead'.*no observed value"):
        tiny().fit(data)


def test_series_without_an_observed_value_in_a_panel_is_named():
    panel = _make_hierarchical((3,), n_columns=1, min_timepoints=20, max_timepoints=20)
    panel.loc["h0_1"] = np.nan
    with pytest.raises(ValueError, match="series 'h0_1'"):
        tiny().fit(panel)


def test_transform_names_an_empty_column(fitted, airline):
    empty = pd.Series(np.nan, index=airline.index[:20], name=airline.name)
    with pytest.raises(ValueError, match="no observed value"):
        fitted.transform(empty)


def test_too_few_observed_values_to_train(airline):
    short = with_gaps(airline.iloc[:12], [0, 1, 2, 3, 4])
    with pytest.raises(ValueError, match="at least 10 observed values.*has 7"):
        tiny().fit(short)


def test_inf_and_non_numeric_columns_are_named(airline):
    with_inf = airline.copy()
    with_inf.iloc[3] = np.inf
    with pytest.raises(ValueError, match="inf"):
        tiny().fit(with_inf)
    text = pd.DataFrame(
        {"value": airline.to_numpy(), "label": ["a"] * len(airline)}, index=airline.index
    )
    with pytest.raises(TypeError, match="categorical"):  # sktime's own input check
        tiny().fit(text)


def test_other_columns_at_transform(fitted, gappy):
    renamed = gappy.rename("other")
    with pytest.raises(ValueError, match="fitted on columns"):
        fitted.transform(renamed)


def test_interpolation_baseline_keeps_the_precision_of_interpolation_on_smooth_data():
    steps = np.arange(600)
    smooth = pd.DataFrame(
        {"a": np.sin(steps / 40.0), "b": np.cos(steps / 55.0) + 0.001 * steps}
    )
    holes = smooth.copy()
    hidden = np.random.default_rng(0).random(smooth.shape) < 0.1
    holes[hidden] = np.nan

    def error(baseline):
        imputer = tiny(training_steps=60, baseline=baseline).fit(holes)
        return np.abs(imputer.transform(holes) - smooth).to_numpy()[hidden].mean()

    # a briefly trained model is far off the smooth curves on its own, and adds only a
    # small difference to interpolation (whose error here is about 2e-4) with the
    # baseline
    relative = error("interpolation")
    assert relative < 0.1
    assert relative < 0.25 * error("none")


def test_transform_before_fit():
    from sktime.exceptions import NotFittedError

    with pytest.raises(NotFittedError):
        tiny().transform(load_airline())
    with pytest.raises(NotFittedError):
        tiny().transform_samples(load_airline())


@pytest.mark.parametrize(
    "params",
    [
        {"n_samples": 0},
        {"window_length": 1},
        {"point_estimate": "mode"},
        {"level_jitter": -1.0},
        {"level_jitter": "big"},
        {"baseline": "spline"},
        {"n_models": 0},
        {"n_models": 1.5},
        {"max_mask_ratio": 0.0},
        {"max_mask_ratio": 1.5},
        {"max_mask_ratio": True},
        {"sampler": "euler"},
    ],
)
def test_bad_parameters_are_named(params, gappy):
    name = next(iter(params))
    with pytest.raises(ValueError, match=name):
        tiny(**params).fit(gappy)


def test_public_methods_check_their_arguments(fitted, gappy):
    with pytest.raises(TypeError, match="pd.Series or pd.DataFrame"):
        fitted.transform_samples(gappy.to_numpy())
    with pytest.raises(ValueError, match="n_samples"):
        fitted.transform_samples(gappy, n_samples=0)
    with pytest.raises(ValueError, match="coverage"):
        fitted.transform_interval(gappy, coverage=1.5)
    with pytest.raises(ValueError, match="alpha"):
        fitted.transform_quantiles(gappy, alpha=[-0.1])


@pytest.mark.parametrize("n_models", [1, 2])
def test_long_data_is_summarised_a_stretch_at_a_time_to_the_same_answers(
    monkeypatch, n_models
):
    """Beyond STREAMED_SAMPLE_BYTES of imputations transform and its summaries draw a
    stretch of each series at a time (never all samples at once) and give what the
    whole draw gives (up to float32 rounding), on series of unequal length."""
    import sktime_diffusion.imputation as imputation

    panel = _make_hierarchical(
        hierarchy_levels=(2,), min_timepoints=70, max_timepoints=90, random_state=0
    )
    rng = np.random.default_rng(3)
    gappy = panel.mask(rng.random(panel.shape) < 0.15)
    gappy.iloc[20:35] = np.nan  # a gap across window borders
    imputer = tiny(window_length=8, n_models=n_models, n_samples=5).fit(gappy)
    whole = (
        imputer.transform(gappy),
        imputer.transform_quantiles(gappy, [0.1, 0.9]),
        imputer.transform_interval(gappy, 0.8),
    )
    drawn = []
    outpainted = imputation.DiffusionImputer._outpainted

    def recording(self, model, rounds, scaled, *args, **kwargs):
        drawn.extend(values.shape[1] for values in scaled)
        return outpainted(self, model, rounds, scaled, *args, **kwargs)

    # stretches of 2 windows (8 steps each), drawn with a window more either side
    window_bytes = 8 * 5 * 1 * 8
    monkeypatch.setattr(imputation, "STREAMED_SAMPLE_BYTES", 4 * 4 * window_bytes)
    monkeypatch.setattr(imputation.DiffusionImputer, "_outpainted", recording)
    streamed = (
        imputer.transform(gappy),
        imputer.transform_quantiles(gappy, [0.1, 0.9]),
        imputer.transform_interval(gappy, 0.8),
    )
    assert drawn and max(drawn) == 4 * 8
    # the same draws; network calls of other batch sizes round float32 differently
    for expected, got in zip(whole, streamed, strict=True):
        pd.testing.assert_frame_equal(got, expected, check_exact=False, rtol=1e-5)
    assert not streamed[0].isna().any().any()
