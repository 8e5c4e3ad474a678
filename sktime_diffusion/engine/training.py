"""The fit loop: AdamW, warm-up then cosine learning rate, clipping, EMA, early stopping.

Training is reproducible on CPU: the weights are initialised by the caller under a seed,
and every random draw of the loop (order of windows, masks, times, noise) comes from
generators seeded with named streams of ``TrainingConfig.seed`` (:mod:`.streams`). The
global torch random state of the user is left as it was. A time budget (``max_time``)
ends training early; the number of steps then depends on the machine's speed, so use
``epochs`` alone for bit-identical refits.
"""

from __future__ import annotations

import copy
import dataclasses
import math
import os
import time
from dataclasses import dataclass, field

import torch
from torch import Tensor

from .checkpoints import fingerprint, load_checkpoint, remove_checkpoint, save_checkpoint
from .checks import check_count
from .device import (
    held_on,
    host_waits_to_read,
    keeps_on_device,
    tensor_bytes,
    to_device,
)
from .distributed import (
    agree_any,
    broadcast_seed,
    process_group,
    shard_of,
    sum_over_processes,
)
from .masks import MaskStrategy, draw_given_mask
from .model import DiffusionModel
from .scaling import standardise_by_given
from .series_windows import SeriesWindows
from .streams import stream_seed

__all__ = [
    "WindowData",
    "TrainingConfig",
    "TrainingHistory",
    "train_model",
    "training_budget",
]

#: on a device where reading a value makes the host wait (a GPU), the host checks the
#: training loss for NaN and inf this many steps apart (and before each checkpoint and
#: at the end), and several processes agree on a spent time budget this many steps
#: apart; on the CPU both happen at every step (the loss before the step's update)
HOST_CHECK_EVERY = 50

#: the automatic training budget: this many optimiser steps per training window, at
#: least the first bound and at most the second (the forecaster passes its own steps
#: per window)
STEPS_PER_WINDOW, AUTOMATIC_STEPS_BOUNDS = 6, (300, 1500)


def training_budget(
    n_windows: int,
    training_steps: int | None = None,
    *,
    steps_per_window: float = STEPS_PER_WINDOW,
    long_series_steps_per_window: float = 0.0,
    most_long_series_steps: int = 0,
) -> int:
    """Optimiser steps of a fit: ``training_steps``, or a budget sized to the data.

    The automatic budget is ``steps_per_window`` steps per training window (six unless
    an estimator passes its own), at least 300 and at most 1500: a few dozen windows
    are then not memorised (which makes intervals far too narrow), and long series
    still train in a few minutes on 2 CPU cores. A long-series rule can give more:
    ``long_series_steps_per_window`` steps per window, up to ``most_long_series_steps``,
    wherever that exceeds the usual budget. Every estimator trains for this budget;
    the forecaster passes two steps per window, and only the imputer passes a
    long-series rule (their ``training_steps`` parameters say which).

    Parameters
    ----------
    n_windows : int
        Training windows, >= 1.
    training_steps : int or None
        The estimator's ``training_steps``; when given it is the budget.
    steps_per_window : float
        Steps per window of the usual budget.
    long_series_steps_per_window : float
        Steps per window of the long-series rule (0 gives no long-series rule).
    most_long_series_steps : int
        Largest budget of the long-series rule.

    Returns
    -------
    int

    Examples
    --------
    >>> from sktime_diffusion.engine.training import training_budget
    >>> training_budget(10), training_budget(100), training_budget(100_000)
    (300, 600, 1500)
    >>> training_budget(100, steps_per_window=2), training_budget(400, steps_per_window=2)
    (300, 800)
    >>> training_budget(
    ...     7_000, long_series_steps_per_window=0.3, most_long_series_steps=3000
    ... )
    2100
    """
    if training_steps is not None:
        return int(training_steps)
    fewest, most = AUTOMATIC_STEPS_BOUNDS
    usual = min(max(round(steps_per_window * n_windows), fewest), most)
    long_series = min(
        round(long_series_steps_per_window * n_windows), most_long_series_steps
    )
    return int(max(usual, long_series))


