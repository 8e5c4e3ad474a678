"""The exact denoiser for Gaussian data: samplers checked without any training.

If ``x_0 ~ N(mu, S)`` (over the flattened window) and ``x_t = alpha x_0 + sigma eps``, then
``E[x_0 | x_t, x_0 on given entries]`` is a Gaussian posterior mean in closed form. The
entries the denoiser sees are linear observations ``z = H x_0 + noise`` with
``H = diag(h)``: ``h = 1`` with no noise on given entries and ``h = alpha`` with noise
variance ``sigma**2`` elsewhere, so

    E[x_0 | z] = mu + S H (H S H + R)^{-1} (z - H mu),    R = diag(r).

A correct sampler driven by this denoiser must reproduce ``N(mu, S)``, and on the target
entries the conditional Gaussian given the given entries (DESIGN.md).
"""

from __future__ import annotations

import torch
from torch import Tensor

from .schedules import NoiseSchedule

__all__ = ["GaussianDenoiser", "conditional_gaussian"]


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
