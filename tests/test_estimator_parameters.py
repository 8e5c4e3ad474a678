"""Every ``__init__`` parameter is stored unchanged and round-trips through sktime."""

import inspect

import pytest

from sktime_diffusion import (
    CSDINetwork,
    DiffusionAnomalyDetector,
    DiffusionForecaster,
    DiffusionGenerator,
    DiffusionImputer,
)
from sktime_diffusion._diffusion import ENGINE_PARAMETER_NAMES

ESTIMATORS = [
    DiffusionForecaster,
    DiffusionImputer,
    DiffusionAnomalyDetector,
    DiffusionGenerator,
]

#: a value other than the default for every shared parameter
CHANGED_ENGINE_PARAMETERS = {
    "network": CSDINetwork(channels=8, n_layers=1, n_heads=2),
    "schedule": "linear",
    "n_diffusion_steps": 20,
    "parameterisation": "epsilon",
    "training_time_power": 2.0,
    "sampler": "ddim",
    "n_sampling_steps": 4,
    "training_steps": 7,
    "max_time": 30.0,
    "batch_size": 8,
    "learning_rate": 2e-3,
    "validation_fraction": 0.25,
    "patience": 3,
    "device": "cpu",
    "random_state": 11,
    "verbose": True,
}


def _parameter_names(estimator_class) -> list[str]:
    signature = inspect.signature(estimator_class.__init__)
    return [name for name in signature.parameters if name != "self"]


@pytest.mark.parametrize("estimator_class", ESTIMATORS)
def test_every_estimator_takes_the_shared_parameters_in_order(estimator_class):
    names = _parameter_names(estimator_class)
    assert names[-len(ENGINE_PARAMETER_NAMES) :] == list(ENGINE_PARAMETER_NAMES)


@pytest.mark.parametrize("estimator_class", ESTIMATORS)
def test_explicit_parameters_round_trip_through_get_params_set_params_and_clone(
    estimator_class,
):
    estimator = estimator_class(**CHANGED_ENGINE_PARAMETERS)
    stored = estimator.get_params(deep=False)
    assert set(stored) == set(_parameter_names(estimator_class))
    for name, value in CHANGED_ENGINE_PARAMETERS.items():
        assert stored[name] is value, name
    clone = estimator.clone()
    for name, value in CHANGED_ENGINE_PARAMETERS.items():
        if name == "network":
            assert clone.network.get_params() == value.get_params()
        else:
            assert clone.get_params(deep=False)[name] == value, name
    fresh = estimator_class().set_params(**CHANGED_ENGINE_PARAMETERS)
    for name, value in CHANGED_ENGINE_PARAMETERS.items():
        assert getattr(fresh, name) is value, name
