"""Shared test set-up."""

import os

import pytest
import torch

if os.environ.get("PYTEST_XDIST_WORKER"):
    # one torch thread per xdist worker: the workers already use every core
    torch.set_num_threads(1)


@pytest.fixture(autouse=True)
def _restore_global_torch_seed():
    """Tests must not leak changes of the global torch random state into each other."""
    state = torch.random.get_rng_state()
    yield
    torch.random.set_rng_state(state)
