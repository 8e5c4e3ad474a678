"""DiffusionBackbone: pretraining, the one scaling rule, persistence, clones, and the
forecaster fine-tuning a copy of it (the backbone itself never changes)."""

import pickle

import numpy as np
import pandas as pd
import pytest
import torch
from sktime.datasets import load_airline, load_lynx
from sktime.forecasting.model_evaluation import evaluate
from sktime.split import ExpandingWindowSplitter

from sktime_diffusion import (
    DiffusionAnomalyDetector,
    DiffusionBackbone,
    DiffusionForecaster,
    DiffusionGenerator,
    DiffusionImputer,
    DilatedConvNetwork,
)
from sktime_diffusion.backbone import BACKBONE_MASKS, backbone_windows
from sktime_diffusion.engine import MASK_PATTERNS

FH = [1, 2, 3]


def panel():
    return pd.concat(
        {
            "airline": load_airline().reset_index(drop=True),
            "lynx": load_lynx().reset_index(drop=True),
        }
    ).to_frame("value")


def tiny_backbone(**kwargs):
    params = {
        "window_length": 16,
        "network": DilatedConvNetwork(channels=8, n_layers=2, time_embedding_dim=16),
        "training_steps": 10,
        "batch_size": 16,
        "random_state": 0,
    }
    return DiffusionBackbone(**{**params, **kwargs})


@pytest.fixture(scope="module")
def pretrained():
    return tiny_backbone().pretrain(panel())


def forecaster(backbone, **kwargs):
    params = {
        "backbone": backbone,
        "fine_tune_steps": 4,
        "context_length": 8,
        "n_samples": 8,
        "n_sampling_steps": 4,
        "random_state": 0,
    }
    return DiffusionForecaster(**{**params, **kwargs})


def weights(model):
    return {name: value.clone() for name, value in model.state_dict().items()}


def same_weights(first, second):
    return first.keys() == second.keys() and all(
        torch.equal(first[name], second[name]) for name in first
    )


def test_backbone_masks_are_the_union_of_every_task_pattern():
    weights_by_pattern = {
        name: weight for name, (weight, _) in BACKBONE_MASKS.mixture().items()
    }
    assert set(weights_by_pattern) == set(MASK_PATTERNS)
    assert all(weight > 0 for weight in weights_by_pattern.values())


def test_backbone_windows_standardise_each_series_and_pad_short_ones():
    long = np.arange(40.0) * 3 + 100
    short = np.array([5.0, 7.0, 9.0])
    windows = backbone_windows([long, short, np.full(5, np.nan)], window_length=8)
    assert len(windows) == 33 + 1  # the all-NaN series gives none
    values, observed, _ = windows.take(torch.arange(len(windows)), torch.device("cpu"))
    standardised = (long - long.mean()) / long.std()
    np.testing.assert_allclose(values[0, 0], standardised[:8], rtol=1e-6)
    assert not observed[-1, 0, :5].any() and observed[-1, 0, 5:].all()
    np.testing.assert_allclose(values[-1, 0, 5:], [-np.sqrt(1.5), 0.0, np.sqrt(1.5)])
    recent = backbone_windows([long], window_length=8, recent=2)
    values, _, _ = recent.take(torch.arange(len(recent)), torch.device("cpu"))
    np.testing.assert_allclose(
        values[:, 0], np.stack([standardised[-9:-1], standardised[-8:]]), rtol=1e-6
    )
    assert backbone_windows([np.full(5, np.nan)], window_length=8) is None


def test_pretrain_returns_the_backbone_with_a_channel_independent_model(pretrained):
    assert pretrained.model_.channel_independent
    assert pretrained.n_series_ == 2
    assert pretrained.training_history_.n_steps == 10


def test_pretrain_is_reproducible_with_random_state(pretrained):
    again = tiny_backbone().pretrain(panel())
    assert same_weights(weights(again.model_), weights(pretrained.model_))
    other = tiny_backbone(random_state=1).pretrain(panel())
    assert not same_weights(weights(other.model_), weights(pretrained.model_))


