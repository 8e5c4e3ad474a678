"""``network__<name>`` reaches the network of every estimator, default one included."""

import inspect

import pytest
from sktime.datasets import load_airline
from sktime.utils._testing.hierarchical import _make_hierarchical

from sktime_diffusion import (
    CSDINetwork,
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


@pytest.mark.parametrize("spec_class", [CSDINetwork, DilatedConvNetwork])
def test_the_torch_networks_take_every_hyper_parameter_from_the_spec(spec_class):
    """Defaults live once, in the spec: the torch module has none of its own."""
    from sktime_diffusion.engine.denoisers import NETWORKS

    module_parameters = inspect.signature(NETWORKS[spec_class.kind]).parameters
    spec_defaults = spec_class().get_params(deep=False)
    assert set(spec_defaults) == set(module_parameters) - {"n_features", "n_side"}
    for name in spec_defaults:
        assert module_parameters[name].default is inspect.Parameter.empty, name


def test_the_default_csdi_spec_builds_the_network_it_documents():
    from sktime_diffusion.engine import build_network

    network = build_network(**CSDINetwork().network_config(n_features=3, n_side=0))
    assert len(network.layers) == 2
    assert network.input_projection.out_channels == 32
    assert network.layers[0].temporal.self_attn.num_heads == 4


def test_an_incomplete_network_configuration_names_what_it_lacks():
    from sktime_diffusion.engine import build_network

    with pytest.raises(ValueError, match="needs n_layers, dilation_cycle, kernel_size"):
        build_network(kind="dilated_conv", n_features=2, channels=8)
