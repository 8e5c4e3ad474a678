"""The exact denoiser for Gaussian data: samplers checked without any training.

If ``x_0 ~ N(mu, S)`` (over the flattened window) and ``x_t = alpha x_0 + sigma eps``, then
``E[x_0 | x_t, x_0 on given entries]`` is a Gaussian posterior mean in closed form. The
entries the denoiser sees are linear observations ``z = H x_0 + noise`` with
``H = diag(h)``: ``h = 1`` with no noise on given entries and ``h = alpha`` with noise
variance ``sigma**2`` elsewhere, so

    E[x_0 | z] = mu + S H (H S H + R)^{-1} (z - H mu),    R = diag(r).

A correct sampler driven by this denoiser must reproduce ``N(mu, S)``, and on the target
entries the conditional Gaussian given the given entries ("Checking samplers without
training" in ``docs/concepts.rst``).
"""

from __future__ import annotations

from typing import Any
from unittest import mock

import torch
from torch import Tensor

from . import samplers
from .schedules import NoiseSchedule

__all__ = ["GaussianDenoiser", "conditional_gaussian", "exact_sample_moments"]


class GaussianDenoiser:
    """Exact ``E[x_0 | x_t, given]`` for ``x_0 ~ N(mean, covariance)``.

    Parameters
    ----------
    mean : torch.Tensor of shape (n_features, length)
    covariance : torch.Tensor of shape (n_features * length, n_features * length)
        Over the row-major flattened window.
    schedule : NoiseSchedule
    given_values : torch.Tensor of shape (batch, n_features, length) or None
    given : torch.Tensor of shape (batch, n_features, length), bool, or None
        Without a mask every entry is generated.
    """

    def __init__(
        self,
        mean: Tensor,
        covariance: Tensor,
        schedule: NoiseSchedule,
        given_values: Tensor | None = None,
        given: Tensor | None = None,
    ) -> None:
        self.mean = mean.to(torch.float64)
        self.covariance = covariance.to(torch.float64)
        self.schedule = schedule
        self.given_values = given_values
        self.given = given

    def __call__(self, x_t: Tensor, t: Tensor) -> Tensor:
        """Return ``E[x_0 | x_t, given]`` of shape (batch, n_features, length).

        All windows must share one time; windows are grouped by mask pattern so that the
        linear system is solved once per pattern.
        """
        batch, n_features, length = x_t.shape
        dim = n_features * length
        alpha, sigma = self.schedule.alpha_sigma(t[:1].to(torch.float64))
        z = x_t.to(torch.float64).reshape(batch, dim)
        if self.given is None:
            patterns = torch.zeros(1, dim, dtype=torch.bool)
            pattern_of_row = torch.zeros(batch, dtype=torch.long)
        else:
            given = self.given.reshape(batch, dim)
            values = self.given_values.to(torch.float64).reshape(batch, dim)
            z = torch.where(given, values, z)
            if bool((given == given[:1]).all()):
                patterns = given[:1]
                pattern_of_row = torch.zeros(batch, dtype=torch.long)
            else:
                patterns, pattern_of_row = torch.unique(given, dim=0, return_inverse=True)
        mean = self.mean.reshape(dim)
        x0 = torch.empty_like(z)
        for index, pattern in enumerate(patterns):
            rows = pattern_of_row == index
            scale = torch.where(pattern, 1.0, alpha[0]).to(torch.float64)
            noise_var = torch.where(pattern, 0.0, sigma[0] ** 2).to(torch.float64)
            cov_h = self.covariance * scale[None, :]  # S H
            system = scale[:, None] * cov_h + torch.diag(noise_var)  # H S H + R
            gain = torch.linalg.solve(system, cov_h.T).T  # S H (H S H + R)^{-1}
            x0[rows] = mean + (z[rows] - scale * mean) @ gain.T
        return x0.reshape(batch, n_features, length).to(x_t.dtype)


