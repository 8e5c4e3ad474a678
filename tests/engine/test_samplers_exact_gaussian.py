"""Every sampler x every schedule reproduces a Gaussian with its exact denoiser.

For ``x_0 ~ N(mu, S)`` the denoiser ``E[x_0 | x_t]`` is known in closed form
(:class:`GaussianDenoiser`), so a correct sampler must return samples whose mean and
covariance match ``mu`` and ``S`` up to sampling error. Tolerances come from the sample
size: with ``N`` samples the standard error of a mean entry is ``sqrt(S_ii / N)`` and of a
covariance entry ``sqrt((S_ii S_jj + S_ij**2) / N)``; we allow ``Z_MAX`` standard errors.
"""

import pytest
import torch

from sktime_diffusion.engine import (
    SAMPLERS,
    SCHEDULES,
    GaussianDenoiser,
    conditional_gaussian,
    make_schedule,
)
from sktime_diffusion.engine.samplers import ddim, dpm_solver, heun

from ._random_gaussian import random_gaussian

N_FEATURES, LENGTH = 2, 3
DIM = N_FEATURES * LENGTH
N_SAMPLES = 8000
Z_MAX = 5.0
# grid steps per sampler: enough that discretisation error is below sampling error
STEPS = {
    "ddpm": 300,
    "ddim": 200,
    "euler_maruyama": 500,
    "predictor_corrector": 300,
    "heun": 50,
    "dpm_solver": 25,
}
OPTIONS = {"predictor_corrector": {"snr": 0.16}}


def _gaussian():
    return random_gaussian(DIM)


def _run(sampler, schedule, denoiser, n_samples=N_SAMPLES, steps=None, seed=1):
    generator = torch.Generator().manual_seed(seed)
    times = schedule.sampling_times(steps or STEPS[sampler], SAMPLERS[sampler].spacing)
    sigma_max = float(schedule.sigma(times[:1])[0])
    x = sigma_max * torch.randn(
        n_samples, N_FEATURES, LENGTH, dtype=torch.float64, generator=generator
    )
    out = SAMPLERS[sampler].function(
        denoiser, x, times, schedule, generator=generator, **OPTIONS.get(sampler, {})
    )
    return out.reshape(n_samples, DIM)


def _z_scores(samples, mean, covariance):
    """Largest standardised error of the sample mean and of the sample covariance."""
    n = samples.shape[0]
    variances = covariance.diag()
    z_mean = ((samples.mean(0) - mean) / (variances / n).sqrt()).abs().max()
    standard_error = ((variances[:, None] * variances[None, :] + covariance**2) / n).sqrt()
    z_cov = ((torch.cov(samples.T) - covariance) / standard_error).abs().max()
    return float(z_mean), float(z_cov)


@pytest.mark.slow
@pytest.mark.parametrize("schedule_name", SCHEDULES)
@pytest.mark.parametrize("sampler", list(SAMPLERS))
def test_sampler_reproduces_gaussian(sampler, schedule_name):
    mean, covariance = _gaussian()
    schedule = make_schedule(schedule_name)
    denoiser = GaussianDenoiser(mean.reshape(N_FEATURES, LENGTH), covariance, schedule)
    samples = _run(sampler, schedule, denoiser)
    z_mean, z_cov = _z_scores(samples, mean, covariance)
    assert z_mean < Z_MAX, f"mean off by {z_mean:.1f} standard errors"
    assert z_cov < Z_MAX, f"covariance off by {z_cov:.1f} standard errors"


@pytest.mark.slow
@pytest.mark.parametrize("schedule_name", SCHEDULES)
@pytest.mark.parametrize("sampler", list(SAMPLERS))
def test_sampler_reproduces_conditional_gaussian(sampler, schedule_name):
    mean, covariance = _gaussian()
    schedule = make_schedule(schedule_name)
    given = torch.tensor([True, False, False, False, True, False])
    given_values = torch.tensor([1.5, 0.0, 0.0, 0.0, -0.5, 0.0], dtype=torch.float64)
    shape = (N_SAMPLES, N_FEATURES, LENGTH)
    denoiser = GaussianDenoiser(
        mean.reshape(N_FEATURES, LENGTH),
        covariance,
        schedule,
        given_values=given_values.reshape(1, N_FEATURES, LENGTH).expand(shape),
        given=given.reshape(1, N_FEATURES, LENGTH).expand(shape),
    )
    samples = _run(sampler, schedule, denoiser)
    cond_mean, cond_cov = conditional_gaussian(mean, covariance, given, given_values)
    z_mean, z_cov = _z_scores(samples[:, ~given], cond_mean, cond_cov)
    assert z_mean < Z_MAX, f"conditional mean off by {z_mean:.1f} standard errors"
    assert z_cov < Z_MAX, f"conditional covariance off by {z_cov:.1f} standard errors"
    torch.testing.assert_close(
        samples[:, given], given_values[given].expand(N_SAMPLES, -1), rtol=0, atol=1e-9
    )


