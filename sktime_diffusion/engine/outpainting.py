"""Outpainting: fill the unknown stretches of long series window by window.

A model generates windows of a fixed length; a series to complete is longer, or its
unknown entries lie anywhere. :func:`outpaint` keeps ``n_samples`` paths per series
and draws windows over them in *rounds*: every window of a round is drawn in one
batch, given what is known in it (the data, and what earlier rounds generated), and
what it generates is written into the paths before the next round. Each estimator
is one choice of rounds:

- forecasting: one round per block of ``horizon`` steps, each window the last
  ``context`` steps before the block plus the block, standardised by its own given
  entries (``window_scale_floor``);
- imputation: a round of windows side by side, then a round of windows across their
  borders that draws the middle of each window again (``steps``, ``redraw``);
- generation: one round per window, each half a window after the last, given the
  half it shares with what is generated.

Every window is drawn once per path, so ``n_samples`` paths of a window that is the
same in every path (before any round wrote into it) draw exactly what ``n_samples``
samples of that one window would (:func:`~sktime_diffusion.engine.sampling.generate`
repeats a condition sample by sample).

A round is drawn in groups of windows of about :data:`ENTRIES_PER_GROUP` entries
(windows x paths x features x steps), so the stacked windows, their scaling and the
sampler's temporaries stay that size however many windows a round has; only the paths
grow with the data. Each window starts from noise of its own (seeded by the round's
seed, its series and its first step), so the deterministic samplers draw the same
paths for any grouping, and a window draws the same whatever other windows a round
holds (up to the float rounding of network calls of other batch sizes, which some
CPU kernels have).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from numbers import Integral
from typing import Any

import torch
from torch import Tensor

from .model import Condition, DiffusionModel
from .sampling import generate
from .scaling import standardise_by_given
from .streams import stream_seed

__all__ = ["ENTRIES_PER_GROUP", "OutpaintRound", "outpaint"]

#: Entries (windows x paths x features x steps) drawn together in one group of a
#: round: about 8 MB per float32 copy of them, whatever the number of windows.
ENTRIES_PER_GROUP = 2**21


@dataclass(frozen=True)
class OutpaintRound:
    """Windows drawn together, in one batch, from one seed.

    Parameters
    ----------
    windows : sequence of (int, int)
        ``(series number, first step)`` of every window; windows of one series must
        not overlap within a round. A window with nothing to draw is skipped.
    seed : int
        Seed of the round's ``torch.Generator`` (on the model's device).
    steps : slice or None
        Steps of each window, counted from its first step, that the round may draw;
        None: all of them.
    redraw : bool
        Whether the round draws again the entries in ``steps`` that earlier rounds
        generated (given their surroundings); by default such entries are given, so
        a window continues what overlapping windows of earlier rounds drew.
    """

    windows: Sequence[tuple[int, int]]
    seed: int
    steps: slice | None = None
    redraw: bool = False


@torch.no_grad()
def outpaint(
    model: DiffusionModel,
    values: Sequence[Tensor],
    rounds: Sequence[OutpaintRound],
    window_length: int,
    n_samples: int,
    *,
    fill: Sequence[Tensor] | None = None,
    side: Sequence[Tensor] | None = None,
    window_scale_floor: Tensor | None = None,
    origins: Sequence[tuple[int, int]] | None = None,
    sampler: str = "dpm_solver",
    n_steps: int | None = None,
    max_batch: int | str | None = "auto",
    progress: Any = None,
    **sampler_options: Any,
) -> list[Tensor]:
    """Draw ``n_samples`` paths of every series, window by window.

    A window of a round draws the entries of ``fill`` in its ``steps`` that no round
    has generated yet (with ``redraw``, those generated already as well). It is
    given every other known entry in it: the known values and what earlier rounds
    generated. Unknown entries outside ``fill`` are neither given nor kept.

    Parameters
    ----------
    model : DiffusionModel
        On the device to sample on.
    values : sequence of torch.Tensor of shape (n_features, n_timepoints)
        One per series (lengths may differ); NaN marks unknown entries.
    rounds : sequence of OutpaintRound
        Drawn one after the other.
    window_length : int
        Steps per window.
    n_samples : int
        Paths per series.
    fill : sequence of torch.Tensor of bool, shapes as ``values``, or None
        Unknown entries to generate; None: every unknown entry.
    side : sequence of torch.Tensor of shape (n_side, n_timepoints) or None
        Side channels of every series, aligned with ``values``; each window is shown
        its stretch of them.
    window_scale_floor : torch.Tensor of shape (n_series, n_features) or None
        None: windows are sampled in the units of ``values``. Otherwise each window
        of each path is standardised per feature by the mean and standard deviation
        of its given entries, at least this scale
        (:func:`~sktime_diffusion.engine.scaling.given_entry_scaling`), and its draws
        are scaled back.
    origins : sequence of (int, int) or None
        Per series, the ``(series number, step)`` of its first step in the data it
        was cut from: a window's noise is keyed by its series number and first step
        there, so a long series drawn in stretches draws what it would drawn whole.
        None: each series' own number and step 0.
    sampler, n_steps, max_batch, progress, **sampler_options
        As for :func:`~sktime_diffusion.engine.sampling.generate`; ``progress`` is
        called with the finished grid steps of every network-call chunk of every round.

    Returns
    -------
    list of torch.Tensor of shape (n_samples, n_features, n_timepoints)
        float64 on the model's device, one per series: known entries equal ``values``
        exactly, entries of ``fill`` that a window drew hold the last draw, all else
        is NaN.
    """
    _check_arguments(
        model, values, rounds, window_length, n_samples, fill, side, window_scale_floor
    )
    if origins is not None and len(origins) != len(values):
        raise ValueError(
            f"outpaint: origins needs one (series number, step) per series, got "
            f"{len(origins)} for {len(values)} series"
        )
    if origins is None:
        origins = [(number, 0) for number in range(len(values))]
    device = model.device
    paths = [
        series.to(device, torch.float64).expand(n_samples, -1, -1).clone()
        for series in values
    ]
    known = [~torch.isnan(path[0]) for path in paths]  # (F, T) per series
    fill = [~mask for mask in known] if fill is None else [m.to(device) for m in fill]
    if side is not None:
        side = [channels.to(device) for channels in side]
    if window_scale_floor is not None:
        window_scale_floor = window_scale_floor.to(device, torch.float64)
    generated = [torch.zeros_like(mask) for mask in known]
    draw_options = dict(
        sampler=sampler,
        n_steps=n_steps,
        max_batch=max_batch,
        progress=progress,
        **sampler_options,
    )
    n_features = paths[0].shape[1]
    group_size = max(1, ENTRIES_PER_GROUP // (n_samples * n_features * window_length))
    for round_ in rounds:
        windows, drawn = _drawn_entries(round_, fill, generated, window_length)
        # windows of one series do not overlap within a round: a group's writes
        # cannot change what a later group of the round is given
        for first in range(0, len(windows), group_size):
            group = windows[first : first + group_size]
            group_drawn = drawn[first : first + group_size]
            spans = [(i, slice(start, start + window_length)) for i, start in group]
            current = torch.stack([paths[i][:, :, w] for i, w in spans])  # (n,S,F,L)
            # sliced before combined: the whole series' mask per window would add up
            given = torch.stack([known[i][:, w] | generated[i][:, w] for i, w in spans])
            given = given & ~group_drawn  # (n, F, L)
            window_side = (
                None if side is None else torch.stack([side[i][:, w] for i, w in spans])
            )
            floor = None
            if window_scale_floor is not None:
                floor = window_scale_floor[[i for i, _ in spans]]
            keys = [(origins[i][0], origins[i][1] + start) for i, start in group]
            seeds = _WindowSeeds(round_.seed, keys)
            draws = _draw_windows(
                model, current, given, window_side, floor, seeds, draw_options
            )
            for (i, w), new, mask in zip(spans, draws, group_drawn, strict=True):
                paths[i][:, :, w] = torch.where(mask, new, paths[i][:, :, w])
                generated[i][:, w] |= mask
    return paths


@dataclass(frozen=True)
class _WindowSeeds:
    """The seeds of one group of a round's windows.

    Parameters
    ----------
    round_seed : int
        The round's seed.
    windows : list of (int, int)
        ``(series number, first step)`` of the group's windows (see ``origins`` of
        :func:`outpaint`).
    """

    round_seed: int
    windows: list[tuple[int, int]]

    def start_noise(
        self, n_samples: int, n_features: int, length: int, model: DiffusionModel
    ) -> Tensor:
        """Standard normal noise of every path of every window, each window's own.

        Returns
        -------
        torch.Tensor of shape (n_windows * n_samples, 1, n_features, length)
            In the model's dtype, on its device.
        """
        dtype = next(model.parameters()).dtype
        noise = torch.empty(
            (len(self.windows), n_samples, n_features, length),
            dtype=dtype,
            device=model.device,
        )
        for row, (number, start) in enumerate(self.windows):
            seed = stream_seed(self.round_seed, "outpaint window", number, start)
            generator = torch.Generator(model.device).manual_seed(seed)
            noise[row].normal_(generator=generator)
        return noise.reshape(-1, 1, n_features, length)

    def group_generator(self, device: torch.device) -> torch.Generator:
        """The generator of the group's other draws (the stochastic samplers' noise)."""
        number, start = self.windows[0]
        seed = stream_seed(self.round_seed, "outpaint group", number, start)
        return torch.Generator(device).manual_seed(seed)


def _drawn_entries(
    round_: OutpaintRound,
    fill: list[Tensor],
    generated: list[Tensor],
    length: int,
) -> tuple[list[tuple[int, int]], Tensor | None]:
    """The round's windows that draw anything, and what each draws.

    Returns
    -------
    windows : list of (int, int)
    drawn : torch.Tensor of bool of shape (n_windows, n_features, length), or None
    """
    device = fill[0].device
    in_steps = torch.zeros(length, dtype=torch.bool, device=device)
    in_steps[slice(None) if round_.steps is None else round_.steps] = True
    windows, drawn = [], []
    for number, start in round_.windows:
        where = slice(start, start + length)
        wanted = fill[number][:, where] & in_steps
        if not round_.redraw:
            wanted = wanted & ~generated[number][:, where]
        if bool(wanted.any()):
            windows.append((number, start))
            drawn.append(wanted)
    return windows, (torch.stack(drawn) if drawn else None)


def _draw_windows(
    model: DiffusionModel,
    current: Tensor,
    given: Tensor,
    side: Tensor | None,
    floor: Tensor | None,
    seeds: _WindowSeeds,
    draw_options: dict[str, Any],
) -> Tensor:
    """One draw per path of every window, given its ``given`` entries.

    Parameters
    ----------
    current : torch.Tensor of shape (n_windows, n_samples, n_features, length)
        float64; finite where given.
    given : torch.Tensor of bool of shape (n_windows, n_features, length)
    side : torch.Tensor of shape (n_windows, n_side, length) or None
    floor : torch.Tensor of shape (n_windows, n_features) or None
        See ``window_scale_floor`` of :func:`outpaint`.
    seeds : _WindowSeeds
        The windows' start noise and the group's generator.

    Returns
    -------
    torch.Tensor of shape (n_windows, n_samples, n_features, length), float64
    """
    n_windows, n_samples, n_features, length = current.shape
    flat = current.reshape(n_windows * n_samples, n_features, length)
    given = given.repeat_interleave(n_samples, dim=0)
    if side is not None:
        side = side.repeat_interleave(n_samples, dim=0)
    if floor is None:
        flat = torch.where(given, flat, torch.zeros_like(flat))
    else:
        floor = floor.repeat_interleave(n_samples, dim=0)[:, :, None]
        flat, loc, scale = standardise_by_given(flat, given, given, floor)
    condition = Condition(flat, given, side)
    draws = generate(
        model,
        condition,
        1,
        generator=seeds.group_generator(model.device),
        start_noise=seeds.start_noise(n_samples, n_features, length, model),
        **draw_options,
    )[:, 0]
    draws = draws.to(torch.float64)
    if floor is not None:
        draws = draws * scale + loc
    return draws.reshape(current.shape)


def _check_arguments(
    model: DiffusionModel,
    values: Sequence[Tensor],
    rounds: Sequence[OutpaintRound],
    window_length: int,
    n_samples: int,
    fill: Sequence[Tensor] | None,
    side: Sequence[Tensor] | None,
    window_scale_floor: Tensor | None,
) -> None:
    """Raise ``ValueError`` for arguments :func:`outpaint` cannot use."""
    for name, number in (("window_length", window_length), ("n_samples", n_samples)):
        if isinstance(number, bool) or not isinstance(number, Integral) or number < 1:
            raise ValueError(f"outpaint: {name} must be an integer >= 1, got {number!r}")
    if len(values) == 0:
        raise ValueError("outpaint: values needs at least one series")
    lengths = []
    # a channel-independent model takes any number of features, the same for all series
    n_features = model.n_features
    if n_features is None and values[0].dim() == 2:
        n_features = values[0].shape[0]
    for number, series in enumerate(values):
        if series.dim() != 2 or series.shape[0] != n_features:
            raise ValueError(
                f"outpaint: series {number} needs shape ({n_features}, "
                f"n_timepoints) for the model's {n_features} feature(s), got "
                f"{tuple(series.shape)}"
            )
        lengths.append(series.shape[1])
    if fill is not None:
        if [tuple(mask.shape) for mask in fill] != [tuple(s.shape) for s in values]:
            raise ValueError(
                "outpaint: fill needs one mask per series, shaped as its values"
            )
        _check_fill(values, fill)
    if side is not None and [tuple(channels.shape) for channels in side] != [
        (model.n_side, n) for n in lengths
    ]:
        raise ValueError(
            f"outpaint: side needs one tensor of shape ({model.n_side}, n_timepoints) "
            "per series"
        )
    if window_scale_floor is not None and tuple(window_scale_floor.shape) != (
        len(values),
        n_features,
    ):
        raise ValueError(
            f"outpaint: window_scale_floor needs shape ({len(values)}, "
            f"{n_features}) (series, features), got "
            f"{tuple(window_scale_floor.shape)}"
        )
    for round_number, round_ in enumerate(rounds):
        _check_round(round_number, round_, lengths, window_length)


def _check_round(
    round_number: int, round_: OutpaintRound, lengths: list[int], window_length: int
) -> None:
    if round_.steps is not None and round_.steps.step not in (None, 1):
        raise ValueError(
            f"outpaint: round {round_number} has steps {round_.steps}; steps must be a "
            "contiguous slice"
        )
    ends: dict[int, list[tuple[int, int]]] = {}
    for number, start in round_.windows:
        if not 0 <= number < len(lengths):
            raise ValueError(
                f"outpaint: round {round_number} has a window of series {number}, but "
                f"there are {len(lengths)} series"
            )
        if not 0 <= start <= lengths[number] - window_length:
            raise ValueError(
                f"outpaint: round {round_number} has a window at step {start} of series "
                f"{number}, which has {lengths[number]} steps; windows of "
                f"{window_length} steps start at 0 to {lengths[number] - window_length}"
            )
        ends.setdefault(number, []).append((start, start + window_length))
    for number, spans in ends.items():
        spans.sort()
        for (first, end), (second, _) in zip(spans, spans[1:], strict=False):
            if second < end:
                raise ValueError(
                    f"outpaint: round {round_number} has overlapping windows of series "
                    f"{number}, at steps {first} and {second}; windows that overlap "
                    "belong to different rounds"
                )


def _check_fill(values: Sequence[Tensor], fill: Sequence[Tensor]) -> None:
    for number, (series, wanted) in enumerate(zip(values, fill, strict=True)):
        if wanted.dtype != torch.bool:
            raise ValueError(f"outpaint: fill of series {number} must be a bool tensor")
        if bool((~torch.isnan(series) & wanted.to(series.device)).any()):
            raise ValueError(
                f"outpaint: fill of series {number} marks known (not NaN) entries; only "
                "unknown entries can be generated"
            )
