"""Random training masks: which observed entries the model is shown.

One network serves several tasks when it is trained on a mixture of mask patterns
("Training with random masks" in ``docs/concepts.rst``): entries hidden completely at
random (imputation), contiguous gaps (imputation of drop-outs), a hidden suffix
(forecasting), the missing pattern of another window in the batch (CSDI's "historical"
strategy) and "grating" masks that hide every other slice of the window across all
features (anomaly scoring, as in ImDiffusion), and windows with nothing given at all
(unconditional generation).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch
from torch import Tensor

from .checks import check_count
from .device import constant_on, host_waits_to_read

__all__ = ["MASK_PATTERNS", "MaskStrategy", "draw_given_mask", "grating_hidden"]


@dataclass(frozen=True)
class MaskStrategy:
    """A mixture of mask patterns; each window draws one pattern by weight.

    Each pattern of :data:`MASK_PATTERNS` has its weight in the field of its name;
    :meth:`mixture` pairs them.

    Parameters
    ----------
    random : float
        Weight of "hide a random share of the observed entries"; the share is uniform on
        ``[min_ratio, max_ratio]`` per window.
    block : float
        Weight of "hide one contiguous gap per feature" of random length in
        ``[1, max_block_fraction * length]``.
    suffix : float
        Weight of "hide the last steps of every feature" (forecasting).
    historical : float
        Weight of "hide what another window of the batch misses, on top of random".
    grating : float
        Weight of "cut the window into ``n`` equal slices and hide every other one in
        all features" (see :func:`grating_hidden`), with ``n`` drawn from
        ``grating_slices`` and the phase (even or odd slices) at random.
    unconditional : float
        Weight of "hide everything": the model learns to generate whole windows.
    min_ratio, max_ratio : float
        Range of the hidden share for ``random``.
    suffix_length : int or None
        Hidden suffix length; ``None`` draws it uniformly in ``[1, length // 2]``.
    max_block_fraction : float
        Longest gap for ``block``, as a share of the window length.
    grating_slices : tuple of int
        Slice counts ``grating`` draws from, each >= 2.
    """

    random: float = 1.0
    block: float = 0.0
    suffix: float = 0.0
    historical: float = 0.0
    min_ratio: float = 0.0
    max_ratio: float = 1.0
    suffix_length: int | None = None
    max_block_fraction: float = 0.5
    grating: float = 0.0
    grating_slices: tuple[int, ...] = (2, 4, 8)
    unconditional: float = 0.0

    def __post_init__(self) -> None:
        weights = {name: weight for name, (weight, _) in self.mixture().items()}
        if min(weights.values()) < 0 or sum(weights.values()) <= 0:
            raise ValueError(
                f"mask weights must be >= 0 with a positive sum, got {weights}"
            )
        if not 0 <= self.min_ratio <= self.max_ratio <= 1:
            raise ValueError(
                "need 0 <= min_ratio <= max_ratio <= 1, got "
                f"{self.min_ratio} and {self.max_ratio}"
            )
        check_count("suffix_length", self.suffix_length, allow_none=True)
        if not 0 < self.max_block_fraction <= 1:
            raise ValueError(
                f"max_block_fraction must be in (0, 1], got {self.max_block_fraction}"
            )
        if not self.grating_slices or min(self.grating_slices) < 2:
            raise ValueError(
                f"grating_slices must be slice counts >= 2, got {self.grating_slices}"
            )

    def mixture(self) -> dict[str, tuple[float, Pattern]]:
        """Every pattern by name, with its weight: ``{name: (weight, pattern)}``.

        In the order of :data:`MASK_PATTERNS`, the order in which windows draw them.
        """
        return {
            name: (float(getattr(self, name)), pattern)
            for name, pattern in MASK_PATTERNS.items()
        }


#: a pattern: ``(observed, strategy, generator) -> hidden``, bool tensors of shape
#: (batch, n_features, length)
Pattern = Callable[[Tensor, MaskStrategy, "torch.Generator | None"], Tensor]


def _uniform(shape: tuple[int, ...], generator, device) -> Tensor:
    return torch.rand(shape, generator=generator, device=device)


def _random_hidden(observed: Tensor, strategy: MaskStrategy, generator) -> Tensor:
    batch = observed.shape[0]
    ratio = strategy.min_ratio + (strategy.max_ratio - strategy.min_ratio) * _uniform(
        (batch, 1, 1), generator, observed.device
    )
    return _uniform(observed.shape, generator, observed.device) < ratio


def _block_hidden(observed: Tensor, strategy: MaskStrategy, generator) -> Tensor:
    batch, n_features, length = observed.shape
    longest = max(1, int(strategy.max_block_fraction * length))
    u = _uniform((batch, n_features, 2), generator, observed.device)
    block_length = 1 + (u[..., 0] * longest).long().clamp(max=longest - 1)
    start = (u[..., 1] * (length - block_length + 1)).long()
    steps = torch.arange(length, device=observed.device)
    return (steps >= start[..., None]) & (steps < (start + block_length)[..., None])


def _suffix_hidden(observed: Tensor, strategy: MaskStrategy, generator) -> Tensor:
    batch, _, length = observed.shape
    if strategy.suffix_length is not None:
        hidden_length = torch.full(
            (batch,), min(strategy.suffix_length, length), device=observed.device
        )
    else:
        u = _uniform((batch,), generator, observed.device)
        hidden_length = 1 + (u * max(length // 2, 1)).long()
    steps = torch.arange(length, device=observed.device)
    hidden = steps[None, :] >= (length - hidden_length)[:, None]
    return hidden[:, None, :].expand_as(observed)


def _historical_hidden(observed: Tensor, strategy: MaskStrategy, generator) -> Tensor:
    other = torch.randperm(observed.shape[0], generator=generator, device=observed.device)
    return _random_hidden(observed, strategy, generator) | ~observed[other]


def grating_hidden(length: int, n_slices: Tensor, phase: Tensor) -> Tensor:
    """Grating masks: hide every other one of ``n_slices`` equal slices of a window.

    Step ``t`` of a window of ``length`` steps lies in slice ``t * n_slices // length``;
    it is hidden when that slice's parity equals ``phase``. The masks of phase 0 and 1
    for one slice count are complements: together they hide every step exactly once.

    Parameters
    ----------
    length : int
        Steps per window.
    n_slices : torch.Tensor of shape (batch,), int
        Slice count per window, between 2 and ``length``.
    phase : torch.Tensor of shape (batch,), int
        0 hides the even slices (the first one included), 1 the odd ones.

    Returns
    -------
    torch.Tensor of shape (batch, length), bool
    """
    steps = torch.arange(length, device=n_slices.device)
    slice_of_step = (steps[None, :] * n_slices[:, None]) // length
    return (slice_of_step % 2) == phase[:, None]


def _grating_hidden(observed: Tensor, strategy: MaskStrategy, generator) -> Tensor:
    batch, _, length = observed.shape
    counts = constant_on(tuple(strategy.grating_slices), observed.device).clamp(max=length)
    pick = (
        _uniform((batch, 2), generator, observed.device)
        * constant_on((len(counts), 2), observed.device)
    ).long()
    hidden = grating_hidden(length, counts[pick[:, 0]], pick[:, 1])
    return hidden[:, None, :].expand_as(observed)


def _everything_hidden(observed: Tensor, strategy: MaskStrategy, generator) -> Tensor:
    return torch.ones_like(observed)


#: every mask pattern, by the name of its weight in :class:`MaskStrategy`
MASK_PATTERNS: dict[str, Pattern] = {
    "random": _random_hidden,
    "block": _block_hidden,
    "suffix": _suffix_hidden,
    "historical": _historical_hidden,
    "grating": _grating_hidden,
    "unconditional": _everything_hidden,
}


def draw_given_mask(
    observed: Tensor, strategy: MaskStrategy, generator: torch.Generator | None = None
) -> Tensor:
    """Draw which observed entries each window is shown.

    Parameters
    ----------
    observed : torch.Tensor of shape (batch, n_features, length), bool
    strategy : MaskStrategy
    generator : torch.Generator or None
        On the device of ``observed`` (CPU generators drive CPU tensors).

    Returns
    -------
    torch.Tensor of shape (batch, n_features, length), bool
        ``given``, a subset of ``observed``. Each window with at least two observed
        entries keeps at least one target entry.
    """
    mixture = list(strategy.mixture().values())
    weights = constant_on(tuple(weight for weight, _ in mixture), observed.device)
    choice = torch.multinomial(
        weights / weights.sum(),
        observed.shape[0],
        replacement=True,
        generator=generator,
    )
    hidden = torch.zeros_like(observed)
    for index, (weight, pattern) in enumerate(mixture):
        if weight > 0:
            rows = (choice == index)[:, None, None]
            hidden = torch.where(rows, pattern(observed, strategy, generator), hidden)
    given = observed & ~hidden
    return _keep_one_target(observed, given, generator)


def _keep_one_target(observed: Tensor, given: Tensor, generator) -> Tensor:
    """Hide one random observed entry in windows where nothing is left to predict."""
    nothing_to_predict = ~((observed & ~given).flatten(1).any(dim=1))
    # on the CPU the draw is skipped when no window needs it; on a GPU it is always
    # made (the same mask), so that the host does not wait to read the flag
    if not host_waits_to_read(observed.device) and not bool(nothing_to_predict.any()):
        return given
    scores = _uniform(observed.shape, generator, observed.device)
    scores = torch.where(given, scores, torch.full_like(scores, -1.0)).flatten(1)
    pick = torch.zeros_like(scores, dtype=torch.bool)
    pick[torch.arange(scores.shape[0], device=scores.device), scores.argmax(dim=1)] = True
    pick = pick.reshape(observed.shape) & nothing_to_predict[:, None, None]
    return given & ~pick
