"""Draw samples of a :class:`DiffusionModel` for a batch of conditions.

This is the one sampling entry point of every estimator: it repeats each condition
``n_samples`` times, runs a sampler on all of them as one batch (in chunks of at most
``max_batch`` windows, to bound memory), and returns the given entries exactly.
"""

from __future__ import annotations

from numbers import Integral
from typing import Any

import torch
from torch import Tensor

from .model import Condition, DiffusionModel
from .samplers import CALLS_PER_STEP, DEFAULT_SPACING, SAMPLERS

__all__ = ["generate", "check_sampler"]


def check_sampler(sampler: str, n_steps: int) -> None:
    """Raise ``ValueError`` for an unknown sampler or a step count below 1."""
    if sampler not in SAMPLERS:
        raise ValueError(
            f"unknown sampler {sampler!r}; choose one of {', '.join(SAMPLERS)}"
        )
    if not isinstance(n_steps, Integral) or isinstance(n_steps, bool):
        raise ValueError(f"n_steps must be an integer, got {n_steps!r}")
    if n_steps < 1:
        raise ValueError(f"n_steps must be at least 1, got {n_steps}")


@torch.no_grad()
def generate(
    model: DiffusionModel,
    condition: Condition,
    n_samples: int = 1,
    *,
    sampler: str = "dpm_solver",
    n_steps: int = 20,
    generator: torch.Generator | None = None,
    max_batch: int | None = 4096,
    progress: Any = None,
    **sampler_options: Any,
) -> Tensor:
    """Sample every window of ``condition`` ``n_samples`` times.

    Parameters
    ----------
    model : DiffusionModel
    condition : Condition
        Windows of shape (batch, n_features, length); moved to the model's device.
    n_samples : int
        Samples per window.
    sampler : str
        A name in :data:`SAMPLERS`.
    n_steps : int
        Noisy time steps of the sampler's grid.
    generator : torch.Generator or None
        On the model's device; the only source of randomness.
    max_batch : int or None
        Most windows (conditions x samples) sampled at once. The deterministic samplers
        (DDIM with ``eta=0``, Heun, DPM-Solver++) give the same samples for any
        ``max_batch``; the stochastic ones draw their noise chunk by chunk.
    progress : callable or None
        Called with the number of finished grid steps (e.g. ``tqdm.update``).
    **sampler_options
        Passed to the sampler (``eta`` of DDIM, ``snr`` of predictor-corrector, ...).

    Returns
    -------
    torch.Tensor of shape (batch, n_samples, n_features, length)
        On the model's device, in the model's dtype; given entries equal
        ``condition.values`` exactly.
    """
    check_sampler(sampler, n_steps)
    if isinstance(n_samples, bool) or not isinstance(n_samples, Integral) or n_samples < 1:
        raise ValueError(f"n_samples must be an integer >= 1, got {n_samples!r}")
    condition.validate(model.n_features, model.n_side)
    device = model.device
    dtype = next(model.parameters()).dtype
    condition = condition.to(device, dtype)
    batch, n_features, length = condition.shape
    times = model.schedule.sampling_times(n_steps, DEFAULT_SPACING[sampler])
    run = SAMPLERS[sampler]
    repeated = condition.repeat(n_samples)
    total = repeated.shape[0]
    chunk = total if not max_batch else max(1, int(max_batch))
    _, sigma_max = model.schedule.alpha_sigma(times[:1])
    start_noise = float(sigma_max[0]) * torch.randn(
        repeated.shape, generator=generator, device=device, dtype=dtype
    )
    was_training = model.training
    model.eval()
    try:
        pieces = []
        for start in range(0, total, chunk):
            part = repeated.slice(start, min(start + chunk, total))
            sample = run(
                model.denoiser(part),
                start_noise[start : start + chunk],
                times,
                model.schedule,
                generator=generator,
                progress=progress,
                **sampler_options,
            )
            pieces.append(torch.where(part.given, part.values, sample))
    finally:
        model.train(was_training)
    return torch.cat(pieces).reshape(batch, n_samples, n_features, length)


def denoiser_calls(sampler: str, n_steps: int) -> int:
    """Upper bound on network evaluations per window-sample (Heun saves one)."""
    check_sampler(sampler, n_steps)
    return CALLS_PER_STEP[sampler] * n_steps
