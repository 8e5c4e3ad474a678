"""The precision the network runs in: float32, or bfloat16 mixed precision.

``"bfloat16"`` runs the network's matrix products and convolutions under
:func:`torch.autocast` in bfloat16 (weights, optimiser state and everything else of
the diffusion stay float32, and the network's output is cast back to float32): on
GPUs with bfloat16 units (NVIDIA from Ampere on) training and sampling are faster and
need less memory. CPUs without bfloat16 instructions emulate it, far slower than
float32. The choice is a context (:func:`network_precision`) that
:class:`~sktime_diffusion.engine.model.DiffusionModel` reads at every network call
(:func:`network_autocast`), so one setting covers training and sampling alike and no
model or saved file carries it.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from contextvars import ContextVar

import torch

__all__ = [
    "PRECISIONS",
    "check_precision",
    "has_bfloat16_units",
    "network_autocast",
    "network_precision",
]

#: the precisions a network can run in
PRECISIONS = ("float32", "bfloat16")

_PRECISION: ContextVar[str] = ContextVar("network_precision", default="float32")


def check_precision(precision: str, device: torch.device, owner: str = "precision") -> str:
    """``precision`` if it is one of :data:`PRECISIONS` and ``device`` can run it.

    Parameters
    ----------
    precision : str
        The asked-for precision.
    device : torch.device
        Where the network will run.
    owner : str
        Named first in the error message (the estimator's class).

    Returns
    -------
    str
        ``precision``.

    Raises
    ------
    ValueError
        For another value, or bfloat16 on a CUDA GPU without bfloat16 units (NVIDIA
        before Ampere, where torch would emulate it, slowly).
    """
    _check_known(precision, owner)
    device = torch.device(device)
    if precision == "bfloat16" and device.type == "cuda":
        if not has_bfloat16_units(device):
            raise ValueError(
                f"{owner}: precision='bfloat16' was asked for, but the GPU "
                f"{torch.cuda.get_device_name(device)} has no bfloat16 units; use "
                "precision='float32'"
            )
    return precision


def _check_known(precision: str, owner: str) -> None:
    """Raise ``ValueError``, naming ``owner``, unless ``precision`` is in PRECISIONS."""
    if not isinstance(precision, str) or precision not in PRECISIONS:
        raise ValueError(
            f"{owner}: precision must be one of {', '.join(map(repr, PRECISIONS))}, "
            f"got {precision!r}"
        )


def has_bfloat16_units(device: torch.device) -> bool:
    """Whether the CUDA GPU ``device`` computes in bfloat16 natively.

    NVIDIA GPUs do from compute capability 8.0 (Ampere) on; AMD GPUs under ROCm
    are taken to. (``torch.cuda.is_bf16_supported()`` also says yes where bfloat16
    is only emulated.)

    Parameters
    ----------
    device : torch.device
        A CUDA device.

    Returns
    -------
    bool
    """
    if torch.version.hip is not None:
        return True
    major, _ = torch.cuda.get_device_capability(device)
    return major >= 8


@contextlib.contextmanager
def network_precision(precision: str) -> Iterator[None]:
    """Networks called inside the block run in ``precision`` (one of :data:`PRECISIONS`).

    Parameters
    ----------
    precision : {"float32", "bfloat16"}
    """
    _check_known(precision, "network_precision")
    token = _PRECISION.set(precision)
    try:
        yield
    finally:
        _PRECISION.reset(token)


def network_autocast(device: torch.device) -> torch.autocast:
    """The autocast context of one network call on ``device``.

    Parameters
    ----------
    device : torch.device
        Where the network runs.

    Returns
    -------
    torch.autocast
        Enabled, in bfloat16, inside a :func:`network_precision` block of
        ``"bfloat16"``; disabled otherwise.
    """
    return torch.autocast(
        torch.device(device).type,
        dtype=torch.bfloat16,
        enabled=_PRECISION.get() == "bfloat16",
    )