def test_backbone_network_parameters_are_reachable_with_the_default_network():
    backbone = DiffusionBackbone().set_params(network__channels=16)
    assert backbone.get_params()["network__channels"] == 16


def test_backbone_save_and_load_give_the_same_forecasts(pretrained, tmp_path):
    pretrained.save(tmp_path / "backbone.pt")
    loaded = DiffusionBackbone.load(tmp_path / "backbone.pt")
    assert loaded.get_params(deep=False).keys() == pretrained.get_params(deep=False).keys()
    assert loaded.window_length == 16 and loaded.network.channels == 8
    assert same_weights(weights(loaded.model_), weights(pretrained.model_))
    y = load_airline()
    first = forecaster(pretrained).fit(y, fh=FH).predict_quantiles(alpha=[0.1, 0.9])
    second = forecaster(loaded).fit(y, fh=FH).predict_quantiles(alpha=[0.1, 0.9])
    pd.testing.assert_frame_equal(first, second)


def test_a_file_that_is_not_a_backbone_is_refused(tmp_path):
    torch.save({"something": 1}, tmp_path / "other.pt")
    with pytest.raises(ValueError, match="not a DiffusionBackbone file"):
        DiffusionBackbone.load(tmp_path / "other.pt")


def test_clones_keep_the_pretrained_weights(pretrained):
    clone = pretrained.clone()
    assert clone.model_ is pretrained.model_
    fitted_clone = forecaster(pretrained).clone()
    assert fitted_clone.backbone.model_ is pretrained.model_
    from sklearn.base import clone as sklearn_clone

    assert sklearn_clone(forecaster(pretrained)).backbone.model_ is pretrained.model_
    assert not hasattr(tiny_backbone().clone(), "model_")


def test_fit_fine_tunes_a_copy_and_never_changes_the_backbone(pretrained):
    before = weights(pretrained.model_)
    fitted = forecaster(pretrained).fit(load_airline(), fh=FH)
    assert fitted.model_ is not pretrained.model_
    assert not same_weights(weights(fitted.model_), before)  # it did fine-tune
    assert same_weights(weights(pretrained.model_), before)


def test_one_backbone_serves_forecasters_in_evaluate_folds_unchanged(pretrained):
    before = weights(pretrained.model_)
    y = load_airline()
    results = evaluate(
        forecaster(pretrained),
        ExpandingWindowSplitter(fh=FH, initial_window=120, step_length=12),
        y,
    )
    assert len(results) == 2 and results.iloc[:, 0].notna().all()
    assert same_weights(weights(pretrained.model_), before)


def test_zero_fine_tune_steps_only_condition_on_the_series(pretrained):
    fitted = forecaster(pretrained, fine_tune_steps=0).fit(load_airline(), fh=FH)
    assert same_weights(weights(fitted.model_), weights(pretrained.model_))
    assert fitted.predict().notna().all()


def test_a_series_shorter_than_the_window_is_forecast_from_a_padded_context(pretrained):
    short = load_airline().iloc[:6]
    fitted = forecaster(pretrained, context_length=12).fit(short, fh=FH)
    prediction = fitted.predict()
    assert len(prediction) == 3 and prediction.notna().all()


def test_the_channel_independent_backbone_forecasts_several_columns(pretrained):
    y = load_airline()
    frame = pd.DataFrame({"a": y.to_numpy(), "b": y.to_numpy()[::-1]}, index=y.index)
    prediction = forecaster(pretrained).fit(frame, fh=FH).predict()
    assert list(prediction.columns) == ["a", "b"] and prediction.notna().all().all()


def test_a_fitted_forecaster_with_a_backbone_pickles(pretrained):
    fitted = forecaster(pretrained).fit(load_airline(), fh=FH)
    restored = pickle.loads(pickle.dumps(fitted))
    pd.testing.assert_series_equal(restored.predict(), fitted.predict())


