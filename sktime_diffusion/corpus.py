"""Synthetic pretraining corpus: many short and long series, none of them real.

:func:`synthetic_corpus` draws the series a shipped backbone is pretrained on, and
:func:`corpus_panel` gives the same series as an sktime panel for ``pretrain(y)``. Every
value comes from the random generators of this module: the corpus holds **no real
data**, so no benchmark series can leak into the pretraining.

Each series draws its length log-uniformly between ``min_length`` and ``max_length``,
then one family by the weights of :data:`FAMILIES`:

=========================  ======  ===================================================
family                     weight  what it draws
=========================  ======  ===================================================
``kernel composition``     0.45    a Gaussian-process draw whose kernel adds and
                                   multiplies periodic, linear, RBF, rational
                                   quadratic, white-noise and constant kernels (as
                                   Chronos' KernelSynth does), :func:`random_kernel`
``seasonal``               0.15    one to three seasonalities (calendar or random
                                   periods, a few harmonics, random phase and
                                   amplitude), half the time on a trend, plus noise
``trend``                  0.10    a linear, piecewise-linear or damped trend plus
                                   autocorrelated noise
``random walk``            0.10    cumulated Gaussian or Student-t steps with a drift
``intermittent``           0.10    intermittent demand: Bernoulli occurrences times
                                   integer sizes, mostly exact zeros
``count``                  0.10    Poisson or negative-binomial counts of a positive
                                   latent Gaussian process
=========================  ======  ===================================================

The continuous families (the first four) are standardised, then receive the effects of
:data:`EFFECTS` with their probabilities: level shifts (0.2 of series), spikes (0.2),
and a random scale ``10**u``, ``u`` uniform in [-2, 4] (six orders of magnitude), with a
random offset, or shifted to be strictly positive (0.3). The count-like families
(``intermittent``, ``count``) keep their own scale, drawn inside the generator (mean
rates from 0.5 to 500): they stay non-negative integers, since integrality and exact
zeros are what sets them apart. Any series, of any family, has missing stretches
(0.1 of series: NaN, one to three stretches of up to a tenth of its length each).
All other values are finite.

Series ``k`` of a corpus draws from its own random stream, the ``k``-th child of
``numpy.random.SeedSequence(random_state)``: it is the same whatever ``n_series``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

import numpy as np
import pandas as pd

__all__ = [
    "CALENDAR_PERIODS",
    "EFFECTS",
    "FAMILIES",
    "GP_BLOCK_LENGTH",
    "MIN_SERIES_LENGTH",
    "Constant",
    "Family",
    "Kernel",
    "Linear",
    "Periodic",
    "Product",
    "RationalQuadratic",
    "RBF",
    "Stationary",
    "Sum",
    "WhiteNoise",
    "corpus_panel",
    "corpus_plan",
    "draw_family",
    "draw_period",
    "random_kernel",
    "sample_counts",
    "sample_gaussian_process",
    "sample_intermittent_demand",
    "sample_level_shifts",
    "sample_random_walk",
    "sample_seasonalities",
    "sample_spikes",
    "sample_trend",
    "synthetic_corpus",
    "synthetic_series",
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

#: the shortest series any generator draws
MIN_SERIES_LENGTH = 16

#: a Gaussian-process draw longer than this is drawn in blocks of this many points,
#: each conditioned on the last half of the previous one (see sample_gaussian_process)
GP_BLOCK_LENGTH = 1024

#: jitter added to the diagonal, relative to its mean, before each Cholesky attempt
CHOLESKY_JITTERS = (1e-6, 1e-4)

#: probability of each effect a series receives (the first three: continuous families)
EFFECTS = {
    "level shifts": 0.2,
    "spikes": 0.2,
    "strictly positive": 0.3,
    "missing stretches": 0.1,
}

#: the range of log10 of the scale of continuous series
LOG10_SCALE_RANGE = (-2.0, 4.0)


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


# ------------------------------------------------------------------ other generators


def _ar1_noise(rng: np.random.Generator, length: int, sd: float) -> np.ndarray:
    """Autoregressive noise of order one with a random coefficient in [0, 0.9]."""
    coefficient = rng.uniform(0.0, 0.9)
    innovations = rng.standard_normal(length) * sd * np.sqrt(1.0 - coefficient**2)
    noise = np.empty(length)
    noise[0] = rng.standard_normal() * sd
    for i in range(1, length):
        noise[i] = coefficient * noise[i - 1] + innovations[i]
    return noise


def sample_trend(
    rng: np.random.Generator, length: int, kind: str | None = None
) -> np.ndarray:
    """A trend over relative time ``t = step / length`` in [0, 1).

    Parameters
    ----------
    rng : np.random.Generator
    length : int
    kind : {"linear", "piecewise", "damped"} or None
        ``linear``: one slope; ``piecewise``: one to four breakpoints, a new slope
        after each; ``damped``: a slope that decays exponentially. None draws one.

    Returns
    -------
    np.ndarray of shape (length,)
        Starts at 0; its slopes are standard normal per unit of relative time.
    """
    kinds = ("linear", "piecewise", "damped")
    kind = kinds[rng.integers(len(kinds))] if kind is None else kind
    time = np.arange(length) / length
    if kind == "linear":
        return rng.standard_normal() * time
    if kind == "piecewise":
        breaks = np.sort(rng.uniform(0.0, 1.0, rng.integers(1, 5)))
        slopes = rng.standard_normal(len(breaks) + 1)
        slope_at = slopes[np.searchsorted(breaks, time)]
        return np.concatenate([[0.0], np.cumsum(slope_at[:-1]) / length])
    if kind == "damped":
        rate = _log_uniform(rng, 1.0, 20.0)
        return 2.0 * rng.standard_normal() * (1.0 - np.exp(-rate * time)) / rate
    raise ValueError(f"kind must be one of {kinds} or None, got {kind!r}")


def sample_seasonalities(
    rng: np.random.Generator, length: int, periods: list[float] | None = None
) -> np.ndarray:
    """A sum of seasonal patterns, each a few harmonics with random phases.

    Parameters
    ----------
    rng : np.random.Generator
    length : int
    periods : list of float or None
        The periods in steps; None draws one to three with :func:`draw_period`, none
        longer than half the series (so that two cycles show).

    Returns
    -------
    np.ndarray of shape (length,)
        Each pattern has an amplitude log-uniform in [0.2, 1] and one to three
        harmonics whose coefficients shrink as ``1 / harmonic``.
    """
    if periods is None:
        n_periods = int(rng.integers(1, 4))
        periods = [draw_period(rng, max_period=length / 2) for _ in range(n_periods)]
    steps = np.arange(length)
    total = np.zeros(length)
    for period in periods:
        amplitude = _log_uniform(rng, 0.2, 1.0)
        for harmonic in range(1, int(rng.integers(1, 4)) + 1):
            coefficient = amplitude * rng.standard_normal() / harmonic
            phase = rng.uniform(0.0, 2.0 * np.pi)
            total += coefficient * np.cos(2.0 * np.pi * harmonic * steps / period + phase)
    return total


def sample_level_shifts(rng: np.random.Generator, length: int) -> np.ndarray:
    """A step function: one to three shifts of random size at random steps.

    Returns
    -------
    np.ndarray of shape (length,)
        0 before the first shift; each shift is normal with a standard deviation
        log-uniform in [0.5, 3], and lands in the last nine tenths of the series.
    """
    n_shifts = int(rng.integers(1, 4))
    starts = rng.integers(max(1, length // 10), length, n_shifts)
    sizes = rng.standard_normal(n_shifts) * _log_uniform(rng, 0.5, 3.0)
    shifts = np.zeros(length)
    for start, size in zip(starts, sizes, strict=True):
        shifts[start:] += size
    return shifts


def sample_spikes(rng: np.random.Generator, length: int) -> np.ndarray:
    """Isolated spikes: about one per hundred steps (at least one), 3 to 8 high.

    Returns
    -------
    np.ndarray of shape (length,)
        Zero except at the spikes, whose sizes are uniform in [3, 8] with a random sign.
    """
    n_spikes = int(rng.integers(1, max(1, length // 100) + 1))
    where = rng.choice(length, n_spikes, replace=False)
    spikes = np.zeros(length)
    spikes[where] = rng.uniform(3.0, 8.0, n_spikes) * rng.choice([-1.0, 1.0], n_spikes)
    return spikes


def sample_random_walk(rng: np.random.Generator, length: int) -> np.ndarray:
    """Cumulated steps: Gaussian, or Student-t (heavy tails) half the time, with drift.

    Returns
    -------
    np.ndarray of shape (length,)
        Steps have unit scale; the drift per step is normal with sd 0.1.
    """
    if rng.random() < 0.5:
        steps = rng.standard_normal(length)
    else:
        steps = rng.standard_t(rng.uniform(2.5, 10.0), length)
    return np.cumsum(steps + 0.1 * rng.standard_normal())


def sample_intermittent_demand(rng: np.random.Generator, length: int) -> np.ndarray:
    """Intermittent demand: Bernoulli occurrences times positive integer sizes.

    Returns
    -------
    np.ndarray of shape (length,)
        Non-negative integers (as floats). Demand occurs with a probability
        log-uniform in [0.02, 0.4] per step (at least once); its size is one plus a
        negative-binomial count, with a mean size log-uniform in [1, 30].
    """
    occurs = rng.random(length) < _log_uniform(rng, 0.02, 0.4)
    if not occurs.any():
        occurs[rng.integers(length)] = True
    mean_extra = _log_uniform(rng, 1.0, 30.0) - 1.0
    dispersion = _log_uniform(rng, 0.5, 10.0)
    sizes = 1 + rng.negative_binomial(
        dispersion, dispersion / (dispersion + mean_extra), length
    )
    return np.where(occurs, sizes, 0).astype(np.float64)


def sample_counts(rng: np.random.Generator, length: int) -> np.ndarray:
    """Counts of a positive latent process: Poisson or negative binomial of exp(GP).

    The latent log-rate is a standardised draw of :func:`random_kernel` times a
    standard deviation uniform in [0.2, 1], around the log of a mean rate log-uniform
    in [0.5, 500]. Counts are Poisson, or (half the time) negative binomial with a
    dispersion log-uniform in [0.5, 20] (overdispersed).

    Returns
    -------
    np.ndarray of shape (length,)
        Non-negative integers (as floats).
    """
    latent = _standardised(sample_gaussian_process(random_kernel(rng), length, rng))
    log_rate = np.log(_log_uniform(rng, 0.5, 500.0)) + rng.uniform(0.2, 1.0) * latent
    rate = np.exp(log_rate)
    if rng.random() < 0.5:
        return rng.poisson(rate).astype(np.float64)
    dispersion = _log_uniform(rng, 0.5, 20.0)
    return rng.negative_binomial(dispersion, dispersion / (dispersion + rate)).astype(
        np.float64
    )


# ----------------------------------------------------------------- families of series


def _standardised(values: np.ndarray) -> np.ndarray:
    """``values`` with mean 0 and sd 1 (a constant series becomes zeros)."""
    centred = values - values.mean()
    sd = centred.std()
    return centred / sd if sd > 1e-12 * max(1.0, np.abs(values).max()) else 0.0 * centred


def _kernel_composition_series(rng: np.random.Generator, length: int) -> np.ndarray:
    return sample_gaussian_process(random_kernel(rng), length, rng)


def _seasonal_series(rng: np.random.Generator, length: int) -> np.ndarray:
    values = sample_seasonalities(rng, length)
    if rng.random() < 0.5:
        values = values + sample_trend(rng, length)
    return values + _ar1_noise(rng, length, _log_uniform(rng, 0.02, 0.5) * values.std())


def _trend_series(rng: np.random.Generator, length: int) -> np.ndarray:
    values = sample_trend(rng, length)
    sd = _log_uniform(rng, 0.02, 0.5) * max(np.ptp(values), 1e-3)
    return values + _ar1_noise(rng, length, sd)


@dataclass(frozen=True)
class Family:
    """One family of synthetic series.

    Parameters
    ----------
    weight : float
        Probability that a series of the corpus is of this family.
    generate : callable
        ``generate(rng, length)`` returns np.ndarray of shape (length,).
    continuous : bool
        True: the series is standardised, then receives shifts, spikes, a scale and
        an offset (:data:`EFFECTS`); False: it keeps its values (counts).
    """

    weight: float
    generate: Callable[[np.random.Generator, int], np.ndarray]
    continuous: bool


#: the families of the corpus with their weights (they sum to 1)
FAMILIES: dict[str, Family] = {
    "kernel composition": Family(0.45, _kernel_composition_series, continuous=True),
    "seasonal": Family(0.15, _seasonal_series, continuous=True),
    "trend": Family(0.10, _trend_series, continuous=True),
    "random walk": Family(0.10, sample_random_walk, continuous=True),
    "intermittent": Family(0.10, sample_intermittent_demand, continuous=False),
    "count": Family(0.10, sample_counts, continuous=False),
}


def draw_family(rng: np.random.Generator) -> str:
    """The name of a family of :data:`FAMILIES`, drawn by its weights."""
    names = list(FAMILIES)
    weights = np.array([family.weight for family in FAMILIES.values()])
    return names[rng.choice(len(names), p=weights / weights.sum())]


def _with_effects(rng: np.random.Generator, standardised: np.ndarray) -> np.ndarray:
    """Add level shifts and spikes (each with its probability in :data:`EFFECTS`)."""
    values = standardised
    if rng.random() < EFFECTS["level shifts"]:
        values = values + sample_level_shifts(rng, len(values))
    if rng.random() < EFFECTS["spikes"]:
        values = values + sample_spikes(rng, len(values))
    return values


def _scaled(rng: np.random.Generator, values: np.ndarray) -> np.ndarray:
    """Rescale by ``10**u`` and offset: at random, or to be strictly positive."""
    scale = 10.0 ** rng.uniform(*LOG10_SCALE_RANGE)
    if rng.random() < EFFECTS["strictly positive"]:
        offset = _log_uniform(rng, 0.05, 5.0) - values.min()
    else:
        offset = 3.0 * rng.standard_normal()
    return (values + offset) * scale


def _missing_stretches(rng: np.random.Generator, length: int) -> np.ndarray:
    """A mask of one to three stretches, each 1 to ``length // 10`` steps long."""
    missing = np.zeros(length, dtype=bool)
    for _ in range(int(rng.integers(1, 4))):
        stretch = int(rng.integers(1, max(1, length // 10) + 1))
        start = int(rng.integers(0, length - stretch + 1))
        missing[start : start + stretch] = True
    return missing


def synthetic_series(
    rng: np.random.Generator, length: int, family: str | None = None
) -> np.ndarray:
    """One synthetic series of a family, with its effects, scale and missing stretches.

    Parameters
    ----------
    rng : np.random.Generator
    length : int
        >= :data:`MIN_SERIES_LENGTH`.
    family : str or None
        A key of :data:`FAMILIES`; None draws one by the weights.

    Returns
    -------
    np.ndarray of shape (length,)
        float64; NaN in the missing stretches (if any), finite elsewhere.
    """
    _check_integer("length", length, MIN_SERIES_LENGTH)
    if family is None:
        family = draw_family(rng)
    if family not in FAMILIES:
        raise ValueError(f"family must be one of {list(FAMILIES)} or None, got {family!r}")
    spec = FAMILIES[family]
    values = np.asarray(spec.generate(rng, length), dtype=np.float64)
    if spec.continuous:
        values = _scaled(rng, _with_effects(rng, _standardised(values)))
    if rng.random() < EFFECTS["missing stretches"]:
        values[_missing_stretches(rng, length)] = np.nan
    return values


# ------------------------------------------------------------------------- the corpus


def _check_integer(name: str, value: object, minimum: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int | np.integer):
        raise ValueError(f"{name} must be an integer, got {value!r}")
    if value < minimum:
        raise ValueError(f"{name} must be at least {minimum}, got {value}")


def _series_streams(
    n_series: int, random_state: int | None, min_length: int, max_length: int
) -> list[np.random.SeedSequence]:
    """Check the corpus arguments; one random stream per series (child ``k``)."""
    _check_integer("n_series", n_series, 1)
    if random_state is not None:
        _check_integer("random_state", random_state, 0)
    _check_integer("min_length", min_length, MIN_SERIES_LENGTH)
    _check_integer("max_length", max_length, min_length)
    return np.random.SeedSequence(random_state).spawn(n_series)


def _series_plan(
    stream: np.random.SeedSequence, min_length: int, max_length: int
) -> tuple[np.random.Generator, int, str]:
    """The generator, log-uniform length and family of one series of the corpus."""
    rng = np.random.default_rng(stream)
    log_length = rng.uniform(np.log(min_length), np.log(max_length + 1))
    length = min(int(np.exp(log_length)), max_length)
    return rng, length, draw_family(rng)


def synthetic_corpus(
    n_series: int,
    random_state: int | None = None,
    min_length: int = 64,
    max_length: int = 2048,
) -> list[np.ndarray]:
    """A corpus of synthetic series (the module docstring lists what it holds).

    Parameters
    ----------
    n_series : int
        Number of series, >= 1.
    random_state : int or None, default=None
        Seed (>= 0): one seed gives one corpus, and series ``k`` is the same whatever
        ``n_series``. None draws fresh entropy.
    min_length, max_length : int, default=64, 2048
        Lengths are drawn log-uniformly in ``[min_length, max_length]``;
        ``min_length >= MIN_SERIES_LENGTH``.

    Returns
    -------
    list of np.ndarray, each of shape (length_k,)
        float64 series; NaN marks missing stretches.

    Examples
    --------
    >>> from sktime_diffusion.corpus import synthetic_corpus
    >>> corpus = synthetic_corpus(3, random_state=0, max_length=128)
    >>> [series.ndim for series in corpus]
    [1, 1, 1]
    """
    streams = _series_streams(n_series, random_state, min_length, max_length)
    corpus = []
    for stream in streams:
        rng, length, family = _series_plan(stream, min_length, max_length)
        corpus.append(synthetic_series(rng, length, family))
    return corpus


def corpus_plan(
    n_series: int,
    random_state: int | None = None,
    min_length: int = 64,
    max_length: int = 2048,
) -> list[tuple[int, str]]:
    """The length and family of each series of :func:`synthetic_corpus`, cheaply.

    With the same arguments as :func:`synthetic_corpus`, it draws the lengths and
    families only, not the series.

    Returns
    -------
    list of (int, str)
        ``(length, family)`` of each series; families are keys of :data:`FAMILIES`.
    """
    streams = _series_streams(n_series, random_state, min_length, max_length)
    return [_series_plan(stream, min_length, max_length)[1:] for stream in streams]


def corpus_panel(
    n_series: int,
    random_state: int | None = None,
    min_length: int = 64,
    max_length: int = 2048,
) -> pd.DataFrame:
    """:func:`synthetic_corpus` as an sktime panel (mtype ``pd-multiindex``).

    Parameters
    ----------
    n_series, random_state, min_length, max_length
        As in :func:`synthetic_corpus`.

    Returns
    -------
    pd.DataFrame
        One column ``value``; a MultiIndex of (``instance``, ``time``), both integers,
        ``time`` running ``0, ..., length_k - 1`` in instance ``k``.
    """
    corpus = synthetic_corpus(n_series, random_state, min_length, max_length)
    lengths = [len(series) for series in corpus]
    index = pd.MultiIndex.from_arrays(
        [
            np.repeat(np.arange(len(corpus)), lengths),
            np.concatenate([np.arange(length) for length in lengths]),
        ],
        names=["instance", "time"],
    )
    return pd.DataFrame({"value": np.concatenate(corpus)}, index=index)
