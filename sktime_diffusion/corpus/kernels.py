"""Gaussian-process kernels and the draws from them, the first family of the corpus.

The kernel classes (:class:`Periodic`, :class:`Linear`, :class:`RBF`,
:class:`RationalQuadratic`, :class:`WhiteNoise`, :class:`Constant`) combine with ``+``
and ``*``; :func:`random_kernel` composes a few of them as KernelSynth does, and
:func:`sample_gaussian_process` draws a series from any kernel, in blocks when it is
long. :func:`draw_period` gives the periods, here and for the seasonal family.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import numpy as np

__all__ = [
    "CALENDAR_PERIODS",
    "GP_BLOCK_LENGTH",
    "Constant",
    "Kernel",
    "Linear",
    "Periodic",
    "Product",
    "RationalQuadratic",
    "RBF",
    "Stationary",
    "Sum",
    "WhiteNoise",
    "draw_period",
    "random_kernel",
    "sample_gaussian_process",
]

#: periods (in steps) of common calendars: quarterly/yearly, daily/weekly, monthly/yearly,
#: hourly/daily, half-hourly/daily, weekly/yearly, 15-minute/daily, 10-minute/daily,
#: hourly/weekly, daily/yearly
CALENDAR_PERIODS = (4, 7, 12, 24, 48, 52, 96, 144, 168, 365)

#: share of periods drawn at random (log-uniform) rather than from the calendar
RANDOM_PERIOD_SHARE = 0.25

#: the range of random periods, in steps
RANDOM_PERIOD_RANGE = (2.5, 400.0)

#: the time unit (in steps) of the linear kernel: its slope is per this many steps
LINEAR_TIME_UNIT = 1024.0

#: a Gaussian-process draw longer than this is drawn in blocks of this many points,
#: each conditioned on the last half of the previous one (see sample_gaussian_process)
GP_BLOCK_LENGTH = 1024

#: jitter added to the diagonal, relative to its mean, before each Cholesky attempt
CHOLESKY_JITTERS = (1e-6, 1e-4)


# --------------------------------------------------------------------------- kernels


class Kernel:
    """A covariance function over time steps; ``+`` and ``*`` combine kernels."""

    def covariance(self, positions: np.ndarray) -> np.ndarray:
        """The covariance matrix of the process at ``positions``.

        Parameters
        ----------
        positions : np.ndarray of shape (n,)
            Time steps (floats; ``0, 1, ..., n - 1`` for a whole series).

        Returns
        -------
        np.ndarray of shape (n, n)
        """
        raise NotImplementedError

    def __add__(self, other: Kernel) -> Sum:
        return Sum(self, other)

    def __mul__(self, other: Kernel) -> Product:
        return Product(self, other)


class Stationary(Kernel):
    """A kernel that depends on the lag ``|t - t'|`` only: ``of_lag`` defines it."""

    def of_lag(self, lags: np.ndarray) -> np.ndarray:
        """The covariance at ``lags`` (any shape, >= 0), elementwise."""
        raise NotImplementedError

    def covariance(self, positions: np.ndarray) -> np.ndarray:
        """See :meth:`Kernel.covariance`; evaluated once per lag on a regular grid."""
        steps = np.diff(positions)
        if len(steps) and np.allclose(steps, steps[0]):
            return _symmetric_toeplitz(self.of_lag(np.abs(positions - positions[0])))
        return self.of_lag(np.abs(np.subtract.outer(positions, positions)))


def _symmetric_toeplitz(first_column: np.ndarray) -> np.ndarray:
    """The matrix ``M[i, j] = first_column[|i - j|]``, shape (n, n) (a read-only view)."""
    n = len(first_column)
    mirrored = np.concatenate([first_column[::-1], first_column[1:]])
    return np.lib.stride_tricks.sliding_window_view(mirrored, n)[::-1]


