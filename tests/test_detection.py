"""DiffusionAnomalyDetector: scores, labels, thresholds, pipelines, bad input."""

import pickle

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sktime.base import load
from sktime.detection.compose import DetectorPipeline
from sktime.transformations.series.detrend import Detrender

from sktime_diffusion import DiffusionAnomalyDetector, DilatedConvNetwork
from sktime_diffusion.anomaly_scores import pool_scores, smooth_scores
from sktime_diffusion.detection import (
    default_detector_window,
    default_score_smoothing,
    threshold_folds_of,
    training_stretches,
)

TINY = {
    "network": DilatedConvNetwork(channels=8, n_layers=2, time_embedding_dim=16),
    "window_length": 12,
    "training_steps": 20,
    "n_samples": 4,
    "n_sampling_steps": 3,
    "random_state": 0,
}


def _seasonal(n=300, n_features=1, seed=0, period=24):
    rng = np.random.default_rng(seed)
    t = np.arange(n)[:, None]
    phase = np.arange(n_features)[None, :]
    values = np.sin(2 * np.pi * t / period + phase) + 0.1 * rng.standard_normal(
        (n, n_features)
    )
    index = pd.date_range("2021-01-01", periods=n, freq="h")
    return pd.DataFrame(values, index=index, columns=[f"x{i}" for i in range(n_features)])


@pytest.fixture(scope="module")
def fitted():
    data = _seasonal()
    return DiffusionAnomalyDetector(**TINY).fit(data.iloc[:200]), data.iloc[200:]


def test_scores_have_one_finite_value_per_time_point(fitted):
    detector, test = fitted
    scores = detector.transform_scores(test)
    assert list(scores.columns) == ["scores"]
    assert scores.index.equals(test.index)
    assert np.isfinite(scores.to_numpy()).all() and (scores.to_numpy() >= 0).all()


def test_default_scores_are_the_raw_point_scores_pooled_over_a_window(fitted):
    detector, test = fitted
    raw = DiffusionAnomalyDetector(**{**TINY, "score_smoothing": 1})
    raw_scores = raw.fit(_seasonal().iloc[:200]).transform_scores(test)["scores"]
    expected = pool_scores(raw_scores.to_numpy(), default_score_smoothing(12))
    np.testing.assert_allclose(detector.transform_scores(test)["scores"], expected)
    assert default_score_smoothing(12) == 12


def test_smoothing_is_a_centred_moving_average_that_keeps_nan():
    scores = np.array([0.0, 3.0, 0.0, np.nan, 6.0, 0.0])
    np.testing.assert_allclose(
        smooth_scores(scores, 3), [1.5, 1.0, 1.5, np.nan, 3.0, 3.0], equal_nan=True
    )
    np.testing.assert_array_equal(smooth_scores(scores, 1), scores)


def test_pooling_keeps_a_lone_spike_that_the_average_spreads_thin():
    scores = np.full(25, 0.8)
    scores[12] = 20.0
    scores[3] = np.nan
    pooled = pool_scores(scores, 9)
    average = smooth_scores(scores, 9)
    assert pooled[12] == pytest.approx(20.0 / 3)  # the point's own score / sqrt(9)
    assert average[12] == pytest.approx((20.0 + 8 * 0.8) / 9)
    np.testing.assert_allclose(pooled[20:], average[20:])  # far from the spike
    assert np.isnan(pooled[3])
    np.testing.assert_array_equal(pool_scores(scores, 1), scores)


def test_labels_and_points_agree_with_the_threshold(fitted):
    detector, test = fitted
    scores = detector.transform_scores(test)["scores"].to_numpy()
    flagged = np.flatnonzero(scores > detector.threshold_)
    assert detector.predict(test)["ilocs"].tolist() == flagged.tolist()
    labels = detector.transform(test)
    assert len(labels) == len(test)
    assert np.flatnonzero(labels.to_numpy().ravel()).tolist() == flagged.tolist()


def test_threshold_is_the_quantile_of_out_of_fold_scores_with_two_folds():
    data = _seasonal(n=200)
    params = {**TINY, "score_smoothing": 1, "threshold_folds": 2}
    detector = DiffusionAnomalyDetector(**params).fit(data)
    assert detector.threshold_source_ == "out-of-fold"
    assert len(detector.threshold_scores_) == 200  # every point, scored out of fold
    own = detector.transform_scores(data)["scores"].to_numpy()
    assert not np.allclose(detector.threshold_scores_, own)
    quantile = np.quantile(detector.threshold_scores_, 0.99)
    assert detector.threshold_ == pytest.approx(quantile)


