"""Samplers: plain functions that turn noise into data with a denoiser.

Every sampler has the signature::

    sampler(denoiser, x, times, schedule, *, generator=None, progress=None, **options)

- ``denoiser(x_t, t) -> x0_hat``: the data estimate ``E[x_0 | x_t]``; ``x_t`` has shape
  ``(batch, n_features, length)`` and ``t`` shape ``(batch,)``. Conditioning (given entries,
  side channels) lives inside the denoiser, see :mod:`sktime_diffusion.engine.model`.
- ``x``: the starting noise at ``times[0]``, of shape ``(batch, n_features, length)``.
- ``times``: a descending grid ending in ``0`` (clean data), from
  :meth:`NoiseSchedule.sampling_times`.

All samples are one batch: the loop runs over time steps only. Randomness comes from the
``torch.Generator`` alone, so a seeded generator gives the same samples every time.

The SDE samplers (Euler-Maruyama, predictor-corrector, Heun's probability-flow ODE) work
in the scaled variable ``x / alpha(t)`` whose noise level is ``sigma(t) / alpha(t)``
(Karras et al., 2022): there the VP and VE SDEs are the same process in another clock,
so one implementation serves every schedule. DDPM, DDIM and DPM-Solver++ use the
schedule's ``alpha`` and ``sigma`` directly.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from dataclasses import dataclass

import torch
from torch import Tensor

from .checks import check_count
from .schedules import NoiseSchedule

__all__ = [
    "Denoiser",
    "ddpm",
    "ddim",
    "euler_maruyama",
    "predictor_corrector",
    "heun",
    "dpm_solver",
    "SAMPLERS",
    "SamplerSpec",
    "resolve_sampling_steps",
    "check_sampler",
]

Denoiser = Callable[[Tensor, Tensor], Tensor]
Progress = Callable[[int], None] | None


@dataclass(frozen=True)
class _Grid:
    """A sampler's time grid with its levels, computed before the loop.

    Every level is computed on the CPU, in the samples' dtype, and moved to their
    device in a few copies before the loop; the loop reads no value back from the
    device (``clean`` and ``scaled_clean`` say on the host where the noise level is 0),
    so on a GPU the host never waits for a step to finish before it queues the next.

    Attributes
    ----------
    times : torch.Tensor of shape (n,)
        The grid, on the samples' device and in their dtype.
    alpha, sigma : torch.Tensor of shape (n,)
        ``alpha`` and ``sigma`` at each time, on the samples' device.
    scaled : torch.Tensor of shape (n,)
        ``sigma / alpha``, the noise level of the scaled variable ``x / alpha``.
    host_alpha, host_sigma : torch.Tensor of shape (n,)
        ``alpha`` and ``sigma`` on the CPU, for coefficients decided on the host.
    clean, scaled_clean : tuple of bool, length n
        Whether ``sigma`` (``scaled``) is 0 at each time.
    """

    times: Tensor
    alpha: Tensor
    sigma: Tensor
    scaled: Tensor
    host_alpha: Tensor
    host_sigma: Tensor
    clean: tuple[bool, ...]
    scaled_clean: tuple[bool, ...]


def _grid(schedule: NoiseSchedule, times: Tensor, like: Tensor) -> _Grid:
    """The levels of ``times`` for samples like ``like`` (its device and dtype)."""
    host_times = times.cpu()
    alphas, sigmas = [], []
    for t in host_times:  # one time at a time, as the levels always were computed
        alpha, sigma = schedule.alpha_sigma(t.reshape(1))
        alphas.append(alpha.to(like.dtype)[0])
        sigmas.append(sigma.to(like.dtype)[0])
    host_alpha, host_sigma = torch.stack(alphas), torch.stack(sigmas)
    alpha, sigma = schedule.alpha_sigma(host_times)
    host_scaled = (sigma / alpha).to(like.dtype)
    return _Grid(
        times=host_times.to(like.device, like.dtype),
        alpha=host_alpha.to(like.device),
        sigma=host_sigma.to(like.device),
        scaled=host_scaled.to(like.device),
        host_alpha=host_alpha,
        host_sigma=host_sigma,
        clean=tuple(value == 0.0 for value in host_sigma.tolist()),
        scaled_clean=tuple(value == 0.0 for value in host_scaled.tolist()),
    )


def _noise(x: Tensor, generator: torch.Generator | None) -> Tensor:
    return torch.randn(x.shape, generator=generator, device=x.device, dtype=x.dtype)


def _call(denoiser: Denoiser, x: Tensor, t: Tensor) -> Tensor:
    """The denoiser at the 0-d time ``t`` (on ``x``'s device) for every window."""
    return denoiser(x, t.expand(x.shape[0]))


def _tick(progress: Progress) -> None:
    if progress is not None:
        progress(1)


def ddpm(
    denoiser: Denoiser,
    x: Tensor,
    times: Tensor,
    schedule: NoiseSchedule,
    *,
    generator: torch.Generator | None = None,
    progress: Progress = None,
) -> Tensor:
    """Ancestral sampling from the Gaussian posterior ``q(x_s | x_t, x0_hat)`` (DDPM).

    For ``s < t`` with ``alpha_ts = alpha_t / alpha_s`` and
    ``sigma_ts**2 = sigma_t**2 - alpha_ts**2 sigma_s**2`` the posterior has mean
    ``alpha_ts sigma_s**2 / sigma_t**2 x_t + alpha_s sigma_ts**2 / sigma_t**2 x0_hat``
    and variance ``sigma_ts**2 sigma_s**2 / sigma_t**2``; this holds for VP and VE.

    Returns
    -------
    torch.Tensor, shape of ``x``
    """
    return ddim(
        denoiser, x, times, schedule, eta=1.0, generator=generator, progress=progress
    )


def ddim(
    denoiser: Denoiser,
    x: Tensor,
    times: Tensor,
    schedule: NoiseSchedule,
    *,
    eta: float = 0.0,
    generator: torch.Generator | None = None,
    progress: Progress = None,
) -> Tensor:
    """DDIM (Song, Meng & Ermon, 2021); ``eta = 0`` is deterministic, ``eta = 1`` DDPM.

    ``x_s = alpha_s x0_hat + sqrt(sigma_s**2 - c**2) eps_hat + c z`` where ``c**2`` is
    ``eta**2`` times the DDPM posterior variance.

    Returns
    -------
    torch.Tensor, shape of ``x``
    """
    if eta < 0:
        raise ValueError(f"eta must be >= 0, got {eta}")
    grid = _grid(schedule, times, x)
    # the added noise's variance of every step, decided on the host
    host_noise_var = torch.stack(
        [
            _ddim_noise_variance(grid.host_alpha, grid.host_sigma, i, eta)
            for i in range(len(times) - 1)
        ]
    )
    noisy = tuple(eta > 0 and value > 0 for value in host_noise_var.tolist())
    noise_var = host_noise_var.to(x.device)
    for i in range(len(times) - 1):
        alpha_t, sigma_t = grid.alpha[i], grid.sigma[i]
        alpha_s, sigma_s = grid.alpha[i + 1], grid.sigma[i + 1]
        x0_hat = _call(denoiser, x, grid.times[i])
        eps_hat = (x - alpha_t * x0_hat) / sigma_t
        x = alpha_s * x0_hat + (sigma_s**2 - noise_var[i]).sqrt() * eps_hat
        if noisy[i]:
            x = x + noise_var[i].sqrt() * _noise(x, generator)
        _tick(progress)
    return x


def _ddim_noise_variance(alpha: Tensor, sigma: Tensor, i: int, eta: float) -> Tensor:
    """``eta**2`` times the DDPM posterior variance of the step from ``i`` to ``i + 1``."""
    alpha_t, sigma_t, alpha_s, sigma_s = alpha[i], sigma[i], alpha[i + 1], sigma[i + 1]
    alpha_ts = alpha_t / alpha_s
    posterior_var = (sigma_t**2 - alpha_ts**2 * sigma_s**2) * sigma_s**2 / sigma_t**2
    return (eta**2 * posterior_var).clamp(min=0.0, max=sigma_s**2)


def _scaled_denoiser(denoiser: Denoiser, grid: _Grid) -> Callable[[Tensor, int], Tensor]:
    """Denoiser of the scaled variable ``y = x / alpha(t)`` at grid time ``i``."""

    def denoise_scaled(y: Tensor, i: int) -> Tensor:
        return _call(denoiser, grid.alpha[i] * y, grid.times[i])

    return denoise_scaled


def _reverse_sde_step(
    y: Tensor,
    denoised: Tensor,
    level: Tensor,
    next_level: Tensor,
    to_clean: bool,
    generator: torch.Generator | None,
) -> Tensor:
    """One Euler-Maruyama step of the reverse SDE in the scaled variable; to 0: denoise."""
    if to_clean:
        return denoised
    step = level**2 - next_level**2
    return y + step * (denoised - y) / level**2 + step.sqrt() * _noise(y, generator)


def euler_maruyama(
    denoiser: Denoiser,
    x: Tensor,
    times: Tensor,
    schedule: NoiseSchedule,
    *,
    generator: torch.Generator | None = None,
    progress: Progress = None,
) -> Tensor:
    """Euler-Maruyama steps of the reverse-time SDE.

    In the scaled variable ``y = x / alpha`` with level ``s = sigma / alpha`` the forward
    SDE is ``dy = sqrt(d s**2) dW``; one reverse step from ``s_i`` to ``s_j`` is
    ``y + (s_i**2 - s_j**2) score + sqrt(s_i**2 - s_j**2) z`` with the score
    ``(D(y) - y) / s_i**2``. The step to clean data returns ``D(y)`` (no added noise).

    Returns
    -------
    torch.Tensor, shape of ``x``
    """
    grid = _grid(schedule, times, x)
    denoise = _scaled_denoiser(denoiser, grid)
    levels = grid.scaled
    y = x / grid.alpha[0]
    for i in range(len(times) - 1):
        level, next_level = levels[i], levels[i + 1]
        to_clean = grid.scaled_clean[i + 1]
        y = _reverse_sde_step(y, denoise(y, i), level, next_level, to_clean, generator)
        _tick(progress)
    return y


def predictor_corrector(
    denoiser: Denoiser,
    x: Tensor,
    times: Tensor,
    schedule: NoiseSchedule,
    *,
    snr: float = 0.1,
    n_corrector_steps: int = 1,
    generator: torch.Generator | None = None,
    progress: Progress = None,
) -> Tensor:
    """Predictor-corrector sampling (Song et al., 2021): Euler-Maruyama + Langevin.

    After each predictor step to level ``s``, ``n_corrector_steps`` Langevin steps
    ``y + e score + sqrt(2 e) z`` pull ``y`` toward the marginal at ``s``. The step size
    ``e = 2 (snr s)**2`` is Song et al.'s rule ``2 (snr ||z|| / ||score||)**2`` with the
    norm ratio replaced by its value for noise-dominated windows, ``s``: it is the same
    for every window, so a sample does not depend on the others in its batch, and it
    vanishes at low noise where unadjusted Langevin steps would bias the result.

    Returns
    -------
    torch.Tensor, shape of ``x``
    """
    if snr <= 0:
        raise ValueError(f"snr must be > 0, got {snr}")
    grid = _grid(schedule, times, x)
    denoise = _scaled_denoiser(denoiser, grid)
    levels = grid.scaled
    y = x / grid.alpha[0]
    for i in range(len(times) - 1):
        level, next_level = levels[i], levels[i + 1]
        to_clean = grid.scaled_clean[i + 1]
        y = _reverse_sde_step(y, denoise(y, i), level, next_level, to_clean, generator)
        if to_clean:
            _tick(progress)
            continue
        epsilon = 2.0 * (snr * next_level) ** 2
        for _ in range(int(n_corrector_steps)):
            score = (denoise(y, i + 1) - y) / next_level**2
            z = _noise(y, generator)
            y = y + epsilon * score + (2.0 * epsilon).sqrt() * z
        _tick(progress)
    return y


def heun(
    denoiser: Denoiser,
    x: Tensor,
    times: Tensor,
    schedule: NoiseSchedule,
    *,
    generator: torch.Generator | None = None,
    progress: Progress = None,
) -> Tensor:
    """Probability-flow ODE solved with Heun's method (Karras et al., 2022, Alg. 1).

    The ODE ``dy / ds = (y - D(y)) / s`` in the scaled variable is deterministic: the same
    starting noise always gives the same sample. The step to clean data is an Euler step.

    Returns
    -------
    torch.Tensor, shape of ``x``
    """
    del generator  # deterministic
    grid = _grid(schedule, times, x)
    denoise = _scaled_denoiser(denoiser, grid)
    levels = grid.scaled
    y = x / grid.alpha[0]
    for i in range(len(times) - 1):
        level, next_level = levels[i], levels[i + 1]
        slope = (y - denoise(y, i)) / level
        y_euler = y + (next_level - level) * slope
        if grid.scaled_clean[i + 1]:
            y = y_euler
        else:
            next_slope = (y_euler - denoise(y_euler, i + 1)) / next_level
            y = y + (next_level - level) * 0.5 * (slope + next_slope)
        _tick(progress)
    return y


def dpm_solver(
    denoiser: Denoiser,
    x: Tensor,
    times: Tensor,
    schedule: NoiseSchedule,
    *,
    generator: torch.Generator | None = None,
    progress: Progress = None,
) -> Tensor:
    """Multistep DPM-Solver++(2M) (Lu et al., 2022), for 10-20 steps.

    With ``lambda = log(alpha / sigma)`` and ``h = lambda_s - lambda_t``,
    ``x_s = (sigma_s / sigma_t) x_t - alpha_s (exp(-h) - 1) D`` where ``D`` is the data
    estimate, extrapolated from the last two (``D = (1 + 1/2r) x0_t - 1/2r x0_prev``,
    ``r = h_prev / h``). The first step is first order; the step to clean data returns
    the data estimate. Deterministic given the starting noise.

    Returns
    -------
    torch.Tensor, shape of ``x``
    """
    del generator  # deterministic
    previous_x0: Tensor | None = None
    previous_h: Tensor | None = None
    grid = _grid(schedule, times, x)
    for i in range(len(times) - 1):
        alpha_t, sigma_t = grid.alpha[i], grid.sigma[i]
        alpha_s, sigma_s = grid.alpha[i + 1], grid.sigma[i + 1]
        x0_hat = _call(denoiser, x, grid.times[i])
        if grid.clean[i + 1]:
            x = x0_hat
            _tick(progress)
            break
        h = torch.log(alpha_s / sigma_s) - torch.log(alpha_t / sigma_t)
        estimate = x0_hat
        if previous_x0 is not None and previous_h is not None:
            half_inverse_ratio = 0.5 * h / previous_h
            estimate = (
                1.0 + half_inverse_ratio
            ) * x0_hat - half_inverse_ratio * previous_x0
        x = (sigma_s / sigma_t) * x - alpha_s * torch.expm1(-h) * estimate
        previous_x0, previous_h = x0_hat, h
        _tick(progress)
    return x


@dataclass(frozen=True)
class SamplerSpec:
    """Everything the engine knows about one sampler.

    Parameters
    ----------
    function : callable
        The sampler, with the signature of the module docstring.
    spacing : {"time", "log_snr"}
        Time grid it works best with (:meth:`NoiseSchedule.sampling_times`).
    default_steps : int
        Grid steps used when none are asked for: the fewest at which the variance of
        its samples with the exact Gaussian denoiser is within 5% on every schedule
        (``benchmarks/sampler_steps.py``).
    min_steps : int
        Fewer steps than this get a warning: there the variance error exceeds 10% on
        some schedule in the same measurement.
    """

    function: Callable[..., Tensor]
    spacing: str
    default_steps: int
    min_steps: int


#: every sampler by name (measured step counts: docs/results.md, "Sampler step counts")
SAMPLERS: dict[str, SamplerSpec] = {
    "ddpm": SamplerSpec(ddpm, "time", default_steps=500, min_steps=200),
    "ddim": SamplerSpec(ddim, "time", default_steps=200, min_steps=100),
    "euler_maruyama": SamplerSpec(euler_maruyama, "time", default_steps=250, min_steps=200),
    "predictor_corrector": SamplerSpec(
        predictor_corrector, "time", default_steps=200, min_steps=100
    ),
    "heun": SamplerSpec(heun, "log_snr", default_steps=25, min_steps=20),
    "dpm_solver": SamplerSpec(dpm_solver, "log_snr", default_steps=15, min_steps=10),
}


def check_sampler(sampler: str, n_steps: int | None = None) -> int:
    """The grid steps ``sampler`` runs for ``n_steps`` (None: its default); no warning.

    Raises
    ------
    ValueError
        For an unknown sampler, or ``n_steps`` neither None nor an integer >= 1.
    """
    if sampler not in SAMPLERS:
        raise ValueError(
            f"unknown sampler {sampler!r}; choose one of {', '.join(SAMPLERS)}"
        )
    if n_steps is None:
        return SAMPLERS[sampler].default_steps
    return check_count("n_steps", n_steps, allow_none=True)


def resolve_sampling_steps(sampler: str, n_steps: int | None) -> int:
    """The grid steps a sampler runs, with a warning where they are too few.

    Parameters
    ----------
    sampler : str
        A name in :data:`SAMPLERS`.
    n_steps : int or None
        Asked-for steps; None takes the sampler's :attr:`SamplerSpec.default_steps`.

    Returns
    -------
    int
        At least 1. Fewer than the sampler's :attr:`SamplerSpec.min_steps` give a
        ``UserWarning``: the spread of the samples is then off by more than 10% even
        with an exact denoiser.

    Raises
    ------
    ValueError
        As :func:`check_sampler`.
    """
    steps = check_sampler(sampler, n_steps)
    spec = SAMPLERS[sampler]
    if steps < spec.min_steps:
        warnings.warn(
            f"sampler {sampler!r} with {n_steps} sampling steps: below its measured "
            f"minimum of {spec.min_steps}, the spread of the samples is off by more "
            f"than 10% even with an exact denoiser (its default is "
            f"{spec.default_steps})",
            UserWarning,
            stacklevel=2,
        )
    return steps
