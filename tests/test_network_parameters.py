"""``network__<name>`` reaches the network of every estimator, default one included."""

import pytest
from sktime.datasets import load_airline
from sktime.utils._testing.hierarchical import _make_hierarchical

from sktime_diffusion import (
    DiffusionAnomalyDetector,
    DiffusionForecaster,
    DiffusionGenerator,
    DiffusionImputer,
    DilatedConvNetwork,
)

ESTIMATORS = [
    DiffusionForecaster,
    DiffusionImputer,
    DiffusionAnomalyDetector,
    DiffusionGenerator,
]


@pytest.mark.parametrize("estimator_class", ESTIMATORS)
def test_set_params_reaches_the_default_network(estimator_class):
    estimator = estimator_class()
    estimator.set_params(network__channels=16)
    assert estimator.get_params()["network__channels"] == 16
    assert isinstance(estimator.network, DilatedConvNetwork)
    assert estimator_class().network is None  # other instances keep the default
    assert estimator.clone().get_params()["network__channels"] == 16


@pytest.mark.parametrize("estimator_class", ESTIMATORS)
def test_an_explicit_network_is_set_not_replaced(estimator_class):
    network = DilatedConvNetwork(channels=8)
    estimator = estimator_class(network=network).set_params(network__n_layers=3)
    assert estimator.network is network and network.n_layers == 3


def test_a_pretrained_forecaster_reaches_the_default_network_in_sktime_tuning():
    panel = _make_hierarchical(hierarchy_levels=(2,), min_timepoints=40, max_timepoints=40)
    forecaster = DiffusionForecaster(
        training_steps=2, context_length=6, n_samples=4, n_sampling_steps=3
    ).pretrain(panel, fh=[1, 2])
    forecaster._set_params_at("pretrained", {"n_samples": 5, "network__channels": 8})
    assert forecaster.network.channels == 8 and forecaster.n_samples == 5


def test_grid_search_over_the_default_networks_channels():
    from sktime.forecasting.model_selection import ForecastingGridSearchCV
    from sktime.split import ExpandingWindowSplitter

    search = ForecastingGridSearchCV(
        DiffusionForecaster(training_steps=2, n_samples=4, n_sampling_steps=3),
        cv=ExpandingWindowSplitter(initial_window=120, step_length=12, fh=[1, 2]),
        param_grid={"network__channels": [4, 8]},
    )
    search.fit(load_airline()[:-12])
    assert search.best_params_["network__channels"] in (4, 8)
    assert search.best_forecaster_.network.channels in (4, 8)
