"""Each sampler at its shipped default step count, and the whole sampling path.

The moments of a sampler's output with the exact Gaussian denoiser are computed exactly
(:func:`exact_sample_moments`: every sampler is then an affine map of its Gaussian
noise), so these checks have no Monte Carlo error: the tolerance is the 5% variance
error that chose the defaults (benchmarks/sampler_steps.py, docs/results.md).
"""

import math
import warnings

import pytest
import torch
from torch import nn

from sktime_diffusion.engine import (
    PARAMETERISATIONS,
    SAMPLERS,
    SCHEDULES,
    Condition,
    DiffusionModel,
    GaussianDenoiser,
    conditional_gaussian,
    generate,
    make_schedule,
    resolve_sampling_steps,
)
from sktime_diffusion.engine.gaussian import exact_sample_moments
from sktime_diffusion.engine.samplers import dpm_solver
from sktime_diffusion.networks import DilatedConvNetwork

from ._random_gaussian import random_gaussian

N_FEATURES, LENGTH = 2, 3
DIM = N_FEATURES * LENGTH
GIVEN = torch.tensor([True, False, False, False, True, False])
GIVEN_VALUES = torch.tensor([1.5, 0.0, 0.0, 0.0, -0.5, 0.0], dtype=torch.float64)


def _gaussian():
    return random_gaussian(DIM)


def _schedule(name):
    """As the estimators build it (discrete schedules with 50 steps)."""
    if name in ("linear", "quadratic", "cosine"):
        return make_schedule(name, n_steps=50)
    return make_schedule(name)


def _errors(got_mean, got_cov, want_mean, want_cov):
    """Largest relative variance error and largest mean error in standard deviations."""
    variance_error = (got_cov.diag() / want_cov.diag() - 1).abs().max()
    mean_error = ((got_mean - want_mean).abs() / want_cov.diag().sqrt()).max()
    return float(variance_error), float(mean_error)


#: the stochastic samplers need hundreds of steps, and their exact moments cost the
#: steps squared: they run on the estimators' default schedule and on VE, marked slow
STOCHASTIC = ("ddpm", "euler_maruyama", "predictor_corrector")
DEFAULT_STEP_CASES = [
    (sampler, schedule)
    for sampler in SAMPLERS
    if sampler not in STOCHASTIC
    for schedule in SCHEDULES
] + [
    pytest.param(sampler, schedule, marks=pytest.mark.slow)
    for sampler in STOCHASTIC
    for schedule in ("cosine", "ve")
]


@pytest.mark.parametrize(("sampler", "schedule_name"), DEFAULT_STEP_CASES)
def test_sampler_at_its_default_steps_has_the_conditional_spread(sampler, schedule_name):
    mean, covariance = _gaussian()
    schedule = _schedule(schedule_name)
    spec = SAMPLERS[sampler]
    times = schedule.sampling_times(spec.default_steps, spec.spacing)
    got_mean, got_cov = exact_sample_moments(
        sampler,
        schedule,
        mean.reshape(N_FEATURES, LENGTH),
        covariance,
        times,
        given=GIVEN.reshape(N_FEATURES, LENGTH),
        given_values=GIVEN_VALUES.reshape(N_FEATURES, LENGTH),
    )
    want_mean, want_cov = conditional_gaussian(mean, covariance, GIVEN, GIVEN_VALUES)
    variance_error, mean_error = _errors(
        got_mean[~GIVEN], got_cov[~GIVEN][:, ~GIVEN], want_mean, want_cov
    )
    assert variance_error <= 0.05, f"variance off by {variance_error:.1%}"
    assert mean_error <= 0.05, f"mean off by {mean_error:.3f} standard deviations"