def test_an_unpretrained_backbone_is_refused_by_name():
    with pytest.raises(ValueError, match="not pretrained"):
        forecaster(tiny_backbone()).fit(load_airline(), fh=FH)
    with pytest.raises(ValueError, match="None, .pretrained. or a DiffusionBackbone"):
        forecaster("yes").fit(load_airline(), fh=FH)
    with pytest.raises(ValueError, match="not pretrained"):
        tiny_backbone().save("unused.pt")


def test_a_backbone_with_exogenous_x_is_refused(pretrained):
    y = load_airline()
    X = pd.DataFrame({"x": np.arange(len(y), dtype=float)}, index=y.index)
    with pytest.raises(ValueError, match="backbone takes no exogenous X"):
        forecaster(pretrained).fit(y, X=X, fh=FH)


def test_pretrain_of_a_forecaster_with_a_backbone_is_refused(pretrained):
    with pytest.raises(ValueError, match="pretrain the DiffusionBackbone"):
        forecaster(pretrained).pretrain(panel())


@pytest.mark.parametrize(
    "params, message",
    [
        ({"window_length": 1}, "window_length"),
        ({"training_steps": 0}, "training_steps"),
        ({"schedule": "nope"}, "schedule"),
        ({"learning_rate": -1.0}, "learning_rate"),
        ({"baseline": "spline"}, "baseline"),
    ],
)
def test_bad_backbone_parameters_are_named_before_training(params, message):
    with pytest.raises(ValueError, match=message):
        tiny_backbone(**params).pretrain(panel())


def test_pretrain_on_data_without_an_observed_value_is_refused():
    empty = pd.DataFrame({"value": [np.nan] * 20})
    with pytest.raises(ValueError, match="no observed value"):
        tiny_backbone().pretrain(empty)


def test_pretrain_leaves_the_callers_data_unchanged():
    data = panel()
    data.iloc[3, 0] = np.nan
    before = data.copy()
    tiny_backbone(training_steps=2).pretrain(data)
    pd.testing.assert_frame_equal(data, before)


def test_a_pretrained_forecaster_with_a_backbone_keeps_both_on_clone(pretrained):
    # sktime's own clone plugin (pretrained state) stays in use beside ours
    from sktime_diffusion.forecasting import DiffusionForecaster as Forecaster

    plugins = Forecaster._get_clone_plugins()
    names = [plugin.__name__ for plugin in plugins]
    assert names[0] == "KeepPretrainedState" and "_PretrainedCloner" in names


def test_a_second_pretrain_continues_and_a_saved_stage_resumes_to_the_same_weights(
    tmp_path,
):
    uninterrupted = tiny_backbone().pretrain(panel())
    first_stage = weights(uninterrupted.model_)
    first_model = uninterrupted.model_
    uninterrupted.pretrain(panel())
    assert uninterrupted.n_stages_ == 2
    assert uninterrupted.model_ is not first_model  # holders of stage 1 keep it
    assert same_weights(weights(first_model), first_stage)
    assert not same_weights(weights(uninterrupted.model_), first_stage)

    tiny_backbone().pretrain(panel()).save(tmp_path / "stage_1.pt")
    resumed = DiffusionBackbone.load(tmp_path / "stage_1.pt").pretrain(panel())
    assert resumed.n_stages_ == 2
    assert same_weights(weights(resumed.model_), weights(uninterrupted.model_))


def gappy_airline():
    y = load_airline().to_frame("passengers")
    y.iloc[[10, 11, 12, 60, 100, 101]] = np.nan
    return y


def imputer(backbone, **kwargs):
    params = {
        "backbone": backbone,
        "fine_tune_steps": 4,
        "window_length": 16,
        "n_models": 2,
        "n_samples": 6,
        "n_sampling_steps": 4,
        "random_state": 0,
    }
    return DiffusionImputer(**{**params, **kwargs})