def _log_uniform(rng: np.random.Generator, low: float, high: float) -> float:
    return float(np.exp(rng.uniform(np.log(low), np.log(high))))


@dataclass(frozen=True)
class Periodic(Stationary):
    """``exp(-2 sin^2(pi |t - t'| / period) / smoothness^2)``: repeats every period."""

    period: float
    smoothness: float = 1.0

    def of_lag(self, lags: np.ndarray) -> np.ndarray:
        """See :meth:`Stationary.of_lag`."""
        phase = np.sin(np.pi * lags / self.period)
        return np.exp(-2.0 * phase**2 / self.smoothness**2)

    @classmethod
    def draw(cls, rng: np.random.Generator) -> Periodic:
        """A periodic kernel with a period of :func:`draw_period`."""
        return cls(period=draw_period(rng), smoothness=rng.uniform(0.5, 1.5))


@dataclass(frozen=True)
class Linear(Kernel):
    """``bias + (t - origin)(t' - origin)``, time in units of :data:`LINEAR_TIME_UNIT`."""

    origin: float
    bias: float = 0.1

    def covariance(self, positions: np.ndarray) -> np.ndarray:
        """See :meth:`Kernel.covariance`."""
        time = positions / LINEAR_TIME_UNIT - self.origin
        return self.bias + np.multiply.outer(time, time)

    @classmethod
    def draw(cls, rng: np.random.Generator) -> Linear:
        """A linear kernel with its origin uniform in [0, 1] time units."""
        return cls(origin=rng.uniform(0.0, 1.0), bias=_log_uniform(rng, 0.01, 1.0))


@dataclass(frozen=True)
class RBF(Stationary):
    """``exp(-|t - t'|^2 / (2 length_scale^2))``: smooth, length scale in steps."""

    length_scale: float

    def of_lag(self, lags: np.ndarray) -> np.ndarray:
        """See :meth:`Stationary.of_lag`."""
        return np.exp(-0.5 * (lags / self.length_scale) ** 2)

    @classmethod
    def draw(cls, rng: np.random.Generator) -> RBF:
        """An RBF kernel with a length scale log-uniform in [2, 512] steps."""
        return cls(length_scale=_log_uniform(rng, 2.0, 512.0))


@dataclass(frozen=True)
class RationalQuadratic(Stationary):
    """``(1 + |t - t'|^2 / (2 alpha length_scale^2))^-alpha``: a mixture of RBFs."""

    length_scale: float
    alpha: float = 1.0

    def of_lag(self, lags: np.ndarray) -> np.ndarray:
        """See :meth:`Stationary.of_lag`."""
        scaled = (lags / self.length_scale) ** 2 / (2.0 * self.alpha)
        return (1.0 + scaled) ** -self.alpha

    @classmethod
    def draw(cls, rng: np.random.Generator) -> RationalQuadratic:
        """Length scale log-uniform in [2, 512] steps, alpha in [0.1, 10]."""
        return cls(
            length_scale=_log_uniform(rng, 2.0, 512.0), alpha=_log_uniform(rng, 0.1, 10.0)
        )


@dataclass(frozen=True)
class WhiteNoise(Stationary):
    """``variance`` on the diagonal, zero elsewhere: independent noise."""

    variance: float = 1.0

    def of_lag(self, lags: np.ndarray) -> np.ndarray:
        """See :meth:`Stationary.of_lag`."""
        return np.where(lags == 0, self.variance, 0.0)

    @classmethod
    def draw(cls, rng: np.random.Generator) -> WhiteNoise:
        """White noise with a variance log-uniform in [0.01, 1]."""
        return cls(variance=_log_uniform(rng, 0.01, 1.0))


@dataclass(frozen=True)
class Constant(Stationary):
    """``value`` everywhere: a random level (added) or a rescaling (multiplied)."""

    value: float = 1.0

    def of_lag(self, lags: np.ndarray) -> np.ndarray:
        """See :meth:`Stationary.of_lag`."""
        return np.full(np.shape(lags), self.value)

    @classmethod
    def draw(cls, rng: np.random.Generator) -> Constant:
        """A constant kernel with a value log-uniform in [0.1, 2]."""
        return cls(value=_log_uniform(rng, 0.1, 2.0))


