"""Draw samples of a :class:`DiffusionModel` for a batch of conditions.

This is the one sampling entry point of every estimator: it repeats each condition
``n_samples`` times, runs a sampler on all of them as one batch (in chunks of at most
``max_batch`` windows, to bound memory and keep each network call cache-sized), and
returns the given entries exactly.
"""

from __future__ import annotations

from numbers import Integral
from typing import Any

import torch
from torch import Tensor

from .checks import check_count
from .model import Condition, DiffusionModel
from .samplers import SAMPLERS, check_sampler

__all__ = ["generate", "chunk_size"]

#: Entries (windows x features x steps) per network call on the CPU when
#: ``max_batch="auto"``: about where the networks' throughput peaks on a 2-core CPU
#: (benchmarks/engine_speed.py); larger calls spill out of the cache and get slower.
CPU_ENTRIES_PER_CALL = 2**14
#: Windows per network call on other devices when ``max_batch="auto"``.
ACCELERATOR_WINDOWS_PER_CALL = 4096


def chunk_size(
    n_windows: int, window_entries: int, device: torch.device, max_batch: int | str | None
) -> int:
    """Windows sampled per network call.

    Parameters
    ----------
    n_windows : int
        Windows to sample in all (conditions x samples).
    window_entries : int
        Entries of one window (features x steps).
    device : torch.device
        Where the model runs.
    max_batch : int, "auto" or None
        An explicit cap in windows; ``"auto"`` picks a cache-sized chunk on the CPU
        (:data:`CPU_ENTRIES_PER_CALL` entries) and :data:`ACCELERATOR_WINDOWS_PER_CALL`
        windows elsewhere; ``None`` samples everything at once.

    Returns
    -------
    int
        Between 1 and ``n_windows``.
    """
    if max_batch is None:
        cap = n_windows
    elif max_batch == "auto":
        if torch.device(device).type == "cpu":
            cap = CPU_ENTRIES_PER_CALL // max(1, window_entries)
        else:
            cap = ACCELERATOR_WINDOWS_PER_CALL
    elif isinstance(max_batch, Integral):
        cap = check_count("max_batch", max_batch)
    else:
        raise ValueError(
            f"max_batch must be a positive integer, 'auto' or None, got {max_batch!r}"
        )
    return max(1, min(cap, n_windows))


@torch.no_grad()
def generate(
    model: DiffusionModel,
    condition: Condition,
    n_samples: int = 1,
    *,
    sampler: str = "dpm_solver",
    n_steps: int | None = None,
    generator: torch.Generator | None = None,
    start_noise: Tensor | None = None,
    max_batch: int | str | None = "auto",
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
    n_steps : int or None
        Noisy time steps of the sampler's grid; None takes the sampler's
        :attr:`~sktime_diffusion.engine.samplers.SamplerSpec.default_steps`. Too few
        steps are not warned about here: callers that take a count from a user pass
        it through :func:`~sktime_diffusion.engine.samplers.resolve_sampling_steps`.
    generator : torch.Generator or None
        On the model's device; the only source of randomness besides
        ``start_noise``.
    start_noise : torch.Tensor of shape (batch, n_samples, n_features, length) or None
        Standard normal noise the samples start from (the sampler scales it to the
        schedule's largest noise level); None: drawn from ``generator``. Callers that
        draw it window by window get samples that do not depend on how they batch
        windows.
    max_batch : int, "auto" or None
        Most windows (conditions x samples) sampled at once; see :func:`chunk_size`.
        The deterministic samplers (DDIM with ``eta=0``, Heun, DPM-Solver++) give the
        same samples for any ``max_batch``; the stochastic ones draw their noise chunk
        by chunk.
    progress : callable or None
        Called with the number of finished grid steps of the current chunk (e.g.
        ``tqdm.update``); a whole run makes ``n_steps`` times the number of chunks.
    **sampler_options
        Passed to the sampler (``eta`` of DDIM, ``snr`` of predictor-corrector, ...).

    Returns
    -------
    torch.Tensor of shape (batch, n_samples, n_features, length)
        On the model's device, in the model's dtype; given entries equal
        ``condition.values`` exactly.
    """
    n_steps = check_sampler(sampler, n_steps)
    check_count("n_samples", n_samples)
    condition.validate(model.n_features, model.n_side)
    device = model.device
    dtype = next(model.parameters()).dtype
    condition = condition.to(device, dtype)
    batch, n_features, length = condition.shape
    spec = SAMPLERS[sampler]
    times = model.schedule.sampling_times(n_steps, spec.spacing)
    run = spec.function
    repeated = condition.repeat(n_samples)
    total = repeated.shape[0]
    chunk = chunk_size(total, n_features * length, device, max_batch)
    _, sigma_max = model.schedule.alpha_sigma(times[:1])
    if start_noise is None:
        noise = torch.randn(repeated.shape, generator=generator, device=device, dtype=dtype)
    elif tuple(start_noise.shape) != (batch, n_samples, n_features, length):
        raise ValueError(
            f"generate: start_noise needs shape {(batch, n_samples, n_features, length)}"
            f" (windows, samples, features, steps), got {tuple(start_noise.shape)}"
        )
    else:
        noise = start_noise.to(device, dtype).reshape(repeated.shape)
    start_noise = float(sigma_max[0]) * noise
    # the baseline depends on a window's condition only: one per window, not per sample
    window_baselines = model.baseline_of(condition.values, condition.given)
    was_training = model.training
    model.eval()
    try:
        pieces = []
        for start in range(0, total, chunk):
            stop = min(start + chunk, total)
            part = repeated.slice(start, stop)
            rows = torch.arange(start, stop, device=device) // n_samples
            baseline = window_baselines[rows]
            sample = run(
                model.denoiser(part, baseline),
                start_noise[start : start + chunk],
                times,
                model.schedule,
                generator=generator,
                progress=progress,
                **sampler_options,
            )
            sample = sample + baseline
            pieces.append(torch.where(part.given, part.values, sample))
    finally:
        model.train(was_training)
    return torch.cat(pieces).reshape(batch, n_samples, n_features, length)
