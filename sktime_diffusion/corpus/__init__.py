"""Synthetic pretraining corpus: many short and long series, none of them real.

:func:`synthetic_corpus` draws the series a shipped backbone is pretrained on, and
:func:`corpus_panel` gives the same series as an sktime panel for ``pretrain(y)``. Every
value comes from the random generators of this module: the corpus holds **no real
data**, so no benchmark series can leak into the pretraining.

Each series draws its length log-uniformly between ``min_length`` and ``max_length``,
then one family by the weights of :data:`~.families.FAMILIES`:

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
:data:`~.families.EFFECTS` with their probabilities: level shifts (0.2 of series), spikes
(0.2), and a random scale ``10**u``, ``u`` uniform in [-2, 4] (six orders of magnitude),
with a random offset, or shifted to be strictly positive (0.3). The count-like families
(``intermittent``, ``count``) keep their own scale, drawn inside the generator (mean
rates from 0.5 to 500): they stay non-negative integers, since integrality and exact
zeros are what sets them apart. Any series, of any family, has missing stretches
(0.1 of series: NaN, one to three stretches of up to a tenth of its length each).
All other values are finite.

Series ``k`` of a corpus draws from its own random stream, the ``k``-th child of
``numpy.random.SeedSequence(random_state)``: it is the same whatever ``n_series``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .families import (
    EFFECTS,
    FAMILIES,
    MIN_SERIES_LENGTH,
    Family,
    _check_integer,
    draw_family,
    sample_counts,
    sample_intermittent_demand,
    sample_level_shifts,
    sample_random_walk,
    sample_seasonalities,
    sample_spikes,
    sample_trend,
    synthetic_series,
)
from .kernels import (
    CALENDAR_PERIODS,
    GP_BLOCK_LENGTH,
    RBF,
    Constant,
    Kernel,
    Linear,
    Periodic,
    Product,
    RationalQuadratic,
    Stationary,
    Sum,
    WhiteNoise,
    draw_period,
    random_kernel,
    sample_gaussian_process,
)

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
        ``(length, family)`` of each series; families are keys of
        :data:`~.families.FAMILIES`.
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
