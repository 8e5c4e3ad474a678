"""Shared test set-up."""

import os

import numpy as np
import pandas as pd
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


@pytest.fixture(scope="session")
def clean_season():
    """Eight years of a clean monthly season (50 + 10 sin), for seasonal-fill tests."""
    steps = np.arange(96)
    return pd.Series(
        50 + 10 * np.sin(2 * np.pi * steps / 12),
        index=pd.period_range("2000-01", periods=96, freq="M"),
    )