@pytest.mark.parametrize("sampler", ["ddpm", "euler_maruyama", "predictor_corrector"])
def test_exact_moments_agree_with_monte_carlo(sampler):
    """The exact route counts every noise draw: 20,000 samples agree within 4 SE."""
    mean, covariance = _gaussian()
    schedule = _schedule("cosine")
    times = schedule.sampling_times(30, SAMPLERS[sampler].spacing)
    exact_mean, exact_cov = exact_sample_moments(
        sampler, schedule, mean.reshape(N_FEATURES, LENGTH), covariance, times
    )
    n = 20000
    generator = torch.Generator().manual_seed(3)
    start = float(schedule.sigma(times[:1])[0]) * torch.randn(
        n, N_FEATURES, LENGTH, dtype=torch.float64, generator=generator
    )
    denoiser = GaussianDenoiser(mean.reshape(N_FEATURES, LENGTH), covariance, schedule)
    samples = (
        SAMPLERS[sampler]
        .function(denoiser, start, times, schedule, generator=generator)
        .reshape(n, DIM)
    )
    variance = exact_cov.diag()
    assert bool(((samples.mean(0) - exact_mean).abs() < 4 * (variance / n).sqrt()).all())
    relative = samples.var(0) / variance - 1
    assert bool((relative.abs() < 4 * math.sqrt(2 / n)).all())


def _alternating_grid(schedule, n_steps):
    """Noisy times whose log-SNR steps alternate between one and two units, then 0."""
    ends = schedule.log_snr(torch.tensor([schedule.t_max, schedule.t_min]))
    units = torch.tensor([1.0 + i % 2 for i in range(n_steps - 1)], dtype=torch.float64)
    fraction = torch.cat(
        [torch.zeros(1, dtype=torch.float64), units.cumsum(0) / units.sum()]
    )
    noisy = schedule.time_at_log_snr(ends[0] + (ends[1] - ends[0]) * fraction)
    return torch.cat([noisy, torch.zeros(1, dtype=torch.float64)])


def test_dpm_solver_weighs_its_two_estimates_by_the_step_ratio():
    """On a grid whose log-SNR steps alternate 1:2 (r = 2 and 1/2 in DPM-Solver++(2M)),
    41 steps land within 0.015 of a 200-step solve on a uniform log-SNR grid from the
    same noise on the VP SDE (measured: 0.011; 0.012 on the cosine schedule); with r taken
    as 1 the error is 0.036 (0.038)."""
    mean, covariance = _gaussian()
    schedule = _schedule("vp")
    denoiser = GaussianDenoiser(mean.reshape(N_FEATURES, LENGTH), covariance, schedule)
    grid = _alternating_grid(schedule, 41)
    steps = schedule.log_snr(grid[:-1]).diff()
    torch.testing.assert_close(
        steps[1::2] / steps[::2][: len(steps[1::2])],
        2 * torch.ones(20, dtype=torch.float64),
    )
    generator = torch.Generator().manual_seed(5)
    x = torch.randn(64, N_FEATURES, LENGTH, dtype=torch.float64, generator=generator)
    x = float(schedule.sigma(grid[:1])[0]) * x
    reference = dpm_solver(denoiser, x, schedule.sampling_times(200, "log_snr"), schedule)
    error = float((dpm_solver(denoiser, x, grid, schedule) - reference).abs().max())
    assert error < 0.015


class _OracleNetwork(nn.Module):
    """Returns the exact regression target of a Gaussian, from the textbook formulas.

    It reads ``x_t`` back from the network input ``x_t / sqrt(alpha**2 + sigma**2)``,
    computes ``E[x_0 | x_t, given]`` with :class:`GaussianDenoiser`, and outputs it as
    noise, data or velocity ``(alpha eps - sigma x0) / sqrt(alpha**2 + sigma**2)``.
    """

    def __init__(self, mean, covariance, schedule, parameterisation):
        super().__init__()
        self.anchor = nn.Parameter(torch.zeros(1, dtype=torch.float64))  # dtype, device
        self.mean, self.covariance = mean, covariance
        self.schedule, self.parameterisation = schedule, parameterisation

    def forward(self, network_input, t, given_values, given, side=None):
        alpha, sigma = self.schedule.alpha_sigma(t[:1].to(torch.float64))
        alpha, sigma = float(alpha[0]), float(sigma[0])
        norm = math.sqrt(alpha**2 + sigma**2)
        x_t = network_input * norm
        denoiser = GaussianDenoiser(
            self.mean,
            self.covariance,
            self.schedule,
            given_values=given_values,
            given=given,
        )
        x0 = denoiser(x_t, t)
        eps = (x_t - alpha * x0) / sigma
        if self.parameterisation == "epsilon":
            return eps
        if self.parameterisation == "x0":
            return x0
        return (alpha * eps - sigma * x0) / norm