def conditional_gaussian(
    mean: Tensor, covariance: Tensor, given: Tensor, given_values: Tensor
) -> tuple[Tensor, Tensor]:
    """Mean and covariance of the non-given entries given the given ones.

    Parameters
    ----------
    mean : torch.Tensor of shape (dim,)
    covariance : torch.Tensor of shape (dim, dim)
    given : torch.Tensor of shape (dim,), bool
    given_values : torch.Tensor of shape (dim,)

    Returns
    -------
    mean, covariance : torch.Tensor of shapes (n_target,) and (n_target, n_target)
        ``mu_T + S_TG S_GG^{-1} (x_G - mu_G)`` and ``S_TT - S_TG S_GG^{-1} S_GT``.
    """
    target = ~given
    s_tg = covariance[target][:, given]
    s_gg = covariance[given][:, given]
    gain = torch.linalg.solve(s_gg, s_tg.T).T
    cond_mean = mean[target] + gain @ (given_values[given] - mean[given])
    cond_cov = covariance[target][:, target] - gain @ s_tg.T
    return cond_mean, cond_cov


def exact_sample_moments(
    sampler: str,
    schedule: NoiseSchedule,
    mean: Tensor,
    covariance: Tensor,
    times: Tensor,
    given: Tensor | None = None,
    given_values: Tensor | None = None,
    **options: Any,
) -> tuple[Tensor, Tensor]:
    """Exact mean and covariance of a sampler's output with the exact denoiser.

    With :class:`GaussianDenoiser` every sampler is an affine map of its starting noise
    and of the standard normal noise it draws at each step, so its output is Gaussian
    and these moments follow from one run on unit vectors: one row with no noise at all
    (the mean), and one row per unit vector of the starting noise and of every draw
    (the columns of the map). The draws are intercepted by replacing the samplers'
    noise helper for the duration of the call (not thread-safe: a checking tool).

    Parameters
    ----------
    sampler : str
        A name in :data:`~sktime_diffusion.engine.samplers.SAMPLERS`.
    schedule : NoiseSchedule
    mean : torch.Tensor of shape (n_features, length)
    covariance : torch.Tensor of shape (n_features * length, n_features * length)
    times : torch.Tensor of shape (n_steps + 1,)
        The sampler's grid; the starting noise has standard deviation
        ``sigma(times[0])`` as in :func:`~sktime_diffusion.engine.sampling.generate`.
    given : torch.Tensor of shape (n_features, length), bool, or None
    given_values : torch.Tensor of shape (n_features, length) or None
    **options
        Passed to the sampler.

    Returns
    -------
    mean, covariance : torch.Tensor of shapes (dim,) and (dim, dim), float64
        Over the flattened window, ``dim = n_features * length``; given entries are
        returned as the sampler leaves them (compare the other entries).
    """
    n_features, length = mean.shape
    dim = n_features * length
    function = samplers.SAMPLERS[sampler].function
    sigma_start = float(schedule.sigma(times[:1])[0])

    def run(start: Tensor, noise_for_draw) -> Tensor:
        rows = start.shape[0]
        shape = (rows, n_features, length)
        mask = None if given is None else given.reshape(1, n_features, length)
        values = None if given_values is None else given_values.reshape(mask.shape)
        denoiser = GaussianDenoiser(
            mean,
            covariance,
            schedule,
            given_values=None if values is None else values.to(torch.float64).expand(shape),
            given=None if mask is None else mask.expand(shape),
        )
        draws = iter(range(10**9))

        def noise(x: Tensor, generator: Any) -> Tensor:
            return noise_for_draw(next(draws), x)

        with mock.patch.object(samplers, "_noise", noise):
            out = function(denoiser, start.reshape(shape), times, schedule, **options)
        return out.reshape(rows, dim).to(torch.float64)

    n_draws = _count_draws(run, dim)
    rows = 1 + dim * (1 + n_draws)
    basis = torch.eye(dim, dtype=torch.float64)
    start = torch.zeros(rows, dim, dtype=torch.float64)
    start[1 : 1 + dim] = sigma_start * basis

    def unit_noise(draw: int, x: Tensor) -> Tensor:
        noise = torch.zeros(rows, dim, dtype=x.dtype)
        first = 1 + dim * (1 + draw)
        noise[first : first + dim] = basis.to(x.dtype)
        return noise.reshape(x.shape)

    out = run(start, unit_noise)
    columns = out[1:] - out[:1]
    return out[0], columns.T @ columns


def _count_draws(run, dim: int) -> int:
    """How many noise tensors a sampler run draws (it does not depend on the values)."""
    count = 0

    def zero_noise(draw: int, x: Tensor) -> Tensor:
        nonlocal count
        count += 1
        return torch.zeros_like(x)

    run(torch.zeros(1, dim, dtype=torch.float64), zero_noise)
    return count
