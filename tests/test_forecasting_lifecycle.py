"""DiffusionForecaster's life cycle: pretrain, fit, refit, update, clones and X pairing."""

import numpy as np
import pandas as pd
import pytest
import torch
from sktime.forecasting.model_evaluation import evaluate
from sktime.split import ExpandingWindowSplitter
from sktime.utils._testing.hierarchical import _make_hierarchical

from sktime_diffusion import DiffusionForecaster, DilatedConvNetwork
from sktime_diffusion.engine import TrainingConfig, train_model

FH = [1, 2, 3]


def tiny(**kwargs):
    params = {
        "network": DilatedConvNetwork(channels=8, n_layers=2, time_embedding_dim=16),
        "training_steps": 20,
        "fine_tune_steps": 5,
        "context_length": 8,
        "n_samples": 10,
        "n_sampling_steps": 4,
        "batch_size": 16,
        "random_state": 0,
    }
    params.update(kwargs)
    return DiffusionForecaster(**params)


def _panel(n_series=4, length=50):
    return _make_hierarchical(
        hierarchy_levels=(n_series,), min_timepoints=length, max_timepoints=length
    )


def _weights(model) -> dict[str, torch.Tensor]:
    return {name: value.clone() for name, value in model.state_dict().items()}


def _same_weights(model, weights) -> bool:
    return all(
        bool(torch.equal(value, weights[name]))
        for name, value in model.state_dict().items()
    )


def _panel_with_exogenous(keys=("a", "b"), n=60, seed=0):
    """y per instance follows its own X column 'driver' closely."""
    rng = np.random.default_rng(seed)
    frames_y, frames_x = [], []
    time = pd.RangeIndex(n)
    for number, key in enumerate(keys):
        driver = rng.normal(size=n) + 3.0 * number
        index = pd.MultiIndex.from_product([[key], time], names=["instance", "time"])
        frames_x.append(pd.DataFrame({"driver": driver}, index=index))
        frames_y.append(pd.DataFrame({"y": driver + rng.normal(0, 0.05, n)}, index=index))
    return pd.concat(frames_y), pd.concat(frames_x)


# ------------------------------------------------------------------ pretraining
def test_pretrain_then_fit_twice_works_and_refits_from_the_pretrained_weights():
    panel = _panel()
    y1, y2 = panel.loc["h0_0"], panel.loc["h0_1"]
    twice = tiny().pretrain(panel, fh=FH)
    twice.fit(y1, fh=FH)
    twice.fit(y2, fh=FH)
    once = tiny().pretrain(panel, fh=FH).fit(y2, fh=FH)
    pd.testing.assert_frame_equal(twice.predict_samples(), once.predict_samples())


def test_fit_after_pretrain_never_changes_the_pretrained_weights():
    panel = _panel()
    forecaster = tiny().pretrain(panel, fh=FH)
    pretrained = _weights(forecaster.pretrained_model_)
    forecaster.fit(panel.loc["h0_0"], fh=FH)
    assert _same_weights(forecaster.pretrained_model_, pretrained)
    assert not _same_weights(forecaster.model_, pretrained)  # the copy was fine-tuned
    forecaster.update(panel.loc["h0_0"].iloc[-3:] + 1.0, update_params=True)
    assert _same_weights(forecaster.pretrained_model_, pretrained)


def test_pretrain_with_X_then_fit_twice_keeps_the_exogenous_scaling():
    y, X = _panel_with_exogenous(keys=("a", "b", "c"))
    forecaster = tiny().pretrain(y, X=X, fh=FH)
    for key in ("a", "b"):
        forecaster.fit(y.loc[key].iloc[:-3], X=X.loc[key].iloc[:-3], fh=FH)
        assert forecaster.predict(X=X.loc[key].iloc[-3:]).shape == (3, 1)


def test_a_clone_taken_after_fit_fine_tunes_from_the_pretrained_weights_only():
    panel = _panel()
    forecaster = tiny().pretrain(panel, fh=FH).fit(panel.loc["h0_0"], fh=FH)
    clone = forecaster.clone().fit(panel.loc["h0_1"], fh=FH)
    fresh = tiny().pretrain(panel, fh=FH).fit(panel.loc["h0_1"], fh=FH)
    pd.testing.assert_frame_equal(clone.predict_samples(), fresh.predict_samples())


def test_evaluate_after_pretrain_fine_tunes_every_fold_from_the_pretrained_weights():
    panel = _panel(length=60)
    series = panel.loc["h0_0"]
    forecaster = tiny().pretrain(panel, fh=FH).fit(series.iloc[:40], fh=FH)
    splitter = ExpandingWindowSplitter(initial_window=45, step_length=5, fh=FH)
    results = evaluate(forecaster, splitter, series, return_data=True)
    for _, row in results.iterrows():
        train = row["y_train"]
        alone = tiny().pretrain(panel, fh=FH).fit(train, fh=FH).predict()
        np.testing.assert_array_equal(row["y_pred"].to_numpy(), alone.to_numpy())


