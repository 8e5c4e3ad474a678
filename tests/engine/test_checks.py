import pytest

from sktime_diffusion.engine import MaskStrategy, TrainingConfig
from sktime_diffusion.engine.checks import check_count


@pytest.mark.parametrize("value", [0, -3, 2.0, "4", True, None])
def test_a_count_must_be_an_integer_at_least_the_minimum(value):
    with pytest.raises(ValueError, match=r"^n_steps must be an integer >= 1, got "):
        check_count("n_steps", value)


def test_a_count_is_returned_as_an_int_and_none_passes_only_when_allowed():
    import numpy as np

    assert check_count("n", np.int64(3)) == 3 and type(check_count("n", np.int64(3))) is int
    assert check_count("n", 0, minimum=0) == 0
    assert check_count("n", None, allow_none=True) is None
    with pytest.raises(ValueError, match=r"must be an integer >= 2 or None, got 1$"):
        check_count("window_length", 1, minimum=2, allow_none=True)


def test_the_owner_leads_the_message():
    with pytest.raises(ValueError, match=r"^DiffusionImputer: n_models must be an integer"):
        check_count("n_models", 0, owner="DiffusionImputer")


@pytest.mark.parametrize(
    ("build", "name"),
    [
        (lambda v: TrainingConfig(epochs=v), "epochs"),
        (lambda v: TrainingConfig(max_steps=v), "max_steps"),
        (lambda v: TrainingConfig(batch_size=v), "batch_size"),
        (lambda v: TrainingConfig(patience=v), "patience"),
        (lambda v: MaskStrategy(suffix_length=v), "suffix_length"),
    ],
)
@pytest.mark.parametrize("value", [0, 2.5, True])
def test_the_engine_checks_its_counts_with_the_one_check(build, name, value):
    with pytest.raises(ValueError, match=rf"^{name} must be an integer >= 1"):
        build(value)


@pytest.mark.parametrize("value", [0, True, 2.5, "many"])
def test_max_batch_is_a_positive_integer_auto_or_none(value):
    import torch

    from sktime_diffusion.engine import chunk_size

    with pytest.raises(ValueError, match="max_batch must be"):
        chunk_size(10, 8, torch.device("cpu"), value)
    assert chunk_size(10, 8, torch.device("cpu"), 4) == 4