def test_check_has_power_against_a_wrong_denoiser():
    """The tolerance would catch a denoiser that believes the variance is 20% larger."""
    mean, covariance = _gaussian()
    schedule = make_schedule("vp")
    wrong = GaussianDenoiser(mean.reshape(N_FEATURES, LENGTH), 1.2 * covariance, schedule)
    samples = _run("dpm_solver", schedule, wrong)
    _, z_cov = _z_scores(samples, mean, covariance)
    assert z_cov > Z_MAX


def test_check_has_power_against_a_sampler_without_noise():
    """DDIM's deterministic update used as if it were DDPM loses variance: caught."""
    mean, covariance = _gaussian()
    schedule = make_schedule("quadratic")
    denoiser = GaussianDenoiser(mean.reshape(N_FEATURES, LENGTH), covariance, schedule)
    generator = torch.Generator().manual_seed(3)
    times = schedule.sampling_times(50)
    x = torch.randn(N_SAMPLES, N_FEATURES, LENGTH, dtype=torch.float64, generator=generator)
    # skipping the start at sigma_max shrinks the spread: a wrong sampler
    samples = ddim(denoiser, 0.5 * x, times, schedule).reshape(N_SAMPLES, DIM)
    _, z_cov = _z_scores(samples, mean, covariance)
    assert z_cov > Z_MAX


@pytest.mark.parametrize("sampler", ["ddim", "heun", "dpm_solver"])
def test_deterministic_samplers_ignore_the_generator(sampler):
    mean, covariance = _gaussian()
    schedule = make_schedule("cosine")
    denoiser = GaussianDenoiser(mean.reshape(N_FEATURES, LENGTH), covariance, schedule)
    x = torch.randn(64, N_FEATURES, LENGTH, dtype=torch.float64)
    times = schedule.sampling_times(20, SAMPLERS[sampler].spacing)
    first = SAMPLERS[sampler].function(
        denoiser, x.clone(), times, schedule, generator=torch.Generator().manual_seed(1)
    )
    second = SAMPLERS[sampler].function(
        denoiser, x.clone(), times, schedule, generator=torch.Generator().manual_seed(2)
    )
    torch.testing.assert_close(first, second, rtol=0, atol=0)


def test_ddim_with_eta_one_is_random_and_seeded():
    mean, covariance = _gaussian()
    schedule = make_schedule("linear")
    denoiser = GaussianDenoiser(mean.reshape(N_FEATURES, LENGTH), covariance, schedule)
    x = torch.randn(64, N_FEATURES, LENGTH, dtype=torch.float64)
    times = schedule.sampling_times(20)

    def draw(seed):
        generator = torch.Generator().manual_seed(seed)
        return ddim(denoiser, x.clone(), times, schedule, eta=1.0, generator=generator)

    torch.testing.assert_close(draw(1), draw(1), rtol=0, atol=0)
    assert not torch.allclose(draw(1), draw(2))


@pytest.mark.parametrize("schedule_name", SCHEDULES)
def test_dpm_solver_with_20_steps_matches_a_fine_ode_solve(schedule_name):
    """DPM-Solver++(2M) with 20 steps lands within 0.1 (data std ~1, largest error over
    all entries) of a 1000-step Heun solve of the same ODE from the same noise, and is
    at least 5 times closer than first-order DDIM with the same 20 steps."""
    mean, covariance = _gaussian()
    schedule = make_schedule(schedule_name)
    denoiser = GaussianDenoiser(mean.reshape(N_FEATURES, LENGTH), covariance, schedule)
    generator = torch.Generator().manual_seed(5)
    x = torch.randn(256, N_FEATURES, LENGTH, dtype=torch.float64, generator=generator)
    x = float(schedule.sigma(torch.tensor([1.0]))[0]) * x
    grid = schedule.sampling_times(20, "log_snr")
    reference = heun(denoiser, x, schedule.sampling_times(1000, "log_snr"), schedule)
    dpm_error = float((dpm_solver(denoiser, x, grid, schedule) - reference).abs().max())
    ddim_error = float((ddim(denoiser, x, grid, schedule) - reference).abs().max())
    assert dpm_error < 0.1
    assert dpm_error < ddim_error / 5