@dataclass
class WindowData:
    """Training windows with their observation masks.

    Parameters
    ----------
    values : torch.Tensor of shape (n_windows, n_features, length)
        Values; entries that are not observed may hold anything (NaN included).
    observed : torch.Tensor of shape (n_windows, n_features, length), bool
    side : torch.Tensor of shape (n_windows, n_side, length) or None
    """

    values: Tensor
    observed: Tensor
    side: Tensor | None = None

    def __post_init__(self) -> None:
        if self.values.dim() != 3:
            raise ValueError(
                "training windows must have shape (n_windows, n_features, length), "
                f"got {tuple(self.values.shape)}"
            )
        if self.observed.shape != self.values.shape or self.observed.dtype != torch.bool:
            raise ValueError("observed must be a bool tensor shaped like the values")
        if self.values.shape[0] < 1:
            raise ValueError("need at least one training window")
        if not torch.isfinite(self.values[self.observed]).all():
            raise ValueError("observed training values must be finite (no inf)")
        if not bool(self.observed.any()):
            raise ValueError("the training windows have no observed value")
        if self.side is not None and (
            self.side.dim() != 3
            or self.side.shape[0] != self.values.shape[0]
            or self.side.shape[2] != self.values.shape[2]
        ):
            raise ValueError(
                "side channels must have shape (n_windows, n_side, length), got "
                f"{tuple(self.side.shape)}"
            )
        self.values = torch.where(self.observed, self.values, torch.zeros_like(self.values))

    def __len__(self) -> int:
        return self.values.shape[0]

    def digest(self) -> str:
        """A hash of the windows (:func:`~.checkpoints.fingerprint`)."""
        return fingerprint(self.values, self.observed, self.side)

    @property
    def nbytes(self) -> int:
        """Bytes held: values, mask and side channels."""
        return tensor_bytes(self.values, self.observed, self.side)

    def to(self, device: torch.device) -> WindowData:
        """The same windows held on ``device`` (:meth:`take` then indexes there)."""
        return held_on(self, ("values", "observed", "side"), device)

    def take(
        self, index: Tensor, device: torch.device
    ) -> tuple[Tensor, Tensor, Tensor | None]:
        """Windows ``index`` on ``device``, as float32 values, mask and side channels."""
        index = to_device(index, self.values.device)
        side = None
        if self.side is not None:
            side = to_device(self.side[index], device, torch.float32)
        return (
            to_device(self.values[index], device, torch.float32),
            to_device(self.observed[index], device),
            side,
        )


