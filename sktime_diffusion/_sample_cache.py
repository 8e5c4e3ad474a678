"""One sampling pass for all outputs of one fitted state and one input.

``predict``, ``predict_interval``, ``predict_quantiles``, ``predict_var`` and
``predict_proba`` (and the imputer's ``transform*``) are summaries of the same sample
paths. With a fixed seed per fitted state every call would draw exactly the same
paths again, so the paths of a call are remembered here and reused by the next call
with the same fitted state and inputs: the answer is the same, only the sampler does
not run again.

What is remembered is not estimator state: sktime's
``test_non_state_changing_method_contract`` forbids ``predict*`` from changing an
estimator's ``__dict__``. The estimator only carries a token of its fitted state,
renewed by every ``fit`` and ``update``; the paths live in one process-wide,
least-recently-used store bounded in entries and bytes.
"""

from __future__ import annotations

import hashlib
import threading
import uuid
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Any, TypeVar

import numpy as np
import pandas as pd

__all__ = [
    "SAMPLE_CACHE",
    "SampleCache",
    "digest",
    "new_sampling_state",
    "remembered",
    "sampling_key",
]

T = TypeVar("T")

#: most entries and bytes the process-wide store keeps
MAX_ENTRIES, MAX_BYTES = 16, 512 * 2**20


def new_sampling_state() -> str:
    """A fresh token naming one fitted state (set by ``fit`` and ``update``)."""
    return uuid.uuid4().hex


def digest(data: Any) -> str:
    """A short fingerprint of the data a sampling call depends on.

    Parameters
    ----------
    data : pd.DataFrame, pd.Series, pd.Index, np.ndarray, None, or a tuple of these
        Frames are fingerprinted with their index, columns and dtypes.

    Returns
    -------
    str
    """
    hasher = hashlib.blake2b(digest_size=16)
    _feed(hasher, data)
    return hasher.hexdigest()


def _feed(hasher, data: Any) -> None:
    if data is None:
        hasher.update(b"<none>")
    elif isinstance(data, tuple | list):
        hasher.update(f"<seq {len(data)}>".encode())
        for item in data:
            _feed(hasher, item)
    elif isinstance(data, pd.DataFrame | pd.Series):
        hasher.update(repr((type(data).__name__, data.shape)).encode())
        hasher.update(pd.util.hash_pandas_object(data, index=True).to_numpy().tobytes())
        if isinstance(data, pd.DataFrame):
            hasher.update(repr(list(data.columns)).encode())
            hasher.update(repr(list(map(str, data.dtypes))).encode())
        _feed(hasher, data.index)
    elif isinstance(data, pd.Index):
        hasher.update(repr((type(data).__name__, data.names, str(data.dtype))).encode())
        frame = data.to_frame(index=False)
        hasher.update(pd.util.hash_pandas_object(frame, index=False).to_numpy().tobytes())
        hasher.update(repr(getattr(data, "freq", None)).encode())
    elif isinstance(data, np.ndarray):
        hasher.update(repr((data.dtype.str, data.shape)).encode())
        hasher.update(np.ascontiguousarray(data).tobytes())
    else:
        hasher.update(repr(data).encode())


class SampleCache:
    """A bounded least-recently-used store of sample draws.

    Parameters
    ----------
    max_entries : int
        Most draws kept.
    max_bytes : int
        Most bytes kept over all draws; a draw larger than this is not kept.
    """

    def __init__(self, max_entries: int = MAX_ENTRIES, max_bytes: int = MAX_BYTES):
        self.max_entries = int(max_entries)
        self.max_bytes = int(max_bytes)
        self._entries: OrderedDict[Hashable, tuple[Any, int]] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._entries)

    def clear(self) -> None:
        """Forget every draw."""
        with self._lock:
            self._entries.clear()
            self._bytes = 0

    def get_or_draw(
        self, key: Hashable, draw: Callable[[], T], size: Callable[[T], int]
    ) -> T:
        """The draw stored under ``key``, or ``draw()`` (then stored).

        Parameters
        ----------
        key : hashable
            Names the fitted state and every input of the draw.
        draw : callable
            Makes the draw; its result must not be modified by callers.
        size : callable
            Bytes a result takes.

        Returns
        -------
        The (stored) draw.
        """
        with self._lock:
            if key in self._entries:
                self._entries.move_to_end(key)
                return self._entries[key][0]
        result = draw()
        nbytes = int(size(result))
        if nbytes > self.max_bytes:
            return result
        with self._lock:
            if key not in self._entries:
                self._entries[key] = (result, nbytes)
                self._bytes += nbytes
            while len(self._entries) > self.max_entries or self._bytes > self.max_bytes:
                _, (_, dropped) = self._entries.popitem(last=False)
                self._bytes -= dropped
        return result


#: the store every estimator of this process shares
SAMPLE_CACHE = SampleCache()


def sampling_key(estimator: Any, *inputs: Any) -> tuple[str, str, str] | None:
    """Key of a draw: the estimator's fitted state, its parameters and the inputs.

    Returns None (do not remember) for an estimator without a fitted-state token.
    """
    state = getattr(estimator, "_sampling_state_", None)
    if state is None:
        return None
    parameters = sorted(estimator.get_params(deep=False).items())
    return (state, repr(parameters), digest(tuple(inputs)))


def remembered(
    estimator: Any, inputs: tuple, draw: Callable[[], T], size: Callable[[T], int]
) -> T:
    """``draw()`` for ``estimator`` and ``inputs``, once per fitted state and input."""
    key = sampling_key(estimator, *inputs)
    if key is None:
        return draw()
    return SAMPLE_CACHE.get_or_draw(key, draw, size)
