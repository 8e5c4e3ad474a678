"""Named random streams: the seed of every random draw, derived from an estimator's seed.

A stream is a :class:`numpy.random.SeedSequence` keyed by the estimator's seed, a named
purpose and the numbers that tell its draws apart (a call number, a request's size, a
block). Streams with different keys are independent; one key gives one stream, in any
process. Sub-streams (one per block of a call, say) are ``stream.spawn(n)``.

Every seeded draw of the package takes its seed from here, and :data:`PURPOSES` lists
them all, with who draws from each:

==========================  ==========================================================
purpose                     draws
==========================  ==========================================================
``network weights``         a new model's initial weights (global torch generator)
``training order``          the order of training windows, the validation split, the
                            training masks and level offsets (CPU generator)
``training noise``          diffusion times and noise of the training loss (device
                            generator)
``training global``         any draw from the global torch generator during training
                            (dropout)
``validation masks``        the masks and level offsets of the validation loss
``validation noise``        diffusion times and noise of the validation loss
``ensemble member``         the seed of each further model of an ensemble (number:
                            the member, from 1; member 0 keeps the estimator's seed)
``forecast block``          the sampler noise of one autoregressive forecast block
                            (number: the block)
``imputation round``        the sampler noise of one of the imputer's tiling rounds
                            (number: the round)
``anomaly scoring batch``   the reconstructions of one batch of scoring windows
                            (number: the batch)
``generator sampling``      one ``DiffusionGenerator.sample`` call (numbers: the call,
                            ``n_samples``, ``length``; a sub-stream per block)
``pretraining stage``       the training seed of a backbone's further ``pretrain``
                            calls (number: the stage, from 1; stage 0 trains with the
                            backbone's seed)
``threshold fold``          the training seed of the detector's model of one fold of
                            its out-of-fold threshold (number: the fold)
``outpaint window``         the start noise of one window of an outpainting round
                            (seed: the round's; numbers: the window's series and
                            first step)
``outpaint group``          the stochastic samplers' noise of one group of an
                            outpainting round's windows (numbers: those of its first
                            window)
==========================  ==========================================================

The two draws from torch's global generator (a new network's weights, and whatever a
network draws while it trains) go through :func:`seeded_global_generator`, which seeds
it, restores the caller's state afterwards and lets one thread at a time in, so fits
running at once in threads of one process (joblib's ``"threading"`` backend, as
sktime's ``evaluate`` offers it) draw exactly what they draw one after another.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

import numpy as np
import torch

__all__ = [
    "PURPOSES",
    "random_stream",
    "seeded_global_generator",
    "stream_seed",
    "torch_seed",
]

#: held while torch's global generator is seeded and drawn from: it is one per process
_GLOBAL_GENERATOR_LOCK = threading.RLock()

#: every purpose a stream serves, with the number that keys it; never renumber one,
#: that would change every seeded result of the purpose
PURPOSES = {
    "generator sampling": 1,
    "network weights": 2,
    "training order": 3,
    "training noise": 4,
    "validation masks": 5,
    "validation noise": 6,
    "ensemble member": 7,
    "forecast block": 8,
    "imputation round": 9,
    "anomaly scoring batch": 10,
    "training global": 11,
    "pretraining stage": 12,
    "threshold fold": 13,
    "outpaint window": 14,
    "outpaint group": 15,
}


def random_stream(seed: int, purpose: str, *numbers: int) -> np.random.SeedSequence:
    """The random stream of ``purpose`` for the draw that ``numbers`` identify.

    Parameters
    ----------
    seed : int
        The estimator's seed (``seed_``), >= 0.
    purpose : str
        A key of :data:`PURPOSES`.
    *numbers : int
        Non-negative integers that tell this purpose's draws apart.

    Returns
    -------
    np.random.SeedSequence
    """
    if purpose not in PURPOSES:
        raise ValueError(
            f"unknown random stream purpose {purpose!r}; known: {sorted(PURPOSES)}"
        )
    key = (PURPOSES[purpose], *(int(number) for number in numbers))
    return np.random.SeedSequence(int(seed), spawn_key=key)


def torch_seed(stream: np.random.SeedSequence) -> int:
    """A 64-bit seed for ``torch.Generator.manual_seed`` from ``stream``."""
    return int(stream.generate_state(1, np.uint64)[0])


def stream_seed(seed: int, purpose: str, *numbers: int) -> int:
    """``torch_seed(random_stream(seed, purpose, *numbers))``: one draw's torch seed.

    Parameters
    ----------
    seed : int
    purpose : str
    *numbers : int
        As in :func:`random_stream`.

    Returns
    -------
    int in ``[0, 2**64)``
    """
    return torch_seed(random_stream(seed, purpose, *numbers))


@contextmanager
def seeded_global_generator(seed: int) -> Iterator[None]:
    """Torch's global CPU generator seeded with ``seed`` inside, restored after.

    One thread at a time holds it (a re-entrant lock), so concurrent fits in threads do
    not interleave their draws; the caller's global random state is left as it was.

    Parameters
    ----------
    seed : int
        As :func:`stream_seed` returns it.
    """
    with _GLOBAL_GENERATOR_LOCK, torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        yield