def test_each_fold_is_scored_by_a_model_trained_on_the_other_folds(monkeypatch):
    data = _seasonal(n=200)
    trained_on, scored_by = [], []
    train = DiffusionAnomalyDetector._model_trained_on
    score = DiffusionAnomalyDetector._point_scores

    def recording_train(self, parts, seed):
        model, history = train(self, parts, seed)
        trained_on.append(([part.copy() for part in parts], model))
        return model, history

    def recording_score(self, values, model=None):
        scored_by.append((values.copy(), self.model_ if model is None else model))
        return score(self, values, model)

    monkeypatch.setattr(DiffusionAnomalyDetector, "_model_trained_on", recording_train)
    monkeypatch.setattr(DiffusionAnomalyDetector, "_point_scores", recording_score)
    detector = DiffusionAnomalyDetector(**{**TINY, "threshold_folds": 2}).fit(data)
    values = data.to_numpy()
    (full_parts, full_model), *folds = trained_on
    assert full_model is detector.model_
    np.testing.assert_array_equal(np.concatenate(full_parts), values)
    assert len(folds) == 2 and len(scored_by) == 2
    halves = [values[:100], values[100:]]
    for number, ((parts, model), (scored, scorer)) in enumerate(
        zip(folds, scored_by, strict=True)
    ):
        np.testing.assert_array_equal(scored, halves[number])
        assert scorer is model and model is not detector.model_
        np.testing.assert_array_equal(np.concatenate(parts), halves[1 - number])


def test_out_of_fold_scores_are_higher_than_a_models_own_training_scores():
    # 400 steps on 200 points: the model reconstructs its own windows better
    params = {**TINY, "training_steps": 400, "score_smoothing": 1}
    data = _seasonal(n=200)
    out_of_fold = DiffusionAnomalyDetector(**{**params, "threshold_folds": 2}).fit(data)
    in_sample = DiffusionAnomalyDetector(**params).fit(data)
    assert np.median(out_of_fold.threshold_scores_) > np.median(in_sample.threshold_scores_)


def test_scores_do_not_depend_on_threshold_folds():
    data = _seasonal(n=200)
    scores = [
        DiffusionAnomalyDetector(**{**TINY, "threshold_folds": folds})
        .fit(data)
        .transform_scores(data)
        for folds in (0, 2, 3)
    ]
    pd.testing.assert_frame_equal(scores[0], scores[1])
    pd.testing.assert_frame_equal(scores[0], scores[2])


def test_folds_are_consecutive_equal_parts_of_at_least_a_window():
    assert threshold_folds_of(200, 12, 2) == [(0, 100), (100, 200)]
    assert threshold_folds_of(10, 3, 3) == [(0, 3), (3, 7), (7, 10)]
    assert threshold_folds_of(23, 12, 2) == []  # a part would be shorter than a window
    assert threshold_folds_of(200, 12, 0) == []
    assert training_stretches(np.r_[np.zeros(100, bool), np.ones(100, bool)], 12) == [
        (0, 100)
    ]
    held_out = np.zeros(90, dtype=bool)
    held_out[30:60] = True
    assert training_stretches(held_out, 30) == [(0, 30), (60, 90)]
    assert training_stretches(held_out, 31) == []


def test_fit_data_too_short_for_the_folds_warns_and_uses_in_sample_scores():
    data = _seasonal(n=20)  # two folds of a window of 12 need 24 points
    with pytest.warns(UserWarning, match="shorter than threshold_folds=2 windows"):
        detector = DiffusionAnomalyDetector(**{**TINY, "threshold_folds": 2}).fit(data)
    assert detector.threshold_source_ == "in-sample"
    own = detector.transform_scores(data)["scores"].to_numpy()
    np.testing.assert_array_equal(detector.threshold_scores_, own)


def test_in_sample_threshold_by_default():
    data = _seasonal(n=200)
    detector = DiffusionAnomalyDetector(**TINY).fit(data)
    assert detector.threshold_source_ == "in-sample"
    own_scores = detector.transform_scores(data)["scores"].to_numpy()
    np.testing.assert_array_equal(detector.threshold_scores_, own_scores)
    assert detector.threshold_ == pytest.approx(np.quantile(own_scores, 0.99))


