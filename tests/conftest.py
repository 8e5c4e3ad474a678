"""Shared fixtures."""

import pytest
import torch


@pytest.fixture(autouse=True)
def _small_thread_pool():
    """Keep torch to the 2 cores CI has and restore the global seed state."""
    state = torch.random.get_rng_state()
    yield
    torch.random.set_rng_state(state)
