"""The other generators of the corpus and the family table that picks one per series.

Trend, seasonalities, level shifts, spikes, random walk, intermittent demand and counts
(the ``sample_*`` functions); :data:`FAMILIES` names each family of series with its
weight, :data:`EFFECTS` the share of series receiving each effect, and
:func:`synthetic_series` draws one series of a family with its effects, scale and
missing stretches.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from .kernels import _log_uniform, draw_period, random_kernel, sample_gaussian_process

__all__ = [
    "EFFECTS",
    "FAMILIES",
    "MIN_SERIES_LENGTH",
    "Family",
    "draw_family",
    "sample_counts",
    "sample_intermittent_demand",
    "sample_level_shifts",
    "sample_random_walk",
    "sample_seasonalities",
    "sample_spikes",
    "sample_trend",
    "synthetic_series",
]

#: the shortest series any generator draws
MIN_SERIES_LENGTH = 16

#: probability of each effect a series receives (the first three: continuous families)
EFFECTS = {
    "level shifts": 0.2,
    "spikes": 0.2,
    "strictly positive": 0.3,
    "missing stretches": 0.1,
}

#: the range of log10 of the scale of continuous series
LOG10_SCALE_RANGE = (-2.0, 4.0)


# ------------------------------------------------------------------------ generators


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
        The periods in steps; None draws one to three with
        :func:`~.kernels.draw_period`, none longer than half the series (so that two
        cycles show).

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

    The latent log-rate is a standardised draw of :func:`~.kernels.random_kernel` times a
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


def _check_integer(name: str, value: object, minimum: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int | np.integer):
        raise ValueError(f"{name} must be an integer, got {value!r}")
    if value < minimum:
        raise ValueError(f"{name} must be at least {minimum}, got {value}")


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