@dataclass(frozen=True)
class Sum(Kernel):
    """``left + right``: the sum of two independent processes."""

    left: Kernel
    right: Kernel

    def covariance(self, positions: np.ndarray) -> np.ndarray:
        """See :meth:`Kernel.covariance`."""
        return self.left.covariance(positions) + self.right.covariance(positions)


@dataclass(frozen=True)
class Product(Kernel):
    """``left * right`` (elementwise): e.g. a periodic pattern whose amplitude grows."""

    left: Kernel
    right: Kernel

    def covariance(self, positions: np.ndarray) -> np.ndarray:
        """See :meth:`Kernel.covariance`."""
        return self.left.covariance(positions) * self.right.covariance(positions)


#: the kernel bank: each kind with its probability of being drawn as one term
KERNEL_BANK: dict[type, float] = {
    Periodic: 0.30,
    Linear: 0.10,
    RBF: 0.15,
    RationalQuadratic: 0.15,
    WhiteNoise: 0.20,
    Constant: 0.10,
}


def draw_period(rng: np.random.Generator, max_period: float | None = None) -> float:
    """A period in steps: a calendar one, or (a quarter of the time) a random one.

    Parameters
    ----------
    rng : np.random.Generator
    max_period : float or None
        Only periods up to this are drawn (calendar ones above it are skipped); None
        for no bound.

    Returns
    -------
    float
        One of :data:`CALENDAR_PERIODS`, or log-uniform in :data:`RANDOM_PERIOD_RANGE`.
    """
    bound = np.inf if max_period is None else max_period
    calendar = [period for period in CALENDAR_PERIODS if period <= bound]
    if calendar and rng.random() >= RANDOM_PERIOD_SHARE:
        return float(rng.choice(calendar))
    low, high = RANDOM_PERIOD_RANGE
    return _log_uniform(rng, min(low, bound), min(high, bound))


def random_kernel(rng: np.random.Generator, max_terms: int = 5) -> Kernel:
    """A random composition of kernels from the bank, as KernelSynth draws them.

    Between 1 and ``max_terms`` kernels are drawn from :data:`KERNEL_BANK` (with
    replacement, by its weights) and combined left to right, each time with ``+`` or
    ``*`` at even odds.

    Parameters
    ----------
    rng : np.random.Generator
    max_terms : int, default=5
        The largest number of kernels combined, >= 1.

    Returns
    -------
    Kernel
    """
    if max_terms < 1:
        raise ValueError(f"max_terms must be at least 1, got {max_terms}")
    kinds = list(KERNEL_BANK)
    weights = np.array(list(KERNEL_BANK.values()))
    n_terms = int(rng.integers(1, max_terms + 1))
    terms = [kinds[i].draw(rng) for i in rng.choice(len(kinds), n_terms, p=weights)]
    kernel = terms[0]
    for term in terms[1:]:
        kernel = kernel + term if rng.random() < 0.5 else kernel * term
    return kernel


# ------------------------------------------------------------- Gaussian-process draws


class _HasCovariance(Protocol):
    def covariance(self, positions: np.ndarray) -> np.ndarray: ...


def _jittered_cholesky(matrix: np.ndarray) -> np.ndarray | None:
    """The Cholesky factor of ``matrix`` plus the smallest jitter that works, or None."""
    scale = max(float(np.mean(np.diag(matrix))), 1e-12)
    identity = np.eye(len(matrix))
    for jitter in CHOLESKY_JITTERS:
        try:
            return np.linalg.cholesky(matrix + jitter * scale * identity)
        except np.linalg.LinAlgError:
            continue
    return None