def test_the_imputer_fine_tunes_copies_and_never_changes_the_backbone(pretrained):
    before = weights(pretrained.model_)
    y = gappy_airline()
    fitted = imputer(pretrained).fit(y)
    filled = fitted.transform(y)
    assert filled.notna().all().all()
    observed = y.notna().to_numpy()
    np.testing.assert_array_equal(filled.to_numpy()[observed], y.to_numpy()[observed])
    assert all(model is not pretrained.model_ for model in fitted.models_)
    assert not same_weights(weights(fitted.models_[0]), before)
    assert same_weights(weights(pretrained.model_), before)


def test_an_imputer_that_only_conditions_on_the_backbone_keeps_its_weights(pretrained):
    fitted = imputer(pretrained, fine_tune_steps=0).fit(gappy_airline())
    assert fitted.training_histories_ == [None, None]
    assert same_weights(weights(fitted.models_[0]), weights(pretrained.model_))
    assert fitted.transform(gappy_airline()).notna().all().all()


def test_the_imputers_backbone_samples_in_backbone_units(pretrained):
    # the same data in other units gives the same imputations in those units: each
    # window is standardised by its own observed entries (the floor moves along)
    y = gappy_airline()
    first = imputer(pretrained, fine_tune_steps=0).fit(y).transform(y)
    moved = 1000.0 * y - 5.0
    second = imputer(pretrained, fine_tune_steps=0).fit(moved).transform(moved)
    np.testing.assert_allclose(second.to_numpy(), 1000.0 * first.to_numpy() - 5.0)


def test_an_imputer_refuses_an_unpretrained_backbone_by_name():
    with pytest.raises(ValueError, match="not pretrained"):
        imputer(tiny_backbone()).fit(gappy_airline())


def test_set_params_on_a_pretrained_backbone_makes_it_unpretrained(pretrained):
    # skbase's set_params resets: new parameters describe a backbone not yet trained
    changed = pretrained.clone().set_params(training_steps=3)
    assert not hasattr(changed, "model_")
    assert hasattr(pretrained, "model_")


def test_one_backbone_serves_all_four_estimators_and_stays_unchanged(pretrained):
    before = weights(pretrained.model_)
    y = load_airline()
    forecast = forecaster(pretrained).fit(y, fh=FH).predict()
    imputed = imputer(pretrained).fit(gappy_airline()).transform(gappy_airline())
    detector = DiffusionAnomalyDetector(
        backbone=pretrained,
        fine_tune_steps=3,
        window_length=16,
        n_samples=4,
        n_sampling_steps=4,
        random_state=0,
    ).fit(y.to_frame())
    scores = detector.transform_scores(y.to_frame())
    generator = DiffusionGenerator(
        backbone=pretrained,
        fine_tune_steps=3,
        window_length=16,
        n_sampling_steps=4,
        random_state=0,
    ).fit(y.to_frame())
    synthetic = generator.sample(3, length=40)
    assert forecast.notna().all() and imputed.notna().all().all()
    assert np.isfinite(scores.to_numpy()).all() and synthetic.notna().all().all()
    models = [detector.model_, generator.model_]
    assert all(model is not pretrained.model_ for model in models)
    assert same_weights(weights(pretrained.model_), before)


def test_the_detector_and_generator_only_condition_with_zero_fine_tune_steps(pretrained):
    y = load_airline().to_frame()
    detector = DiffusionAnomalyDetector(
        backbone=pretrained, fine_tune_steps=0, window_length=16, n_samples=4
    ).fit(y)
    generator = DiffusionGenerator(
        backbone=pretrained, fine_tune_steps=0, window_length=16
    ).fit(y)
    for fitted in (detector, generator):
        assert fitted.training_history_ is None
        assert same_weights(weights(fitted.model_), weights(pretrained.model_))