@dataclass
class TrainingConfig:
    """Settings of :func:`train_model`.

    Parameters
    ----------
    epochs : int
        Passes over the training windows (an upper bound when ``max_steps`` or
        ``max_time`` is set).
    max_steps : int or None
        Optimiser steps after which training stops; sets the length of the
        learning-rate schedule when given.
    max_time : float or None
        Seconds after which training stops.
    batch_size : int
    learning_rate : float
        Peak learning rate of AdamW.
    time_power : float
        Skew of the diffusion times of the loss: ``u ** time_power`` of uniform ``u``
        (1 is uniform; larger values train more at low noise).
    level_jitter : float
        Standard deviation of a random offset added to every feature of every training
        window (one offset per window and feature, in the units of the data); 0 adds
        none. It teaches the network to fill values relative to the window's own level.
    given_scale_floor : float or None
        None: the windows are trained on as they come. Otherwise each window is
        standardised per feature by its given entries once its mask is drawn, never
        below this scale (in the units of the windows;
        :func:`~sktime_diffusion.engine.scaling.standardise_by_given`): the scaling a
        backbone applies in sampling too, whatever the task's mask.
    weight_decay : float
    warmup_fraction : float
        Share of the steps with a linear warm-up; a cosine decay to 10% follows.
    grad_clip : float or None
        Largest gradient norm.
    ema_decay : float or None
        Decay of the exponential moving average of the weights, used for validation and
        kept at the end; ``None`` keeps the raw weights. The decay at step ``n`` is at
        most ``(1 + n) / (10 + n)`` (a warm-up), so early on the average spans about
        the last tenth of the steps so far: up to 1,500 steps (the estimators'
        largest automatic budget) every decay of 0.995 or more gives the same weights.
    ema_warmup : bool
        Whether the decay has that warm-up. Without it the average starts at the
        model's weights and moves away from them at the full decay: for fine-tuning a
        trained model, whose weights are worth keeping.
    validation_fraction : float
        Share of the windows held out (at least one window is kept for training).
    patience : int or None
        Epochs without a better validation loss before stopping early (needs a
        validation split); ``None`` trains to the end.
    seed : int
        Seeds every random draw of the loop.
    device : torch.device
    verbose : bool
        Shows a tqdm progress bar.
    checkpoint : str, os.PathLike or None
        File the state of the loop is saved to every ``checkpoint_every`` steps
        (:mod:`.checkpoints`); a call that finds it there resumes from it, to the
        weights of a run without a break (on the CPU, bit for bit). It is deleted
        when training ends. None: no checkpoints.
    checkpoint_every : int
        Optimiser steps between two checkpoints.
    """

    epochs: int = 100
    max_steps: int | None = None
    max_time: float | None = None
    batch_size: int = 64
    learning_rate: float = 1e-3
    time_power: float = 1.0
    level_jitter: float = 0.0
    given_scale_floor: float | None = None
    weight_decay: float = 1e-6
    warmup_fraction: float = 0.05
    grad_clip: float | None = 1.0
    ema_decay: float | None = 0.999
    ema_warmup: bool = True
    validation_fraction: float = 0.0
    patience: int | None = None
    seed: int = 0
    device: torch.device = field(default_factory=lambda: torch.device("cpu"))
    verbose: bool = False
    checkpoint: str | os.PathLike | None = None
    checkpoint_every: int = 100

    def __post_init__(self) -> None:
        check_count("epochs", self.epochs)
        check_count("max_steps", self.max_steps, allow_none=True)
        if self.max_time is not None and self.max_time <= 0:
            raise ValueError(f"max_time must be positive seconds, got {self.max_time}")
        check_count("batch_size", self.batch_size)
        if self.learning_rate <= 0:
            raise ValueError(f"learning_rate must be positive, got {self.learning_rate}")
        if not self.time_power > 0:
            raise ValueError(f"time_power must be positive, got {self.time_power}")
        if not 0 <= self.level_jitter < math.inf:
            raise ValueError(
                f"level_jitter must be a finite number >= 0, got {self.level_jitter}"
            )
        if not 0 <= self.validation_fraction < 1:
            raise ValueError(
                f"validation_fraction must be in [0, 1), got {self.validation_fraction}"
            )
        if self.given_scale_floor is not None and not 0 < self.given_scale_floor < math.inf:
            raise ValueError(
                "given_scale_floor must be a positive number or None, got "
                f"{self.given_scale_floor}"
            )
        if self.ema_decay is not None and not 0 < self.ema_decay < 1:
            raise ValueError(f"ema_decay must be in (0, 1), got {self.ema_decay}")
        check_count("patience", self.patience, allow_none=True)
        check_count("checkpoint_every", self.checkpoint_every)


@dataclass
class TrainingHistory:
    """What happened during training.

    Attributes
    ----------
    train_loss : list of float
        Mean training loss per epoch.
    validation_loss : list of float
        Validation loss per epoch (EMA weights, fixed masks and noise); empty without a
        validation split.
    n_steps : int
        Optimiser steps taken.
    seconds : float
        Wall-clock training time.
    stopped_by : str
        ``"epochs"``, ``"max_steps"``, ``"max_time"`` or ``"early_stopping"``.
    best_epoch : int
        Epoch whose weights were kept (the last one without validation).
    """

    train_loss: list[float] = field(default_factory=list)
    validation_loss: list[float] = field(default_factory=list)
    n_steps: int = 0
    seconds: float = 0.0
    stopped_by: str = "epochs"
    best_epoch: int = 0