def _square_root(covariance: np.ndarray) -> np.ndarray:
    """A factor ``F`` with ``F @ F.T`` ~ ``covariance``: Cholesky, else eigen.

    The eigen-decomposition fallback clips negative eigenvalues (rounding errors of
    a near-singular kernel) to zero.
    """
    factor = _jittered_cholesky(covariance)
    if factor is not None:
        return factor
    eigenvalues, eigenvectors = np.linalg.eigh(covariance)
    return eigenvectors * np.sqrt(np.clip(eigenvalues, 0.0, None))


def _solve_covariance(covariance: np.ndarray, right: np.ndarray) -> np.ndarray:
    """``covariance^-1 @ right`` for a covariance matrix (pseudo-inverse if singular)."""
    factor = _jittered_cholesky(covariance)
    if factor is not None:
        return np.linalg.solve(factor.T, np.linalg.solve(factor, right))
    eigenvalues, eigenvectors = np.linalg.eigh(covariance)
    keep = eigenvalues > 1e-10 * max(eigenvalues.max(), 1e-12)
    inverse = (eigenvectors[:, keep] / eigenvalues[keep]) @ eigenvectors[:, keep].T
    return inverse @ right


def _draw_normal(covariance: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """One zero-mean normal draw, shape (n,), with the given covariance (n, n)."""
    return _square_root(covariance) @ rng.standard_normal(len(covariance))


def _draw_continuation(
    joint: np.ndarray, observed: np.ndarray, rng: np.random.Generator
) -> np.ndarray:
    """Draw the points after ``observed`` given them.

    ``joint`` is the covariance of (observed, new) points, shape (m + k, m + k), with
    ``observed`` of shape (m,); returns the k new points.
    """
    m = len(observed)
    weights = _solve_covariance(joint[:m, :m], joint[:m, m:])
    mean = weights.T @ observed
    covariance = joint[m:, m:] - joint[m:, :m] @ weights
    return mean + _draw_normal(0.5 * (covariance + covariance.T), rng)


def sample_gaussian_process(
    kernel: _HasCovariance,
    length: int,
    rng: np.random.Generator,
    block_length: int = GP_BLOCK_LENGTH,
) -> np.ndarray:
    """One zero-mean Gaussian-process draw over the steps ``0, ..., length - 1``.

    Up to ``block_length`` points are one draw through the Cholesky factor of the
    kernel's covariance, with a small jitter on the diagonal, or through its
    eigen-decomposition if Cholesky fails even so. A longer series is drawn in blocks:
    each new block of ``block_length // 2`` points is drawn from the process
    conditioned on the last ``block_length // 2`` points already drawn. The cost thus
    grows linearly with the length (a ``block_length`` covariance per block), and,
    unlike drawing on a coarser grid and interpolating, short periods and the
    white-noise part survive. What is lost is dependence reaching further back than
    half a block (with the default, periods above 512 steps are continued from less
    than one cycle).

    Parameters
    ----------
    kernel : Kernel
        Anything with a ``covariance(positions)`` method.
    length : int
        Number of points, >= 1.
    rng : np.random.Generator
    block_length : int, default=GP_BLOCK_LENGTH
        The largest covariance matrix factorised, >= 2.

    Returns
    -------
    np.ndarray of shape (length,)
    """
    if length < 1:
        raise ValueError(f"length must be at least 1, got {length}")
    if block_length < 2:
        raise ValueError(f"block_length must be at least 2, got {block_length}")
    first = min(length, block_length)
    values = np.empty(length)
    values[:first] = _draw_normal(kernel.covariance(np.arange(first, dtype=float)), rng)
    overlap = block_length // 2
    end = first
    while end < length:
        stop = min(end + block_length - overlap, length)
        joint = kernel.covariance(np.arange(end - overlap, stop, dtype=float))
        values[end:stop] = _draw_continuation(joint, values[end - overlap : end], rng)
        end = stop
    return values