def test_backbone_draws_are_in_the_units_of_the_data(pretrained):
    # scores of the same data in other units are the same: each scoring window is
    # standardised by its given slices (floor in units of the column's spread)
    y = load_airline().to_frame()
    params = {"backbone": pretrained, "fine_tune_steps": 0, "window_length": 16}
    first = DiffusionAnomalyDetector(n_samples=4, random_state=0, **params).fit(y)
    moved = 50.0 * y + 3.0
    second = DiffusionAnomalyDetector(n_samples=4, random_state=0, **params).fit(moved)
    np.testing.assert_allclose(
        second.transform_scores(moved).to_numpy(),
        first.transform_scores(y).to_numpy(),
        rtol=1e-6,
    )


def test_the_shipped_backbone_is_read_from_the_package_and_is_small():
    from sktime_diffusion.backbone import SHIPPED_BACKBONE, shipped_backbone

    assert SHIPPED_BACKBONE.is_file()
    assert SHIPPED_BACKBONE.stat().st_size < 5e6  # a few MB at most
    shipped = shipped_backbone()
    assert shipped.model_.channel_independent and shipped.n_stages_ >= 1
    again = shipped_backbone()
    assert again is not shipped and again.model_ is shipped.model_


def test_pretrained_is_a_one_word_switch_for_every_estimator():
    y = load_airline()
    sampling = {"backbone": "pretrained", "fine_tune_steps": 0, "n_sampling_steps": 4}
    forecast = DiffusionForecaster(n_samples=8, **sampling).fit(y, fh=FH).predict()
    imputed = (
        DiffusionImputer(window_length=16, n_models=1, n_samples=4, **sampling)
        .fit(gappy_airline())
        .transform(gappy_airline())
    )
    scores = (
        DiffusionAnomalyDetector(window_length=16, n_samples=4, **sampling)
        .fit(y.to_frame())
        .transform_scores(y.to_frame())
    )
    synthetic = DiffusionGenerator(window_length=16, **sampling).fit(y.to_frame()).sample(2)
    assert forecast.notna().all() and imputed.notna().all().all()
    assert np.isfinite(scores.to_numpy()).all() and synthetic.notna().all().all()


def test_a_backbone_word_other_than_pretrained_is_refused_by_name():
    with pytest.raises(ValueError, match="'pretrained' or a DiffusionBackbone"):
        DiffusionImputer(backbone="shipped").fit(gappy_airline())


def test_a_seasonal_backbone_keeps_its_baseline_through_save_and_every_estimator(
    tmp_path,
):
    backbone = tiny_backbone(baseline="seasonal").pretrain(panel())
    assert backbone.model_.baseline == "seasonal"
    backbone.save(tmp_path / "seasonal.pt")
    loaded = DiffusionBackbone.load(tmp_path / "seasonal.pt")
    assert loaded.baseline == "seasonal" and loaded.model_.baseline == "seasonal"
    y = load_airline()
    fitted = forecaster(loaded).fit(y, fh=FH)
    assert fitted.model_.baseline == "seasonal"
    imputer = DiffusionImputer(
        backbone=loaded, window_length=16, n_models=1, n_samples=2, fine_tune_steps=2
    ).fit(gappy_airline())
    assert all(model.baseline == "seasonal" for model in imputer.models_)


def test_a_seasonal_backbone_forecasts_a_seasonal_series_from_its_last_season(
    clean_season,
):
    # trained one step, the network adds noise but no shift to the baseline: the
    # median forecast of a clean season is about that season repeated (MAE 0.4-0.6
    # for seeds 0-2), where a backbone without a baseline misses it (MAE 6.1-6.4)
    y, fh = clean_season, list(range(1, 13))
    errors = {}
    for baseline in ("seasonal", "none"):
        backbone = tiny_backbone(baseline=baseline, training_steps=1).pretrain(panel())
        fitted = forecaster(backbone, fine_tune_steps=0, context_length=48, n_samples=64)
        forecast = fitted.fit(y, fh=fh).predict()
        errors[baseline] = np.abs(forecast.to_numpy() - y.to_numpy()[-12:]).mean()
    assert errors["seasonal"] < 1.5 < 4.0 < errors["none"]
