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
from sktime_diffusion._estimator_engine import (
    ENGINE_PARAMETER_NAMES,
    SHARED_PARAMETER_PARAGRAPHS,
    documents_engine_parameters,
    engine_parameters_doc,
)

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
    "checkpoint_dir": "checkpoints",
    "batch_size": 8,
    "learning_rate": 2e-3,
    "validation_fraction": 0.25,
    "patience": 3,
    "device": "cpu",
    "precision": "bfloat16",
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


def test_an_estimators_own_paragraph_replaces_the_shared_one_in_place():
    own = "random_state : int or None, default=None\n        Seeds it all."
    shared = engine_parameters_doc()
    text = engine_parameters_doc(random_state=own)
    assert own in text and SHARED_PARAMETER_PARAGRAPHS["random_state"] not in text
    assert text.replace(own, SHARED_PARAMETER_PARAGRAPHS["random_state"]) == shared
    positions = [text.index(f"\n    {name} : ") for name in ENGINE_PARAMETER_NAMES[1:]]
    assert positions == sorted(positions)


def test_own_paragraphs_must_name_a_shared_parameter_and_start_with_it():
    with pytest.raises(ValueError, match="no shared parameter is called windows"):
        engine_parameters_doc(windows="windows : int\n        Windows.")
    with pytest.raises(ValueError, match="must start with 'verbose : '"):
        engine_parameters_doc(verbose="Show bars.")


def test_a_class_without_the_engine_parameters_slot_is_refused():
    class Undocumented:
        """Parameters are missing here."""

    with pytest.raises(ValueError, match="no {engine_parameters}"):
        documents_engine_parameters()(Undocumented)


def test_the_generator_documents_its_own_parameterisation_and_random_state_once():
    doc = DiffusionGenerator.__doc__
    assert doc.count("\n    random_state : ") == 1
    assert "each ``sample`` call draws new series" in doc
    assert "repeated predictions of one fitted model draw the same samples" not in doc
    assert "repeated predictions of one fitted model" in DiffusionForecaster.__doc__
