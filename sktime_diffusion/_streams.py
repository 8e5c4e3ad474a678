"""Named random streams: the seed of every random draw, derived from an estimator's seed.

A stream is a :class:`numpy.random.SeedSequence` keyed by the estimator's seed, a named
purpose and the numbers that tell its draws apart (a call number, a request's size, a
block). Streams with different keys are independent; one key gives one stream, in any
process. Sub-streams (one per block of a call, say) are ``stream.spawn(n)``.
"""

from __future__ import annotations

import numpy as np

__all__ = ["PURPOSES", "random_stream", "torch_seed"]

#: every purpose a stream serves, with the number that keys it; never renumber one,
#: that would change every seeded result of the purpose
PURPOSES = {
    "generator sampling": 1,
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