def test_threshold_does_not_depend_on_data_passed_to_transform(fitted):
    detector, test = fitted
    threshold = detector.threshold_
    shifted = test + 5.0
    for data in (test, shifted, test.iloc[:30]):
        detector.transform(data)
        detector.predict(data)
        assert detector.threshold_ == threshold


def test_anomaly_segments_are_runs_of_flagged_points(fitted):
    detector, test = fitted
    points = detector.predict(test)["ilocs"].tolist()
    segments = detector.predict_anomaly_segments(test)["ilocs"]
    covered = [i for interval in segments for i in range(interval.left, interval.right)]
    assert covered == points
    assert all(b.left > a.right for a, b in zip(segments, segments[1:], strict=False))


def test_same_random_state_same_scores_and_clone_pickle_save_agree(fitted, tmp_path):
    detector, test = fitted
    expected = detector.transform_scores(test)
    again = DiffusionAnomalyDetector(**TINY).fit(_seasonal().iloc[:200])
    pd.testing.assert_frame_equal(again.transform_scores(test), expected)
    pd.testing.assert_frame_equal(detector.transform_scores(test), expected)
    restored = pickle.loads(pickle.dumps(detector))
    pd.testing.assert_frame_equal(restored.transform_scores(test), expected)
    detector.save(tmp_path / "detector")
    loaded = load(str(tmp_path / "detector"))
    pd.testing.assert_frame_equal(loaded.transform_scores(test), expected)
    refit = clone(detector).fit(_seasonal().iloc[:200])
    pd.testing.assert_frame_equal(refit.transform_scores(test), expected)


def test_other_random_state_other_scores(fitted):
    detector, test = fitted
    other = DiffusionAnomalyDetector(**{**TINY, "random_state": 1})
    other.fit(_seasonal().iloc[:200])
    assert not np.allclose(
        other.transform_scores(test).to_numpy(), detector.transform_scores(test)
    )


def test_works_after_a_transformer_in_a_pipeline():
    data = _seasonal()["x0"] + np.linspace(0, 5, 300)
    data.iloc[250] += 4
    pipeline = Detrender() * DiffusionAnomalyDetector(**{**TINY, "training_steps": 100})
    assert isinstance(pipeline, DetectorPipeline)
    pipeline.fit(data.iloc[:200])
    test = data.iloc[200:]
    labels = pipeline.transform(test)
    assert len(labels) == 100
    # the same as detrending by hand, then detecting
    detrender = Detrender().fit(data.iloc[:200])
    alone = DiffusionAnomalyDetector(**{**TINY, "training_steps": 100})
    alone.fit(detrender.transform(data.iloc[:200]))
    expected = alone.predict(detrender.transform(test))
    pd.testing.assert_frame_equal(pipeline.predict(test), expected)
    assert 50 in expected["ilocs"].tolist()


def test_multivariate_anomaly_in_one_feature_is_found():
    data = _seasonal(n=500, n_features=3)
    detector = DiffusionAnomalyDetector(**{**TINY, "training_steps": 150})
    detector.fit(data.iloc[:300])
    test = data.iloc[300:].copy()
    test.iloc[77, 2] += 6
    scores = detector.transform_scores(test)["scores"].to_numpy()
    # the default smoothing spreads the spike over the window around it
    assert abs(int(np.argmax(scores)) - 77) <= detector.window_length_ // 2
    detector.set_params(score_smoothing=1)
    raw = detector.fit(data.iloc[:300]).transform_scores(test)["scores"].to_numpy()
    assert int(np.argmax(raw)) == 77


def test_missing_values_score_nan_only_where_nothing_is_observed():
    data = _seasonal(n=300, n_features=2)
    data.iloc[50:55, 0] = np.nan
    data.iloc[250:253] = np.nan
    detector = DiffusionAnomalyDetector(**TINY).fit(data.iloc[:200])
    scores = detector.transform_scores(data.iloc[200:])["scores"].to_numpy()
    assert np.isnan(scores[50:53]).all()
    assert np.isfinite(np.delete(scores, [50, 51, 52])).all()
    assert not set(detector.predict(data.iloc[200:])["ilocs"]) & {50, 51, 52}


