"""One sampling pass serves every output of one fitted state and one input."""

import numpy as np
import pandas as pd
import pytest
from sktime.datasets import load_airline

import sktime_diffusion._estimator_engine as diffusion
import sktime_diffusion.engine.outpainting as outpainting
from sktime_diffusion import DiffusionForecaster, DiffusionImputer, DilatedConvNetwork
from sktime_diffusion._sample_cache import SAMPLE_CACHE, SampleCache

TINY = {
    "network": DilatedConvNetwork(channels=8, n_layers=2, time_embedding_dim=16),
    "training_steps": 5,
    "n_sampling_steps": 3,
    "batch_size": 16,
    "random_state": 0,
}


@pytest.fixture
def sampler_calls(monkeypatch):
    """Counts the engine's sampling passes (calls of ``generate``, directly or by the
    rounds of ``outpaint``)."""
    calls = []
    original = diffusion.generate

    def counting(*args, **kwargs):
        calls.append(1)
        return original(*args, **kwargs)

    monkeypatch.setattr(diffusion, "generate", counting)
    monkeypatch.setattr(outpainting, "generate", counting)
    return calls


def _forecast_outputs(forecaster):
    return (
        forecaster.predict(),
        forecaster.predict_interval(coverage=[0.5, 0.9]),
        forecaster.predict_quantiles(alpha=[0.1, 0.5, 0.9]),
        forecaster.predict_var(),
        forecaster.predict_proba().quantile([0.1, 0.9]),
        forecaster.predict_samples(),
    )


def test_forecast_outputs_of_one_fitted_state_share_one_sampling_pass(sampler_calls):
    y = load_airline()
    forecaster = DiffusionForecaster(**TINY, n_samples=10).fit(y, fh=[1, 2, 3])
    reused = _forecast_outputs(forecaster)
    assert len(sampler_calls) == 1
    SAMPLE_CACHE.clear()
    for first, again in zip(reused, _forecast_outputs(forecaster), strict=True):
        # the same as drawing anew
        pd.testing.assert_frame_equal(pd.DataFrame(first), pd.DataFrame(again))
    assert len(sampler_calls) == 2


def test_a_new_fh_or_an_update_samples_again(sampler_calls):
    y = load_airline()
    forecaster = DiffusionForecaster(**TINY, n_samples=10).fit(y[:-3], fh=[1, 2, 3])
    forecaster.predict()
    forecaster.predict(fh=[1, 2])
    assert len(sampler_calls) == 2
    forecaster.update(y[-3:], update_params=False)
    after = forecaster.predict()
    assert len(sampler_calls) == 3
    assert after.index[0] == y.index[-1] + 1


def test_a_changed_n_samples_samples_again(sampler_calls):
    forecaster = DiffusionForecaster(**TINY, n_samples=10).fit(load_airline(), fh=[1])
    forecaster.predict_samples()
    forecaster.n_samples = 12
    assert len(forecaster.predict_samples()) == 12
    assert len(sampler_calls) == 2


def test_modifying_an_output_does_not_change_later_outputs():
    forecaster = DiffusionForecaster(**TINY, n_samples=10).fit(load_airline(), fh=[1])
    paths = forecaster.predict_samples()
    expected = paths.copy()
    paths.iloc[:, 0] = 0.0
    pd.testing.assert_frame_equal(forecaster.predict_samples(), expected)


def test_imputer_outputs_of_the_same_data_share_one_sampling_pass(sampler_calls):
    y = load_airline().to_frame()
    y.iloc[[5, 6, 40, 90]] = np.nan
    imputer = DiffusionImputer(**TINY, n_models=1, n_samples=8).fit(y)
    filled = imputer.transform(y)
    first_pass = len(sampler_calls)
    assert first_pass >= 1
    imputer.transform_interval(y, coverage=0.9)
    imputer.transform_quantiles(y, alpha=[0.2, 0.8])
    samples = imputer.transform_samples(y)
    assert len(sampler_calls) == first_pass
    samples.iloc[:, 0] = 0.0  # the caller's copy, not the remembered draw
    pd.testing.assert_frame_equal(imputer.transform(y), filled)
    other = y.copy()
    other.iloc[7] = np.nan
    imputer.transform(other)
    assert len(sampler_calls) == 2 * first_pass


def test_the_store_is_bounded_in_entries_and_bytes():
    store = SampleCache(max_entries=2, max_bytes=100)
    for key in range(3):
        store.get_or_draw(key, lambda: np.zeros(4), lambda a: a.nbytes)
    assert len(store) == 2
    store.get_or_draw("big", lambda: np.zeros(20), lambda a: a.nbytes)  # 160 bytes
    assert len(store) == 2 and "big" not in store._entries
    for key in ("a", "b", "c"):
        store.get_or_draw(key, lambda: np.zeros(6), lambda a: a.nbytes)  # 48 bytes
    assert store._bytes <= 100
