"""Fits that run at once, in threads or in worker processes, give what fits one after
another give: sktime's ``evaluate(backend=...)`` must not change a seeded result."""

import time
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
import torch
from sktime.datasets import load_airline
from sktime.forecasting.model_evaluation import evaluate
from sktime.split import ExpandingWindowSplitter
from torch import nn

from sktime_diffusion import DiffusionGenerator
from sktime_diffusion.datasets import make_sines

from .test_forecasting import tiny
from .test_generation import TINY


def _quantiles(seed):
    forecaster = tiny(random_state=seed).fit(load_airline().iloc[:72], fh=[1, 2, 3])
    return forecaster.predict_quantiles(alpha=[0.1, 0.5, 0.9]).to_numpy()


@pytest.fixture
def slow_layer_initialisation(monkeypatch):
    """Each layer's initialisation waits a little, so fits in threads interleave there."""
    for layer in (nn.Conv1d, nn.Linear):
        original = layer.reset_parameters

        def slow(self, original=original):
            time.sleep(0.002)
            original(self)

        monkeypatch.setattr(layer, "reset_parameters", slow)


def test_fits_in_threads_at_once_equal_fits_one_after_another(
    slow_layer_initialisation,
):
    # the weights are drawn from torch's global generator, which all threads share:
    # without a lock a thread's draws continue from another thread's seed
    seeds = [0, 1, 2, 3]
    one_after_another = [_quantiles(seed) for seed in seeds]
    with ThreadPoolExecutor(max_workers=len(seeds)) as pool:
        at_once = list(pool.map(_quantiles, seeds))
    for alone, together in zip(one_after_another, at_once, strict=True):
        np.testing.assert_array_equal(alone, together)
    assert not np.array_equal(one_after_another[0], one_after_another[1])


def test_generators_fitted_in_threads_sample_as_when_fitted_alone(
    slow_layer_initialisation,
):
    real = make_sines(n_series=16, length=12, n_features=2, random_state=0)

    def draw(seed):
        generator = DiffusionGenerator(**{**TINY, "random_state": seed}).fit(real)
        return generator.sample(3).to_numpy()

    alone = [draw(seed) for seed in (0, 1)]
    with ThreadPoolExecutor(max_workers=2) as pool:
        together = list(pool.map(draw, (0, 1)))
    for one, other in zip(alone, together, strict=True):
        np.testing.assert_array_equal(one, other)


@pytest.mark.parametrize("backend", ["threading", "loky"])
def test_evaluate_with_a_parallel_backend_equals_the_sequential_run(backend):
    # loky's workers run torch on one thread, and float32 sums depend on the number of
    # threads: compare at one thread, as the workers have it
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        y = load_airline().iloc[:84]
        cv = ExpandingWindowSplitter(initial_window=60, step_length=12, fh=[1, 2, 3])
        runs = {}
        for name, options in (
            ("sequential", {}),
            (backend, {"backend": backend, "backend_params": {"n_jobs": 2}}),
        ):
            result = evaluate(tiny(), cv, y, return_data=True, **options)
            runs[name] = np.concatenate([pred.to_numpy() for pred in result["y_pred"]])
    finally:
        torch.set_num_threads(threads)
    np.testing.assert_array_equal(runs["sequential"], runs[backend])
