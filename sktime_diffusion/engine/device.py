"""Choosing the torch device: ``"cpu"``, ``"cuda"`` (or ``"cuda:N"``) and ``"auto"``."""

from __future__ import annotations

import copy
import functools
import os
import warnings
from collections.abc import Sequence
from typing import TypeVar

import torch

__all__ = [
    "RESIDENT_SHARE",
    "constant_on",
    "held_on",
    "host_waits_to_read",
    "keeps_on_device",
    "resolve_device",
    "sampling_device",
    "tensor_bytes",
    "to_device",
]

Holder = TypeVar("Holder")

#: training windows are moved to a GPU once, instead of a batch at a time, when they
#: take at most this share of its free memory
RESIDENT_SHARE = 0.25


def resolve_device(device: str | torch.device | None) -> torch.device:
    """Turn a user's device choice into a :class:`torch.device`.

    Parameters
    ----------
    device : str, torch.device or None
        ``"auto"`` (or ``None``) picks CUDA when torch sees a GPU and the CPU otherwise
        (under ``torchrun``, the GPU of the process's ``LOCAL_RANK``, one GPU a
        process, as data-parallel training expects); ``"cpu"`` and ``"cuda[:N]"`` are
        taken as they are.

    Returns
    -------
    torch.device

    Raises
    ------
    ValueError
        If the name is not a device, or CUDA is asked for but not available.
    """
    if device is None or device == "auto":
        if not torch.cuda.is_available():
            return torch.device("cpu")
        local_rank = os.environ.get("LOCAL_RANK")
        if local_rank is None:
            return torch.device("cuda")
        return torch.device("cuda", int(local_rank) % max(torch.cuda.device_count(), 1))
    try:
        chosen = torch.device(device)
    except (RuntimeError, TypeError) as error:
        raise ValueError(
            f"device must be 'auto', 'cpu' or 'cuda[:N]', got {device!r}"
        ) from error
    if chosen.type == "cuda":
        if not torch.cuda.is_available():
            raise ValueError(
                f"device={device!r} was asked for, but torch sees no CUDA GPU; "
                "use device='cpu' or device='auto'"
            )
        index = chosen.index or 0
        if index >= torch.cuda.device_count():
            raise ValueError(
                f"device={device!r} was asked for, but only "
                f"{torch.cuda.device_count()} CUDA device(s) are visible"
            )
    elif chosen.type != "cpu":
        raise ValueError(f"device must be 'auto', 'cpu' or 'cuda[:N]', got {device!r}")
    return chosen


def sampling_device(device: str | torch.device | None) -> torch.device:
    """The device to run a trained model on: ``device`` where this machine has it.

    A model trained on a GPU and loaded (or unpickled) where that GPU is missing runs
    on the CPU with a warning instead of failing; ``"auto"`` picks CUDA when present.

    Parameters
    ----------
    device : str, torch.device or None
        As for :func:`resolve_device`.

    Returns
    -------
    torch.device
    """
    try:
        return resolve_device(device)
    except ValueError:
        if not str(device).startswith("cuda"):
            raise
        chosen = torch.device(device)  # a CUDA device this machine does not have
        warnings.warn(
            f"device={str(chosen)!r} is not available on this machine; the model runs "
            "on the CPU",
            UserWarning,
            stacklevel=3,
        )
        return torch.device("cpu")


def host_waits_to_read(device: torch.device) -> bool:
    """Whether reading a tensor's value on ``device`` makes the host wait for it.

    On the CPU a value is there once computed; on a GPU the host must wait until the
    device has run everything queued before it (a synchronisation), which leaves the
    device idle while the host queues the next work. The hot loops of training and
    sampling read no value on such a device, and read freely on the CPU, where that
    costs nothing (and keeps the CPU results as they were).

    Parameters
    ----------
    device : torch.device

    Returns
    -------
    bool
        False for the CPU, True for any other device.
    """
    return torch.device(device).type != "cpu"


def to_device(
    tensor: torch.Tensor, device: torch.device, dtype: torch.dtype | None = None
) -> torch.Tensor:
    """``tensor`` on ``device`` (in ``dtype``), from the CPU to a GPU without waiting.

    A copy from the CPU to a GPU goes through pinned (page-locked) memory and does not
    block the host: the GPU takes the copy in its queue, before the work that uses it.
    Any other move is :meth:`torch.Tensor.to`; the dtype is changed on the tensor's own
    device first (on the CPU the result is that of ``tensor.to(device, dtype)``).

    Parameters
    ----------
    tensor : torch.Tensor
    device : torch.device
    dtype : torch.dtype or None
        None keeps the tensor's dtype.

    Returns
    -------
    torch.Tensor
    """
    if dtype is not None:
        tensor = tensor.to(dtype)
    device = torch.device(device)
    if device.type == "cuda" and tensor.device.type == "cpu":
        return tensor.pin_memory().to(device, non_blocking=True)
    return tensor.to(device)


def keeps_on_device(
    nbytes: int, device: torch.device, free_bytes: int | None = None
) -> bool:
    """Whether training data of ``nbytes`` moves to ``device`` once, not per batch.

    On a GPU the windows are cut on the device when the data take at most
    :data:`RESIDENT_SHARE` of its free memory; otherwise each batch is cut on the CPU
    and copied (:func:`to_device`). On the CPU the data are where they are.

    Parameters
    ----------
    nbytes : int
        Bytes the training data hold.
    device : torch.device
    free_bytes : int or None
        Free memory of the device; None asks CUDA (``torch.cuda.mem_get_info``).

    Returns
    -------
    bool
    """
    device = torch.device(device)
    if device.type != "cuda":
        return False
    if free_bytes is None:
        free_bytes = torch.cuda.mem_get_info(device)[0]
    return nbytes <= RESIDENT_SHARE * free_bytes


@functools.lru_cache(maxsize=256)
def constant_on(
    values: tuple, device: torch.device, dtype: torch.dtype | None = None
) -> torch.Tensor:
    """A tensor of constants on ``device``, made once per device and reused.

    A tensor made from Python numbers on a GPU is a copy from the host, which makes the
    host wait for the device; a loop that needs the same constants at every step takes
    them from here. The tensor is shared: never change it in place.

    Parameters
    ----------
    values : tuple of numbers
    device : torch.device
    dtype : torch.dtype or None
        None: torch's default for the numbers.

    Returns
    -------
    torch.Tensor of shape (len(values),)
    """
    return torch.tensor(values, dtype=dtype, device=device)


def tensor_bytes(*tensors: torch.Tensor | None) -> int:
    """Bytes the ``tensors`` hold (None holds none)."""
    return sum(t.numel() * t.element_size() for t in tensors if t is not None)


def held_on(holder: Holder, names: Sequence[str], device: torch.device) -> Holder:
    """A shallow copy of ``holder`` whose tensor attributes ``names`` are on ``device``.

    Each tensor is moved with one plain copy (pinning it first would gain nothing for
    a copy used whole); None attributes stay None, the others are shared.

    Parameters
    ----------
    holder : object
    names : sequence of str
        Attributes of ``holder`` that hold a tensor or None.
    device : torch.device

    Returns
    -------
    object
        Of ``holder``'s type.
    """
    moved = copy.copy(holder)
    for name in names:
        held = getattr(holder, name)
        if held is not None:
            setattr(moved, name, held.to(device))
    return moved
