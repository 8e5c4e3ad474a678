"""Choosing the torch device: ``"cpu"``, ``"cuda"`` (or ``"cuda:N"``) and ``"auto"``."""

from __future__ import annotations

import os
import warnings

import torch

__all__ = ["host_waits_to_read", "resolve_device", "sampling_device"]


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