def test_a_new_series_shorter_than_a_window_is_forecast_after_pretrain():
    panel = _panel()
    forecaster = tiny().pretrain(panel, fh=FH)  # window of 8 + 3 steps
    short = panel.loc["h0_0"].iloc[:6]
    prediction = forecaster.fit(short, fh=FH).predict_interval(coverage=0.9)
    assert prediction.shape == (3, 2)
    assert np.isfinite(prediction.to_numpy()).all()
    expected = pd.date_range(short.index[-1], periods=4, freq=panel.index.levels[1].freq)
    assert list(prediction.index) == list(expected[1:])


def test_fine_tuning_stays_close_to_the_pretrained_weights():
    """Fine-tunes use a lower rate and an EMA that starts from the pretrained weights."""
    panel = _panel()
    forecaster = tiny(fine_tune_steps=30).pretrain(panel, fh=FH)
    pretrained = forecaster.pretrained_model_
    series = panel.loc["h0_0"] * 3.0 + 5.0
    forecaster.fit(series, fh=FH)

    # the same data trained from the pretrained weights as a fresh training would
    import copy

    full_rate = copy.deepcopy(pretrained)
    data = forecaster._windows_of(series, None, recent=None)
    train_model(
        full_rate,
        data,
        forecaster._mask_strategy(),
        TrainingConfig(
            epochs=1000,
            max_steps=30,
            batch_size=16,
            learning_rate=forecaster._learning_rate(len(data)),
            seed=forecaster.seed_,
        ),
    )

    def distance(model):
        return sum(
            float((value - pretrained.state_dict()[name]).square().sum())
            for name, value in model.state_dict().items()
            if value.is_floating_point()
        )

    assert distance(forecaster.model_) < 0.5 * distance(full_rate)


def test_update_with_params_fine_tunes_on_recent_windows_only(monkeypatch):
    series = _panel(n_series=1, length=400).loc["h0_0"]
    forecaster = tiny(fine_tune_steps=2).fit(series.iloc[:300], fh=FH)
    seen = []
    import sktime_diffusion._estimator_engine as diffusion

    original = diffusion.train_model

    def recording(model, data, masks, config):
        seen.append(len(data))
        return original(model, data, masks, config)

    monkeypatch.setattr(diffusion, "train_model", recording)
    forecaster.update(series.iloc[300:310], update_params=True)
    forecaster.update(series.iloc[310:390], update_params=True)
    # windows ending in or after the new data (at least 32), not the whole history
    assert seen == [32, 80]


# ------------------------------------------------------------------ exogenous X
def test_future_X_of_a_panel_is_matched_by_instance_not_by_position():
    y, X = _panel_with_exogenous()
    past_y = y.groupby(level=0).head(57)
    past_X = X.groupby(level=0).head(57)
    future_X = X.groupby(level=0).tail(3)
    forecaster = tiny(training_steps=5).fit(past_y, X=past_X, fh=FH)
    in_order = forecaster.predict(X=future_X)
    reordered = pd.concat([future_X.loc[["b"]], future_X.loc[["a"]]])
    pd.testing.assert_frame_equal(forecaster.predict(X=reordered), in_order)


def test_future_X_with_missing_or_extra_instances_is_refused():
    y, X = _panel_with_exogenous(keys=("a", "b"))
    forecaster = tiny(training_steps=5).fit(
        y.groupby(level=0).head(57), X=X.groupby(level=0).head(57), fh=FH
    )
    future = X.groupby(level=0).tail(3)
    with pytest.raises(ValueError, match="no future X for instance.*'b'"):
        forecaster.predict(X=future.loc[["a"]])
    extra = future.loc[["a"]].rename(index={"a": "z"}, level=0)
    with pytest.raises(ValueError, match="instance.*'z'"):
        forecaster.predict(X=pd.concat([future, extra]))


def test_update_keeps_each_instance_paired_with_its_own_X():
    y, X = _panel_with_exogenous(keys=("b", "a"))  # not sorted: update sorts the history
    head_y, head_X = y.groupby(level=0).head(54), X.groupby(level=0).head(54)
    new_y = y.groupby(level=0).nth(list(range(54, 57)))
    new_X = X.groupby(level=0).nth(list(range(54, 57)))
    future_X = X.groupby(level=0).tail(3)
    forecaster = tiny(training_steps=5).fit(head_y, X=head_X, fh=FH)
    forecaster.update(new_y, X=new_X, update_params=False)
    as_given = forecaster.predict(X=future_X)  # instances b, a
    reordered = pd.concat([future_X.loc[["a"]], future_X.loc[["b"]]])
    pd.testing.assert_frame_equal(forecaster.predict(X=reordered), as_given)


def test_update_without_X_after_fit_with_X_is_refused():
    y, X = _panel_with_exogenous(keys=("a",))
    single_y, single_X = y.loc["a"], X.loc["a"]
    forecaster = tiny(training_steps=5).fit(single_y.iloc[:50], X=single_X.iloc[:50], fh=FH)
    with pytest.raises(ValueError, match="pass the X of the new time points to update"):
        forecaster.update(single_y.iloc[50:53], update_params=False)