def _learning_rate_factor(progress: float, warmup_fraction: float) -> float:
    """Linear warm-up to 1, then cosine decay from 1 to 0.1; ``progress`` in [0, 1]."""
    if warmup_fraction > 0 and progress < warmup_fraction:
        return max(progress / warmup_fraction, 1e-3)
    rest = (progress - warmup_fraction) / max(1.0 - warmup_fraction, 1e-12)
    return 0.1 + 0.45 * (1.0 + math.cos(math.pi * min(max(rest, 0.0), 1.0)))


def _split(n_windows: int, fraction: float, generator: torch.Generator):
    order = torch.randperm(n_windows, generator=generator)
    n_validation = min(int(round(fraction * n_windows)), n_windows - 1)
    return order[n_validation:], order[:n_validation]


@torch.no_grad()
def _validation_loss(
    model: DiffusionModel,
    data: WindowData | SeriesWindows,
    index: Tensor,
    masks: MaskStrategy,
    config: TrainingConfig,
) -> float:
    cpu_generator, generator = _generators(
        config.seed, config.device, "validation masks", "validation noise"
    )
    total, count = torch.zeros((), dtype=torch.float64, device=config.device), 0
    for start in range(0, len(index), config.batch_size):
        batch = index[start : start + config.batch_size]
        values, observed, side = data.take(batch, config.device)
        values = _jitter_levels(
            values, observed, config.level_jitter, _on(cpu_generator, generator, values)
        )
        given = draw_given_mask(observed, masks, _on(cpu_generator, generator, observed))
        values = _scaled_by_given(values, observed, given, config.given_scale_floor)
        loss = model.loss(values, observed, given, side, generator, config.time_power)
        total = total + loss.detach().to(torch.float64) * len(batch)
        count += len(batch)
    return float(total) / max(count, 1)


def _jitter_levels(
    values: Tensor, observed: Tensor, scale: float, generator: torch.Generator
) -> Tensor:
    """Add one random offset per window and feature to the observed entries."""
    if scale == 0:
        return values
    offsets = torch.randn((*values.shape[:2], 1), generator=generator, device=values.device)
    return torch.where(observed, values + scale * offsets, values)


def _scaled_by_given(
    values: Tensor, observed: Tensor, given: Tensor, floor: float | None
) -> Tensor:
    """The windows standardised by their given entries, or as they are (floor None)."""
    if floor is None:
        return values
    return standardise_by_given(values, observed, given, floor)[0]


def _generators(
    seed: int,
    device: torch.device,
    cpu_purpose: str = "training order",
    device_purpose: str = "training noise",
) -> tuple[torch.Generator, torch.Generator]:
    """Two named streams: data order and masks on CPU, times and noise on device."""
    cpu_generator = torch.Generator().manual_seed(stream_seed(seed, cpu_purpose))
    device_generator = torch.Generator(device).manual_seed(
        stream_seed(seed, device_purpose)
    )
    return cpu_generator, device_generator


def _on(cpu_generator, device_generator, tensor: Tensor):
    return cpu_generator if tensor.device.type == "cpu" else device_generator


class _FiniteLossWatch:
    """The first step whose training loss was NaN or inf, noted on the loss's device.

    :meth:`note` runs every step without reading anything back to the host;
    :meth:`check` reads (a synchronisation on a GPU) and raises for a noted step.

    Parameters
    ----------
    device : torch.device
    """

    def __init__(self, device: torch.device) -> None:
        self._step = torch.full((), -1, dtype=torch.int64, device=device)
        self._value = torch.zeros((), dtype=torch.float64, device=device)

    def note(self, loss: Tensor, step: int) -> None:
        """Note ``loss`` (a 0-d tensor) of optimiser step ``step`` (counted from 0)."""
        first = ~torch.isfinite(loss) & (self._step < 0)
        self._step = torch.where(first, step, self._step)
        self._value = torch.where(first, loss.to(torch.float64), self._value)

    def check(self) -> None:
        """Raise if a noted loss was not finite.

        Raises
        ------
        FloatingPointError
            Naming the first such step and its loss.
        """
        step = int(self._step)
        if step >= 0:
            raise FloatingPointError(
                f"the training loss became {float(self._value)} at step {step}; "
                "lower learning_rate or check the data scale"
            )


