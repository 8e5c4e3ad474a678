"""Training checkpoints: a long fit that is interrupted resumes where it stopped.

:func:`~sktime_diffusion.engine.training.train_model` with
``TrainingConfig.checkpoint`` set writes the whole state of the loop to that file every
``checkpoint_every`` optimiser steps: weights, optimiser moments, EMA weights, the best
validation state, the history, the position in the current epoch and the states of
the random generators. A later call with the same model, data, masks and configuration
finds the file and continues from it; on the CPU the result is bit for bit that of a
run without the break. The file carries a fingerprint of what it belongs to, so a
checkpoint of another run is refused with an error instead of being resumed. Files are
written to a temporary name and renamed, so a kill while writing leaves the last good
checkpoint; weights that are not finite are never written. Under data-parallel
training only rank 0 writes.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any

import numpy as np
import torch

__all__ = ["fingerprint", "load_checkpoint", "remove_checkpoint", "save_checkpoint"]


def fingerprint(*parts: Any) -> str:
    """A short hash of tensors, arrays and JSON-able settings, in order.

    Parameters
    ----------
    *parts : torch.Tensor, np.ndarray or anything ``json.dumps`` takes (with ``repr``
        as fallback)

    Returns
    -------
    str
        Hex digest; equal parts give equal digests.
    """
    digest = hashlib.sha256()
    for part in parts:
        if isinstance(part, torch.Tensor):
            part = part.detach().cpu().contiguous().numpy()
        if isinstance(part, np.ndarray):
            digest.update(str((part.dtype, part.shape)).encode())
            digest.update(np.ascontiguousarray(part).tobytes())
        else:
            digest.update(json.dumps(part, sort_keys=True, default=repr).encode())
    return digest.hexdigest()[:32]


def save_checkpoint(path: str | os.PathLike, state: dict[str, Any]) -> None:
    """Write ``state`` to ``path`` atomically; refuses weights that are not finite.

    Parameters
    ----------
    path : str or os.PathLike
        File to write (its folder is created).
    state : dict
        With a ``"model"`` state dict among other entries.

    Raises
    ------
    FloatingPointError
        If a weight of ``state["model"]`` is NaN or infinite.
    """
    for name, value in state["model"].items():
        if value.is_floating_point() and not torch.isfinite(value).all():
            raise FloatingPointError(
                f"weight {name!r} is not finite; the checkpoint is not written"
            )
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".partial")
    torch.save(state, partial)
    os.replace(partial, path)


def load_checkpoint(path: str | os.PathLike, expected: str) -> dict[str, Any] | None:
    """The state saved at ``path`` for the run of fingerprint ``expected``, or None.

    Parameters
    ----------
    path : str or os.PathLike
    expected : str
        :func:`fingerprint` of the run that wants to resume.

    Returns
    -------
    dict or None
        None when there is no file.

    Raises
    ------
    ValueError
        If the file belongs to another run (other data, model or settings).
    """
    path = Path(path)
    if not path.exists():
        return None
    state = torch.load(path, map_location="cpu", weights_only=False)
    if state.get("fingerprint") != expected:
        raise ValueError(
            f"the checkpoint {str(path)!r} was written by another training run (other "
            "data, model or training settings); delete it or choose another "
            "checkpoint path"
        )
    return state


def remove_checkpoint(path: str | os.PathLike) -> None:
    """Delete the checkpoint at ``path`` (a finished run no longer needs it)."""
    Path(path).unlink(missing_ok=True)
