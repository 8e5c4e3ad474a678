"""Noise schedules: how much signal and how much noise a diffused window holds.

Every schedule describes the marginals of the forward process

    x_t = alpha(t) * x_0 + sigma(t) * eps,    eps ~ N(0, I),    t in [t_min, 1],

in continuous time. Discrete schedules (``linear``, ``quadratic`` as in CSDI, ``cosine``)
are defined by ``n_steps`` betas; their continuous view interpolates the log
signal-to-noise ratio linearly between the grid points ``t_i = (i + 1) / n_steps``, so
that samplers may evaluate them at any time. The continuous ``vp`` and ``ve`` schedules are
the variance-preserving and variance-exploding SDEs of Song et al. (2021).

The time ``t = 0`` is special everywhere: it stands for clean data (``alpha = 1``,
``sigma = 0``) and is the last entry of every sampling grid.
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from typing import Any

import torch
from torch import Tensor

__all__ = [
    "NoiseSchedule",
    "DiscreteSchedule",
    "VPSchedule",
    "VESchedule",
    "make_schedule",
    "SCHEDULES",
]


class NoiseSchedule(ABC):
    """Base class: marginal scales ``alpha(t)``, ``sigma(t)`` of the forward process.

    Subclasses implement :meth:`_alpha_sigma` for ``t`` in ``[t_min, 1]``; this class adds
    the clean endpoint ``t = 0``, the log-SNR, the times drawn for training and the time
    grids used by samplers.
    """

    #: name under which :func:`make_schedule` builds this schedule
    kind: str = ""
    #: smallest noisy time; samplers jump from here to clean data
    t_min: float = 1e-3
    #: largest time; samplers start here
    t_max: float = 1.0

    @abstractmethod
    def _alpha_sigma(self, t: Tensor) -> tuple[Tensor, Tensor]:
        """Return ``(alpha, sigma)`` in float64 for ``t`` in ``[t_min, 1]``."""

    @abstractmethod
    def config(self) -> dict[str, Any]:
        """Return the keyword arguments that rebuild this schedule.

        ``make_schedule(schedule.kind, **schedule.config())`` is an equal schedule.
        """

    @property
    @abstractmethod
    def variance_preserving(self) -> bool:
        """Whether ``alpha(t) ** 2 + sigma(t) ** 2 == 1``."""

    def alpha_sigma(self, t: Tensor) -> tuple[Tensor, Tensor]:
        """Signal scale and noise scale at times ``t``.

        Parameters
        ----------
        t : torch.Tensor of any shape
            Times in ``[0, 1]``; exactly ``0`` means clean data.

        Returns
        -------
        alpha, sigma : torch.Tensor, same shape and dtype as ``t``
        """
        t = torch.as_tensor(t)
        out_dtype = t.dtype if t.is_floating_point() else torch.get_default_dtype()
        t64 = t.to(torch.float64)
        noisy_t = t64.clamp(min=self.t_min)
        alpha, sigma = self._alpha_sigma(noisy_t)
        clean = t64 <= 0
        alpha = torch.where(clean, torch.ones_like(alpha), alpha)
        sigma = torch.where(clean, torch.zeros_like(sigma), sigma)
        return alpha.to(out_dtype), sigma.to(out_dtype)

    def alpha(self, t: Tensor) -> Tensor:
        """Signal scale ``alpha(t)``."""
        return self.alpha_sigma(t)[0]

    def sigma(self, t: Tensor) -> Tensor:
        """Noise scale ``sigma(t)``."""
        return self.alpha_sigma(t)[1]

    def log_snr(self, t: Tensor) -> Tensor:
        """Log signal-to-noise ratio ``log(alpha(t) ** 2 / sigma(t) ** 2)``."""
        alpha, sigma = self.alpha_sigma(torch.as_tensor(t, dtype=torch.float64))
        return 2.0 * (torch.log(alpha) - torch.log(sigma))

    def time_at_log_snr(self, log_snr: Tensor) -> Tensor:
        """Invert :meth:`log_snr` on ``[t_min, 1]`` (bisection, float64).

        Parameters
        ----------
        log_snr : torch.Tensor of any shape
            Target log-SNR values; clipped to the schedule's range.

        Returns
        -------
        torch.Tensor, same shape, float64
        """
        target = torch.as_tensor(log_snr, dtype=torch.float64)
        low = torch.full_like(target, self.t_min)
        high = torch.full_like(target, self.t_max)
        for _ in range(60):
            middle = 0.5 * (low + high)
            too_noisy = self.log_snr(middle) < target
            high = torch.where(too_noisy, middle, high)
            low = torch.where(too_noisy, low, middle)
        return 0.5 * (low + high)

    def training_times(
        self,
        n: int,
        generator: torch.Generator | None = None,
        device: Any = None,
        power: float = 1.0,
    ) -> Tensor:
        """Draw ``n`` times for the training loss on ``[t_min, 1]``.

        Parameters
        ----------
        n : int
        generator : torch.Generator or None
        device : torch.device or None
        power : float
            The times are ``u ** power`` of uniform draws ``u``, stretched to the
            range: 1 is uniform, larger values train more often at low noise.

        Returns
        -------
        torch.Tensor of shape (n,), float32
        """
        u = _skewed_uniform(n, generator, device, power)
        return self.t_min + (self.t_max - self.t_min) * u

    def sampling_times(
        self, n_steps: int, spacing: str = "time", min_log_snr: float = -math.inf
    ) -> Tensor:
        """Descending time grid for a sampler with ``n_steps`` denoiser updates.

        Parameters
        ----------
        n_steps : int
            Number of noisy times; the grid has ``n_steps + 1`` entries, the last one
            ``0`` (clean data).
        spacing : {"time", "log_snr"}
            Uniform in ``t``, or uniform in log-SNR (preferred by few-step solvers).
        min_log_snr : float
            With ``"log_snr"`` spacing, the grid starts at the time of this log-SNR
            where the schedule reaches lower ones (as diffusers' ``lambda_min_clipped``,
            which is half a log-SNR): steps below are spent on nearly pure noise.

        Returns
        -------
        torch.Tensor of shape (n_steps + 1,), float64, from ``t_max`` (or the time of
        ``min_log_snr``) down to ``0``
        """
        n_steps = int(n_steps)
        if n_steps < 1:
            raise ValueError(f"n_steps must be at least 1, got {n_steps}")
        if spacing == "time":
            noisy = self._uniform_times(n_steps)
        elif spacing == "log_snr":
            ends = self.log_snr(torch.tensor([self.t_max, self.t_min]))
            start = max(float(ends[0]), float(min_log_snr))
            levels = torch.linspace(start, float(ends[1]), n_steps)
            noisy = self.time_at_log_snr(levels.to(torch.float64))
            if n_steps > 1:
                noisy[-1] = self.t_min
            if start == float(ends[0]):
                noisy[0] = self.t_max
        else:
            raise ValueError(f"spacing must be 'time' or 'log_snr', got {spacing!r}")
        return torch.cat([noisy.to(torch.float64), torch.zeros(1, dtype=torch.float64)])

    def _uniform_times(self, n_steps: int) -> Tensor:
        return torch.linspace(self.t_max, self.t_min, n_steps, dtype=torch.float64)

    def __repr__(self) -> str:
        args = ", ".join(f"{key}={value!r}" for key, value in self.config().items())
        return f"make_schedule({self.kind!r}, {args})"


class DiscreteSchedule(NoiseSchedule):
    """Variance-preserving schedule defined by ``n_steps`` betas (DDPM).

    Parameters
    ----------
    kind : {"linear", "quadratic", "cosine"}
        ``linear``: betas linear from ``beta_start`` to ``beta_end`` (Ho et al., 2020);
        ``quadratic``: square roots of the betas linear (CSDI, Tashiro et al., 2021);
        ``cosine``: ``alpha_bar`` follows a squared cosine (Nichol & Dhariwal, 2021).
    n_steps : int
        Number of diffusion steps.
    beta_start, beta_end : float or None
        End points of the betas. Defaults: linear ``1e-4`` and ``0.02`` scaled by
        ``1000 / n_steps`` (so few steps still reach pure noise); quadratic ``1e-4`` and
        ``0.5`` (CSDI). Unused by ``cosine``.

    Attributes
    ----------
    betas, alphas_cumprod, log_snr_grid : torch.Tensor of shape (n_steps,), float64
    grid_times : torch.Tensor of shape (n_steps,), float64
        ``(i + 1) / n_steps``: the times the training loss is evaluated at.
    """

    def __init__(
        self,
        kind: str = "quadratic",
        n_steps: int = 50,
        beta_start: float | None = None,
        beta_end: float | None = None,
    ) -> None:
        if kind not in ("linear", "quadratic", "cosine"):
            raise ValueError(
                f"discrete schedule kind must be 'linear', 'quadratic' or 'cosine', "
                f"got {kind!r}"
            )
        if int(n_steps) < 2:
            raise ValueError(f"n_steps must be at least 2, got {n_steps}")
        self.kind = kind
        self.n_steps = int(n_steps)
        self.beta_start = beta_start
        self.beta_end = beta_end
        self.betas = _make_betas(kind, self.n_steps, beta_start, beta_end)
        self.alphas_cumprod = torch.cumprod(1.0 - self.betas, dim=0)
        self.log_snr_grid = torch.log(self.alphas_cumprod) - torch.log1p(
            -self.alphas_cumprod
        )
        self.grid_times = torch.arange(1, self.n_steps + 1, dtype=torch.float64)
        self.grid_times /= self.n_steps
        self.t_min = float(self.grid_times[0])

    @property
    def variance_preserving(self) -> bool:
        """Always true for a discrete beta schedule."""
        return True

    def config(self) -> dict[str, Any]:
        """Return the keyword arguments that rebuild this schedule."""
        return {
            "n_steps": self.n_steps,
            "beta_start": self.beta_start,
            "beta_end": self.beta_end,
        }

    def __getstate__(self) -> dict[str, Any]:
        """The schedule without its copies of the grid on devices (rebuilt on use)."""
        state = dict(self.__dict__)
        state.pop("_log_snr_grids", None)
        return state

    def _log_snr_grid_on(self, device: torch.device) -> Tensor:
        """``log_snr_grid`` on ``device``, copied there once (every step needs it)."""
        copies = self.__dict__.setdefault("_log_snr_grids", {})
        if device not in copies:
            copies[device] = self.log_snr_grid.to(device)
        return copies[device]

    def _alpha_sigma(self, t: Tensor) -> tuple[Tensor, Tensor]:
        position = (t * self.n_steps - 1.0).clamp(0.0, self.n_steps - 1.0)
        lower = position.floor().long().clamp(max=self.n_steps - 2)
        weight = position - lower
        grid = self._log_snr_grid_on(t.device)
        log_snr = (1.0 - weight) * grid[lower] + weight * grid[lower + 1]
        return torch.sigmoid(log_snr).sqrt(), torch.sigmoid(-log_snr).sqrt()

    def training_times(
        self,
        n: int,
        generator: torch.Generator | None = None,
        device: Any = None,
        power: float = 1.0,
    ) -> Tensor:
        """Draw ``n`` grid times ``i / n_steps``, ``i`` in ``1..n_steps``.

        ``power=1`` draws ``i`` uniformly (as in DDPM); the grid step holding
        ``u ** power`` of a uniform ``u`` is drawn otherwise, so larger powers train
        more often at low noise.
        """
        if power == 1:
            steps = torch.randint(
                1, self.n_steps + 1, (n,), generator=generator, device=device
            )
        else:
            u = _skewed_uniform(n, generator, device, power)
            steps = (u * self.n_steps).ceil().clamp(1, self.n_steps)
        return steps.to(torch.float32) / self.n_steps

    def _uniform_times(self, n_steps: int) -> Tensor:
        """Evenly spaced grid times (the whole grid when ``n_steps == n_steps``)."""
        if n_steps >= self.n_steps:
            return torch.linspace(self.t_max, self.t_min, n_steps, dtype=torch.float64)
        index = torch.linspace(self.n_steps, 1, n_steps, dtype=torch.float64).round()
        return index / self.n_steps


def _skewed_uniform(
    n: int, generator: torch.Generator | None, device: Any, power: float
) -> Tensor:
    """``u ** power`` of ``n`` uniform draws on ``[0, 1)``."""
    if not power > 0:
        raise ValueError(f"the training-time power must be positive, got {power}")
    return torch.rand(n, generator=generator, device=device) ** power


def _make_betas(
    kind: str, n_steps: int, beta_start: float | None, beta_end: float | None
) -> Tensor:
    if kind == "linear":
        scale = 1000.0 / n_steps
        start = 1e-4 * scale if beta_start is None else beta_start
        end = 0.02 * scale if beta_end is None else beta_end
        betas = torch.linspace(start, end, n_steps, dtype=torch.float64)
    elif kind == "quadratic":
        start = 1e-4 if beta_start is None else beta_start
        end = 0.5 if beta_end is None else beta_end
        betas = torch.linspace(
            math.sqrt(start), math.sqrt(end), n_steps, dtype=torch.float64
        ).square()
    else:
        offset = 0.008
        steps = torch.arange(n_steps + 1, dtype=torch.float64) / n_steps
        alpha_bar = torch.cos((steps + offset) / (1 + offset) * math.pi / 2).square()
        betas = (1.0 - alpha_bar[1:] / alpha_bar[:-1]).clamp(max=0.999)
    if not (torch.all(betas > 0) and torch.all(betas < 1)):
        raise ValueError(
            f"betas of the {kind} schedule must lie in (0, 1); check beta_start and "
            f"beta_end (got {beta_start}, {beta_end})"
        )
    return betas


class VPSchedule(NoiseSchedule):
    """Variance-preserving SDE with linear ``beta(t)`` (Song et al., 2021).

    ``log alpha(t) = -t**2 (beta_max - beta_min) / 4 - t beta_min / 2`` and
    ``sigma(t) = sqrt(1 - alpha(t) ** 2)``.

    Parameters
    ----------
    beta_min, beta_max : float
        Noise rate at ``t = 0`` and ``t = 1``.
    t_min : float
        Smallest noisy time.
    """

    kind = "vp"

    def __init__(
        self, beta_min: float = 0.1, beta_max: float = 20.0, t_min: float = 1e-3
    ) -> None:
        if not 0 <= beta_min < beta_max:
            raise ValueError(
                f"need 0 <= beta_min < beta_max, got {beta_min} and {beta_max}"
            )
        self.beta_min = float(beta_min)
        self.beta_max = float(beta_max)
        self.t_min = float(t_min)

    @property
    def variance_preserving(self) -> bool:
        """Always true."""
        return True

    def config(self) -> dict[str, Any]:
        """Return the keyword arguments that rebuild this schedule."""
        return {
            "beta_min": self.beta_min,
            "beta_max": self.beta_max,
            "t_min": self.t_min,
        }

    def _alpha_sigma(self, t: Tensor) -> tuple[Tensor, Tensor]:
        log_alpha = -0.25 * t.square() * (self.beta_max - self.beta_min)
        log_alpha = log_alpha - 0.5 * t * self.beta_min
        return log_alpha.exp(), (-torch.expm1(2.0 * log_alpha)).sqrt()


class VESchedule(NoiseSchedule):
    """Variance-exploding SDE: ``alpha = 1``, ``sigma(t)`` geometric (Song et al., 2021).

    ``sigma(t) = sigma_min * (sigma_max / sigma_min) ** t``. Data should be scaled to
    unit variance so that ``sigma_max`` exceeds the spread of the windows.

    Parameters
    ----------
    sigma_min, sigma_max : float
        Noise scale at ``t = 0`` and ``t = 1``.
    """

    kind = "ve"
    t_min = 1e-5

    def __init__(self, sigma_min: float = 0.01, sigma_max: float = 80.0) -> None:
        if not 0 < sigma_min < sigma_max:
            raise ValueError(
                f"need 0 < sigma_min < sigma_max, got {sigma_min} and {sigma_max}"
            )
        self.sigma_min = float(sigma_min)
        self.sigma_max = float(sigma_max)

    @property
    def variance_preserving(self) -> bool:
        """Always false."""
        return False

    def config(self) -> dict[str, Any]:
        """Return the keyword arguments that rebuild this schedule."""
        return {"sigma_min": self.sigma_min, "sigma_max": self.sigma_max}

    def _alpha_sigma(self, t: Tensor) -> tuple[Tensor, Tensor]:
        ratio = math.log(self.sigma_max / self.sigma_min)
        return torch.ones_like(t), self.sigma_min * torch.exp(ratio * t)

    def time_at_log_snr(self, log_snr: Tensor) -> Tensor:
        """Closed-form inverse: ``sigma = exp(-log_snr / 2)``."""
        sigma = torch.exp(-0.5 * torch.as_tensor(log_snr, dtype=torch.float64))
        ratio = math.log(self.sigma_max / self.sigma_min)
        return (torch.log(sigma / self.sigma_min) / ratio).clamp(self.t_min, self.t_max)


#: schedule names accepted by :func:`make_schedule`
SCHEDULES = ("linear", "quadratic", "cosine", "vp", "ve")


def make_schedule(kind: str, **params: Any) -> NoiseSchedule:
    """Build a schedule by name.

    Parameters
    ----------
    kind : {"linear", "quadratic", "cosine", "vp", "ve"}
        Discrete beta schedules, or the continuous VP / VE SDE.
    **params
        Passed to :class:`DiscreteSchedule`, :class:`VPSchedule` or :class:`VESchedule`.

    Returns
    -------
    NoiseSchedule
    """
    if kind in ("linear", "quadratic", "cosine"):
        return DiscreteSchedule(kind=kind, **params)
    if kind == "vp":
        return VPSchedule(**params)
    if kind == "ve":
        return VESchedule(**params)
    raise ValueError(f"unknown schedule {kind!r}; choose one of {', '.join(SCHEDULES)}")