@pytest.mark.slow
def test_spike_level_shift_and_flat_line_score_above_the_normal_part():
    data = _seasonal(n=1000)["x0"]
    test = data.iloc[600:].copy()
    test.iloc[100] += 2.5  # spike
    test.iloc[200:230] += 1.5  # level shift
    test.iloc[300:324] = test.iloc[300]  # sensor stuck for one period
    detector = DiffusionAnomalyDetector(
        network=DilatedConvNetwork(channels=32, n_layers=4),
        training_steps=600,
        # the factors below hold with a margin over random_state 0-7 (10 DPM-Solver++
        # steps): the spike scores 1.74-2.56 times the normal maximum, the level shift
        # 4.0-6.6 times its 99% quantile, the flat line 1.50-2.48 times its mean
        n_sampling_steps=10,
        random_state=0,
    ).fit(data.iloc[:600])
    scores = detector.transform_scores(test)["scores"].to_numpy()
    # normal part: away from the anomalies by more than the smoothing reaches
    reach = detector.window_length_ // 2 + 1
    normal = np.r_[
        scores[: 100 - reach],
        scores[100 + reach : 200 - reach],
        scores[230 + reach : 300 - reach],
        scores[324 + reach :],
    ]
    assert scores[100] > 1.5 * normal.max()
    assert scores[200:230].mean() > 2 * np.quantile(normal, 0.99)
    assert scores[300:324].mean() > 1.3 * normal.mean()


# ---------------------------------------------------------------------- default window
def test_default_window_is_never_longer_than_the_fit_data():
    index = pd.RangeIndex(40)
    assert default_detector_window(index, 40) == 32  # the usual window
    assert default_detector_window(index, 20) == 20


# ---------------------------------------------------------------------- bad input
def test_series_shorter_than_a_window_is_refused(fitted):
    detector, test = fitted
    with pytest.raises(ValueError, match="at least window_length=12"):
        detector.transform_scores(test.iloc[:11])
    with pytest.raises(ValueError, match="at least window_length=12"):
        DiffusionAnomalyDetector(**TINY).fit(test.iloc[:5])


def test_inf_and_other_columns_are_refused(fitted):
    detector, test = fitted
    bad = test.copy()
    bad.iloc[3, 0] = np.inf
    with pytest.raises(ValueError, match="inf"):
        detector.transform_scores(bad)
    with pytest.raises(ValueError, match="fitted on columns"):
        detector.predict(test.rename(columns={"x0": "other"}))


def test_non_numeric_columns_are_refused():
    data = _seasonal()
    data["label"] = "a"
    with pytest.raises((TypeError, ValueError), match="numeric|categorical"):
        DiffusionAnomalyDetector(**TINY).fit(data)


def test_predict_before_fit_is_refused():
    with pytest.raises(Exception, match="not been fitted"):
        DiffusionAnomalyDetector(**TINY).transform_scores(_seasonal())


@pytest.mark.parametrize(
    ("parameter", "value", "message"),
    [
        ("contamination", 0.0, "contamination"),
        ("contamination", 0.7, "contamination"),
        ("grating_slices", (1, 4), "grating_slices"),
        ("grating_slices", (), "grating_slices"),
        ("grating_slices", (2, True), "grating_slices"),
        ("grating_slices", "24", "grating_slices"),
        ("n_samples", 1, "n_samples"),
        ("window_length", 1, "window_length"),
        ("score_smoothing", 0, "score_smoothing"),
        ("score_smoothing", 2.5, "score_smoothing"),
        ("score_smoothing", True, "score_smoothing"),
        ("threshold_folds", 1, "threshold_folds"),
        ("threshold_folds", -1, "threshold_folds"),
        ("threshold_folds", 2.0, "threshold_folds"),
        ("threshold_folds", True, "threshold_folds"),
        ("threshold_folds", "2", "threshold_folds"),
    ],
)
def test_bad_parameters_are_refused_at_fit(parameter, value, message):
    detector = DiffusionAnomalyDetector(**{**TINY, parameter: value})
    with pytest.raises(ValueError, match=message):
        detector.fit(_seasonal())


def test_column_without_observed_values_is_refused():
    data = _seasonal(n_features=2)
    data["x1"] = np.nan
    with pytest.raises(ValueError, match="'x1'.*no observed value"):
        DiffusionAnomalyDetector(**TINY).fit(data)