@pytest.mark.parametrize("schedule_name", ["cosine", "ve"])
@pytest.mark.parametrize("parameterisation", PARAMETERISATIONS)
def test_generate_with_an_oracle_network_draws_the_conditional_gaussian(
    parameterisation, schedule_name
):
    """Model parameterisation -> denoiser -> DPM-Solver++ at its default steps -> given
    entries kept: 4,000 draws have the conditional mean and variance (within 4 SE plus
    the sampler's own 5% at most)."""
    mean, covariance = _gaussian()
    schedule = _schedule(schedule_name)
    model = DiffusionModel(
        DilatedConvNetwork(channels=4, n_layers=1).network_config(N_FEATURES, 0),
        schedule,
        parameterisation,
    )
    model.network = _OracleNetwork(
        mean.reshape(N_FEATURES, LENGTH), covariance, schedule, parameterisation
    )
    values = GIVEN_VALUES.reshape(1, N_FEATURES, LENGTH)
    condition = Condition(values, GIVEN.reshape(1, N_FEATURES, LENGTH))
    n = 4000
    samples = generate(
        model,
        condition,
        n,
        sampler="dpm_solver",
        generator=torch.Generator().manual_seed(0),
    ).reshape(n, DIM)
    assert torch.equal(samples[:, GIVEN], GIVEN_VALUES[GIVEN].expand(n, -1))
    want_mean, want_cov = conditional_gaussian(mean, covariance, GIVEN, GIVEN_VALUES)
    target = samples[:, ~GIVEN]
    variance = want_cov.diag()
    assert bool(((target.mean(0) - want_mean).abs() < 4 * (variance / n).sqrt()).all())
    relative = target.var(0) / variance - 1
    assert bool((relative.abs() < 0.05 + 4 * math.sqrt(2 / n)).all()), relative


@pytest.mark.parametrize("sampler", list(SAMPLERS))
def test_no_step_count_means_the_samplers_default(sampler):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert resolve_sampling_steps(sampler, None) == SAMPLERS[sampler].default_steps


@pytest.mark.parametrize("sampler", list(SAMPLERS))
def test_fewer_steps_than_the_measured_minimum_warn(sampler):
    minimum = SAMPLERS[sampler].min_steps
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert resolve_sampling_steps(sampler, minimum) == minimum
    if minimum > 1:
        with pytest.warns(UserWarning, match=f"{sampler}.*{minimum - 1}.*{minimum}"):
            assert resolve_sampling_steps(sampler, minimum - 1) == minimum - 1


@pytest.mark.parametrize("bad", [0, -3, 2.5, "10", True])
def test_step_counts_that_are_not_positive_integers_are_refused(bad):
    with pytest.raises(ValueError, match="n_steps must be an integer >= 1 or None"):
        resolve_sampling_steps("dpm_solver", bad)


def test_an_unknown_sampler_is_refused():
    with pytest.raises(ValueError, match="unknown sampler 'euler'"):
        resolve_sampling_steps("euler", None)


def test_the_estimators_document_each_samplers_default_steps():
    from sktime_diffusion._estimator_engine import engine_parameters_doc

    for name, spec in SAMPLERS.items():
        assert f"{name} {spec.default_steps}" in engine_parameters_doc()