def _settled(losses: list) -> list[float]:
    """``losses`` as floats: entries still on a device are read in one go."""
    waiting = [index for index, value in enumerate(losses) if isinstance(value, Tensor)]
    if not waiting:
        return losses
    read = torch.stack([losses[index] for index in waiting]).tolist()
    settled = list(losses)
    for index, value in zip(waiting, read, strict=True):
        settled[index] = value
    return settled


def train_model(
    model: DiffusionModel,
    data: WindowData | SeriesWindows,
    masks: MaskStrategy,
    config: TrainingConfig,
) -> TrainingHistory:
    """Fit ``model`` in place on ``data`` with random training masks.

    Parameters
    ----------
    model : DiffusionModel
        Moved to ``config.device``.
    data : WindowData or SeriesWindows
        Training windows: copies, or cut per batch from whole series
        (:class:`~sktime_diffusion.engine.series_windows.SeriesWindows`); both have
        ``len``, ``take``, ``nbytes`` and ``to``. On a GPU they are moved there once
        where they fit (:func:`~sktime_diffusion.engine.device.keeps_on_device`).
    masks : MaskStrategy
        How the given entries of each training window are drawn.
    config : TrainingConfig

    Returns
    -------
    TrainingHistory

    Notes
    -----
    With an initialised ``torch.distributed`` process group (:mod:`.distributed`),
    every process must call this with the same data and configuration: the seed of
    rank 0 is used by all, each step runs the network on the process's share of the
    global batch of ``config.batch_size`` windows through
    :class:`~torch.nn.parallel.DistributedDataParallel`, the history holds the losses
    of the whole batches, a time budget ends training on every process at the same
    step, and the weights end identical on every rank. Only rank 0 shows a progress
    bar.

    On a GPU the host does not wait for the device at every step (:mod:`.device`): a
    NaN or inf loss is found up to :data:`HOST_CHECK_EVERY` steps after it happened
    (the error names the step it happened at; ``model``, trained in place, then
    holds non-finite weights, which no checkpoint is written with), and several
    processes agree on a spent time budget that many steps apart. Windows cut on the
    GPU and on the CPU (whether they fit there, :func:`.device.keeps_on_device`) may
    differ in the last bits of their scaling. A checkpoint resumed on another kind of
    device keeps the optimiser setting (fused AdamW on CUDA) of the run that wrote it.
    """
    from tqdm.auto import tqdm

    started = time.perf_counter()
    device = config.device
    model.to(device).train()
    world_size, rank = process_group()
    if world_size > 1:
        config = dataclasses.replace(config, seed=broadcast_seed(config.seed))
    runner = model if world_size == 1 else _data_parallel(model, device)
    cpu_generator, device_generator = _generators(config.seed, device)
    watch = _FiniteLossWatch(device)
    check_every = HOST_CHECK_EVERY if host_waits_to_read(device) else 1
    train_index, validation_index = _split(
        len(data), config.validation_fraction, cpu_generator
    )
    batches_per_epoch = math.ceil(len(train_index) / config.batch_size)
    total_steps = batches_per_epoch * config.epochs
    if config.max_steps is not None:
        total_steps = min(total_steps, config.max_steps)
    optimizer = torch.optim.AdamW(
        model.parameters(),
        lr=config.learning_rate,
        weight_decay=config.weight_decay,
        fused=True if device.type == "cuda" else None,  # one kernel for all weights
    )
    ema = copy.deepcopy(model.state_dict()) if config.ema_decay else None
    history = TrainingHistory()
    best_loss, best_state, epochs_without_gain = math.inf, None, 0
    first_epoch, resumed = 0, None
    run_id = None
    if config.checkpoint is not None:
        run_id = _run_fingerprint(model, data, masks, config)
        resumed = load_checkpoint(config.checkpoint, run_id)
    if keeps_on_device(data.nbytes, device):
        data = data.to(device)  # windows cut on the device, no copy per batch
    if resumed is not None:
        model.load_state_dict(resumed["model"])
        optimizer.load_state_dict(resumed["optimizer"])
        ema = resumed["ema"]
        best_loss, best_state = resumed["best_loss"], resumed["best_state"]
        epochs_without_gain = resumed["epochs_without_gain"]
        history = TrainingHistory(**resumed["history"])
        cpu_generator.set_state(resumed["cpu_generator"])
        device_generator.set_state(resumed["device_generator"])
        first_epoch = resumed["epoch"]
    bar = tqdm(
        total=config.epochs,
        desc="training",
        unit="epoch",
        initial=first_epoch,
        disable=not config.verbose or rank != 0,
    )
    try:
        for epoch in range(first_epoch, config.epochs):
            if resumed is not None:  # the epoch the checkpoint was written in
                order, begin = resumed["order"], resumed["position"]
                epoch_loss, epoch_windows = resumed["epoch_loss"], resumed["epoch_windows"]
                resumed = None
            else:
                order = train_index[
                    torch.randperm(len(train_index), generator=cpu_generator)
                ]
                begin, epoch_loss, epoch_windows = 0, 0.0, 0
            out_of_time = False
            out_of_steps = (
                config.max_steps is not None and history.n_steps >= config.max_steps
            )
            begin = len(order) if out_of_steps else begin
            for start in range(begin, len(order), config.batch_size):
                batch = order[start : start + config.batch_size]
                values, observed, side = data.take(batch, device)
                values = _jitter_levels(
                    values,
                    observed,
                    config.level_jitter,
                    _on(cpu_generator, device_generator, values),
                )
                given = draw_given_mask(
                    observed, masks, _on(cpu_generator, device_generator, observed)
                )
                values = _scaled_by_given(values, observed, given, config.given_scale_floor)
                elapsed = time.perf_counter() - started
                progress = history.n_steps / max(total_steps, 1)
                if config.max_time:
                    progress = max(progress, elapsed / config.max_time)
                factor = _learning_rate_factor(progress, config.warmup_fraction)
                for group in optimizer.param_groups:
                    group["lr"] = config.learning_rate * factor
                shard = None if world_size == 1 else shard_of(len(batch), world_size, rank)
                loss = runner(
                    values,
                    observed,
                    given,
                    side,
                    device_generator,
                    config.time_power,
                    shard=shard,
                )
                batch_loss = sum_over_processes(loss.detach())  # the whole batch's
                watch.note(batch_loss, history.n_steps)
                if history.n_steps % check_every == 0:
                    watch.check()
                # DistributedDataParallel averages the gradients of the processes:
                # scaled by their number, they add up to the whole batch's gradient
                loss = loss * world_size
                optimizer.zero_grad(set_to_none=True)
                loss.backward()
                if config.grad_clip:
                    torch.nn.utils.clip_grad_norm_(model.parameters(), config.grad_clip)
                optimizer.step()
                history.n_steps += 1
                if ema is not None:
                    _update_ema(
                        ema, model, config.ema_decay, history.n_steps, config.ema_warmup
                    )
                epoch_loss = epoch_loss + batch_loss.to(torch.float64) * len(batch)
                epoch_windows += len(batch)
                if run_id is not None and history.n_steps % config.checkpoint_every == 0:
                    watch.check()
                    history.train_loss = _settled(history.train_loss)
                    if rank == 0:
                        save_checkpoint(
                            config.checkpoint,
                            {
                                "fingerprint": run_id,
                                "model": model.state_dict(),
                                "optimizer": optimizer.state_dict(),
                                "ema": ema,
                                "best_loss": best_loss,
                                "best_state": best_state,
                                "epochs_without_gain": epochs_without_gain,
                                "history": dataclasses.asdict(history),
                                "cpu_generator": cpu_generator.get_state(),
                                "device_generator": device_generator.get_state(),
                                "epoch": epoch,
                                "order": order,
                                "position": start + config.batch_size,
                                "epoch_loss": float(epoch_loss),
                                "epoch_windows": epoch_windows,
                            },
                        )
                # several processes agree through a collective that the host waits
                # for: on a GPU every ``check_every`` steps; one process at every step
                if (
                    config.max_time
                    and (world_size == 1 or history.n_steps % check_every == 0)
                    and agree_any(time.perf_counter() - started > config.max_time)
                ):
                    out_of_time = True
                    break
                if config.max_steps is not None and history.n_steps >= config.max_steps:
                    out_of_steps = True
                    break
            history.train_loss.append(epoch_loss / max(epoch_windows, 1))
            if len(validation_index):
                watch.check()
                raw_state = _swap_in(model, ema)
                validation = _validation_loss(model, data, validation_index, masks, config)
                history.validation_loss.append(validation)
                if validation < best_loss:
                    best_loss, epochs_without_gain = validation, 0
                    best_state = copy.deepcopy(model.state_dict())
                    history.best_epoch = epoch
                else:
                    epochs_without_gain += 1
                if raw_state is not None:
                    model.load_state_dict(raw_state)
            else:
                history.best_epoch = epoch
            bar.update(1)
            if not bar.disable:  # reads the loss
                history.train_loss = _settled(history.train_loss)
                bar.set_postfix(loss=f"{history.train_loss[-1]:.4f}")
            if out_of_time or out_of_steps:
                history.stopped_by = "max_time" if out_of_time else "max_steps"
                break
            if config.patience and epochs_without_gain >= config.patience:
                history.stopped_by = "early_stopping"
                break
    finally:
        bar.close()
    watch.check()
    history.train_loss = _settled(history.train_loss)
    if run_id is not None and rank == 0:
        remove_checkpoint(config.checkpoint)
    if best_state is not None:
        model.load_state_dict(best_state)
    elif ema is not None:
        model.load_state_dict(ema)
    model.eval()
    history.seconds = time.perf_counter() - started
    return history


