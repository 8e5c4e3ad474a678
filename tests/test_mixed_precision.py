"""``precision="bfloat16"`` runs every network call of fit and output in bfloat16."""

import numpy as np
import pandas as pd
import pytest

import sktime_diffusion.engine.model as model_module
from sktime_diffusion import (
    DiffusionAnomalyDetector,
    DiffusionForecaster,
    DiffusionGenerator,
    DiffusionImputer,
)
from sktime_diffusion.engine import precision as precision_module


def _series(n=60, missing=False):
    rng = np.random.default_rng(0)
    values = np.sin(np.arange(n) / 4.0) + 0.1 * rng.normal(size=n)
    y = pd.DataFrame({"a": values, "b": values[::-1].copy()})
    if missing:
        y.iloc[5:9, 0] = np.nan
    return y


def _fit_and_output(estimator):
    if isinstance(estimator, DiffusionForecaster):
        estimator.fit(_series(), fh=[1, 2, 3])
        return estimator.predict_quantiles(alpha=[0.1, 0.9]).to_numpy()
    if isinstance(estimator, DiffusionImputer):
        return estimator.fit(_series(missing=True)).transform(_series(missing=True))
    if isinstance(estimator, DiffusionAnomalyDetector):
        return estimator.fit(_series()).transform_scores(_series()).to_numpy()
    return estimator.fit(_series()).sample(2).to_numpy()


@pytest.mark.parametrize(
    "estimator_class",
    [DiffusionForecaster, DiffusionImputer, DiffusionAnomalyDetector, DiffusionGenerator],
)
@pytest.mark.parametrize("precision", ["float32", "bfloat16"])
def test_every_network_call_of_fit_and_output_runs_in_the_chosen_precision(
    monkeypatch, estimator_class, precision
):
    seen = []

    def recording(device):
        seen.append(precision_module._PRECISION.get())
        return precision_module.network_autocast(device)

    monkeypatch.setattr(model_module, "network_autocast", recording)
    params = estimator_class.get_test_params()[0] | {"precision": precision}
    output = np.asarray(_fit_and_output(estimator_class(**params)), dtype=float)
    assert np.isfinite(output).all()
    assert seen and set(seen) == {precision}


def test_an_unknown_precision_is_named_before_fitting():
    with pytest.raises(ValueError, match="DiffusionForecaster: precision must be one"):
        DiffusionForecaster(precision="float16").fit(_series(), fh=[1])