def _run_fingerprint(
    model: DiffusionModel,
    data: WindowData | SeriesWindows,
    masks: MaskStrategy,
    config: TrainingConfig,
) -> str:
    """What a checkpoint must match to be resumed: model, weights, data and settings."""
    settings = dataclasses.asdict(config)
    for transient in ("max_time", "device", "verbose", "checkpoint"):
        settings.pop(transient)
    return fingerprint(
        model.config(),
        *model.state_dict().values(),
        data.digest(),
        repr(masks),
        settings,
    )


def _data_parallel(model: DiffusionModel, device: torch.device) -> torch.nn.Module:
    """``model`` wrapped for data-parallel training on ``device``.

    The wrapper broadcasts rank 0's weights at once, so every process starts alike.
    """
    from torch.nn.parallel import DistributedDataParallel

    if device.type == "cuda":
        index = device.index if device.index is not None else torch.cuda.current_device()
        return DistributedDataParallel(model, device_ids=[index], output_device=index)
    return DistributedDataParallel(model)


def _swap_in(model: DiffusionModel, ema: dict | None) -> dict | None:
    """Load the EMA weights, returning the raw ones to restore (None without EMA)."""
    if ema is None:
        return None
    raw = copy.deepcopy(model.state_dict())
    model.load_state_dict(ema)
    return raw


@torch.no_grad()
def _update_ema(
    ema: dict, model: DiffusionModel, decay: float, step: int, warmup: bool = True
) -> None:
    # warm-up of the decay, as in many EMA implementations: early averages are short
    effective = min(decay, (1.0 + step) / (10.0 + step)) if warmup else decay
    for name, value in model.state_dict().items():
        if value.is_floating_point():
            ema[name].mul_(effective).add_(value.detach(), alpha=1.0 - effective)
        else:
            ema[name].copy_(value)
