"""What every estimator does with the engine: build, train and sample one model.

The four estimators share their engine parameters (network, schedule, sampler,
training budget, device, seed, verbosity) and the code that turns those parameters
into engine calls. This module holds both, so the estimators stay thin.
"""

from __future__ import annotations

import contextlib
import math
import os
from collections.abc import Callable, Iterator
from numbers import Integral, Real
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ._cloning import KeepPretrainedState
from .engine import (
    PARAMETERISATIONS,
    SAMPLERS,
    SCHEDULES,
    Condition,
    DiffusionModel,
    MaskStrategy,
    OutpaintRound,
    SeriesWindows,
    TrainingConfig,
    TrainingHistory,
    WindowData,
    check_sampler,
    chunk_size,
    generate,
    make_schedule,
    outpaint,
    resolve_device,
    resolve_sampling_steps,
    sampling_device,
    train_model,
    training_budget,
)
from .engine.baselines import BASELINES
from .engine.checks import check_count
from .engine.precision import check_precision, network_precision
from .engine.scaling import BACKBONE_WINDOW_FLOOR, standardise_by_given
from .engine.streams import seeded_global_generator, stream_seed
from .engine.training import STEPS_PER_WINDOW
from .networks import DilatedConvNetwork, NetworkSpec

__all__ = [
    "DiffusionEngineMixin",
    "ENGINE_PARAMETER_NAMES",
    "SHARED_PARAMETER_PARAGRAPHS",
    "check_number",
    "derived_seed",
    "documents_engine_parameters",
    "engine_parameters_doc",
    "make_condition",
    "member_seeds",
    "seed_from",
    "split_samples",
    "tiny_backbone_configuration",
    "tiny_test_configurations",
]

#: the automatic learning rate: this much per training window, within the bounds below
_RATE_PER_WINDOW, _MIN_AUTO_RATE, _MAX_AUTO_RATE = 1e-6, 1e-3, 1e-2

#: fine-tunes of a trained model (after ``pretrain``, in ``update``) train at this share
#: of the learning rate, with an EMA of this decay that starts at the trained weights
_FINE_TUNE_RATE_SHARE, _FINE_TUNE_EMA_DECAY = 0.1, 0.99

#: the shared parameters of every estimator's ``__init__``, in signature order
ENGINE_PARAMETER_NAMES = (
    "network",
    "schedule",
    "n_diffusion_steps",
    "parameterisation",
    "training_time_power",
    "sampler",
    "n_sampling_steps",
    "training_steps",
    "max_time",
    "checkpoint_dir",
    "batch_size",
    "learning_rate",
    "validation_fraction",
    "patience",
    "device",
    "precision",
    "random_state",
    "verbose",
)

#: each sampler's default steps, as the docstring lists them
_SAMPLER_DEFAULT_STEPS = ", ".join(
    f"{name} {spec.default_steps}" for name, spec in SAMPLERS.items()
)

#: the docstring paragraph of each shared parameter, as every estimator shows it
#: unless it passes its own to :func:`engine_parameters_doc`
SHARED_PARAMETER_PARAGRAPHS = {
    "network": """network : NetworkSpec or None, default=None
        Denoising network: :class:`~sktime_diffusion.networks.DilatedConvNetwork` (cheap,
        long windows; the default when None) or
        :class:`~sktime_diffusion.networks.CSDINetwork` (attention over time and
        features). Its parameters are reachable as ``network__<name>``.""",
    "schedule": (
        """schedule : {"cosine", "linear", "quadratic", "vp", "ve"}, default="cosine"
        Noise schedule of the diffusion."""
    ),
    "n_diffusion_steps": """n_diffusion_steps : int, default=50
        Steps of a discrete schedule (ignored by "vp" and "ve").""",
    "parameterisation": """parameterisation : {"v", "epsilon", "x0"}, default="v"
        What the network predicts.""",
    "training_time_power": """training_time_power : float, default=1.0
        How training spreads over noise levels: the diffusion time of each training
        window is ``u ** training_time_power`` for a uniform ``u``. 1 trains evenly on
        all levels (as DDPM); above 1, more often at low noise, where the detail of
        the generated values is settled next to the given ones.""",
    "sampler": """sampler : {"dpm_solver", "ddim", "ddpm", "heun", "euler_maruyama", \
"predictor_corrector"}, default="dpm_solver"
        Sampler; DPM-Solver++ needs the fewest steps.""",
    "n_sampling_steps": f"""n_sampling_steps : int or None, default=None
        Steps of the sampler. None takes the sampler's own default, the fewest steps
        at which its samples have the right spread (variance within 5%) with an exact
        denoiser on every schedule: {_SAMPLER_DEFAULT_STEPS}. Fewer steps than a
        sampler's measured minimum give a warning.""",
    "training_steps": """training_steps : int or None, default=None
        Optimiser steps of training (batches of ``batch_size`` windows). None sizes the
        budget to the data with
        :func:`~sktime_diffusion.engine.training.training_budget`: six steps per
        training window, at least 300 and at most 1500.""",
    "max_time": """max_time : float or None, default=None
        Seconds after which training stops early. Makes the result depend on the
        machine's speed; leave None for reproducible fits.""",
    "checkpoint_dir": """checkpoint_dir : str, os.PathLike or None, default=None
        Folder where training saves its state every 100 optimiser steps (a file per
        model, :mod:`sktime_diffusion.engine.checkpoints`). A fit that was interrupted
        (Ctrl-C, a killed process) and is called again with the same data and
        parameters resumes from the last save, to the same weights as a fit without
        a break on the CPU; the file is removed when training ends. None: no saves.""",
    "batch_size": """batch_size : int, default=64
        Windows per optimiser step.""",
    "learning_rate": """learning_rate : float or None, default=None
        Peak learning rate of AdamW (warm-up, then cosine decay). None sizes it to the
        data like the training budget: 1e-3 per 1,000 training windows, at least 1e-3
        and at most 1e-2. Few windows are seen hundreds of times in the budget, and a
        high rate memorises them (intervals far too narrow); many windows are seen a
        few times each, and a low rate leaves the network under-trained.""",
    "validation_fraction": """validation_fraction : float, default=0.0
        Share of the training windows held out to pick the best weights.""",
    "patience": """patience : int or None, default=None
        Epochs without a better validation loss before stopping early.""",
    "device": """device : {"auto", "cpu", "cuda", "cuda:N"}, default="auto"
        Where the network trains and samples; "auto" picks CUDA when present.""",
    "precision": """precision : {"float32", "bfloat16"}, default="float32"
        Precision of the network's matrix products and convolutions in training and
        sampling. "bfloat16" runs them under torch's autocast in bfloat16 (weights,
        optimiser and the diffusion's arithmetic stay float32): faster and lighter on
        GPUs with bfloat16 units (NVIDIA from Ampere on; an error on older ones), far
        slower on CPUs without them, and not reproducible to the bit across
        precisions.""",
    "random_state": """random_state : int, RandomState or None, default=None
        Seeds training and sampling: the same value gives identical results on CPU,
        and repeated predictions of one fitted model draw the same samples.""",
    "verbose": """verbose : bool, default=False
        Show progress bars for training and sampling.""",
}


def engine_parameters_doc(
    names: tuple[str, ...] = ENGINE_PARAMETER_NAMES, **own_paragraphs: str
) -> str:
    """The docstring text of the shared parameters of one estimator.

    The paragraphs of :data:`SHARED_PARAMETER_PARAGRAPHS` in signature order, each
    replaced by the estimator's own where it passes one, laid out for the
    ``{engine_parameters}`` slot of a numpydoc ``Parameters`` section (4 spaces).

    Parameters
    ----------
    names : tuple of str
        The shared parameters the object has, in :data:`ENGINE_PARAMETER_NAMES`'
        order (the backbone, which does not sample, has all but the sampler's).
    **own_paragraphs : str
        Parameter name -> the estimator's whole paragraph for it (its
        ``name : type, default=...`` line and its description, indented as the shared
        ones are).

    Returns
    -------
    str
    """
    unknown = sorted(set(own_paragraphs) - set(names))
    if unknown:
        raise ValueError(f"no shared parameter is called {', '.join(unknown)}")
    if [name for name in ENGINE_PARAMETER_NAMES if name in names] != list(names):
        raise ValueError(f"names must be shared parameters in signature order: {names}")
    paragraphs = {**SHARED_PARAMETER_PARAGRAPHS, **own_paragraphs}
    for name, paragraph in paragraphs.items():
        if not paragraph.startswith(f"{name} : "):
            raise ValueError(f"the paragraph of {name} must start with '{name} : '")
    return "\n    ".join(paragraphs[name] for name in names)


def documents_engine_parameters(
    names: tuple[str, ...] = ENGINE_PARAMETER_NAMES, **own_paragraphs: str
):
    """Class decorator: fill the ``{engine_parameters}`` slot of the class docstring.

    The slot gets :func:`engine_parameters_doc` of ``names`` and ``own_paragraphs``,
    once, when the class is created; a class without the slot is refused (under
    ``python -OO``, without docstrings, nothing is done).
    """

    def fill(cls: type) -> type:
        if cls.__doc__ is None:
            return cls
        if "{engine_parameters}" not in cls.__doc__:
            raise ValueError(f"{cls.__name__}'s docstring has no {{engine_parameters}}")
        text = engine_parameters_doc(names, **own_paragraphs)
        cls.__doc__ = cls.__doc__.replace("{engine_parameters}", text)
        return cls

    return fill


def seed_from(random_state: Any) -> int:
    """An integer seed from a scikit-learn style ``random_state``.

    Parameters
    ----------
    random_state : int, np.random.RandomState, np.random.Generator or None
        None draws a fresh seed.

    Returns
    -------
    int in ``[0, 2**31 - 1)``
    """
    if random_state is None:
        return int(np.random.default_rng().integers(0, 2**31 - 1))
    if isinstance(random_state, Integral) and not isinstance(random_state, bool):
        return int(random_state) % (2**31 - 1)
    if isinstance(random_state, np.random.RandomState):
        return int(random_state.randint(0, 2**31 - 1))
    if isinstance(random_state, np.random.Generator):
        return int(random_state.integers(0, 2**31 - 1))
    raise ValueError(
        f"random_state must be an int, a numpy RandomState or Generator, or None; "
        f"got {random_state!r}"
    )


def derived_seed(seed: int, purpose: str, *numbers: int) -> int:
    """An estimator seed (as :func:`seed_from` gives) drawn from a named stream of ``seed``.

    For a further model trained from one ``random_state``: an ensemble member, a
    backbone's pretraining stage, a fold of the detector's threshold.

    Parameters
    ----------
    seed : int
        The estimator's seed.
    purpose : str
        A purpose of :data:`~sktime_diffusion.engine.streams.PURPOSES`.
    *numbers : int
        Which model of that purpose.

    Returns
    -------
    int in ``[0, 2**31 - 1)``
    """
    return stream_seed(seed, purpose, *numbers) % (2**31 - 1)


def member_seeds(seed: int, n_members: int) -> list[int]:
    """Seeds of the members of an ensemble trained from one ``random_state``.

    The first member keeps ``seed`` itself, so an ensemble of one is the single
    model; member ``k`` gets the ``"ensemble member"`` stream ``k`` of it.

    Parameters
    ----------
    seed : int
        The estimator's seed (see :func:`seed_from`).
    n_members : int
        Members of the ensemble, >= 1.

    Returns
    -------
    list of int, each in ``[0, 2**31 - 1)``
    """
    further = [derived_seed(seed, "ensemble member", k) for k in range(1, n_members)]
    return [int(seed), *further]


def split_samples(n_samples: int, n_members: int) -> list[int]:
    """How many of ``n_samples`` draws each ensemble member makes.

    As equal as possible, the first members taking the remainder; members beyond
    ``n_samples`` draw none.

    Parameters
    ----------
    n_samples, n_members : int
        Draws in all and members of the ensemble, both >= 1.

    Returns
    -------
    list of int of length ``n_members``, summing to ``n_samples``
    """
    share, remainder = divmod(int(n_samples), int(n_members))
    return [share + (member < remainder) for member in range(int(n_members))]


def make_condition(
    values: np.ndarray, given: np.ndarray, side: np.ndarray | None = None
) -> Condition:
    """A sampling condition: ``values`` at the ``given`` entries, the rest generated.

    Parameters
    ----------
    values : np.ndarray of shape (n_windows, n_features, length)
        Scaled windows; NaN is allowed where not given.
    given : np.ndarray of bool, same shape
        Entries the model conditions on; must not be NaN in ``values``.
    side : np.ndarray of shape (n_windows, n_side, length) or None

    Returns
    -------
    Condition
    """
    return Condition(
        torch.from_numpy(np.nan_to_num(values)).float(),
        torch.from_numpy(np.ascontiguousarray(given)),
        None if side is None else torch.from_numpy(np.ascontiguousarray(side)).float(),
    )


class DiffusionEngineMixin:
    """Engine plumbing shared by the estimators (mixed into sktime base classes)."""

    #: optimiser steps per training window of the automatic budget
    #: (:func:`~sktime_diffusion.engine.training.training_budget`)
    _steps_per_window: float = STEPS_PER_WINDOW

    # --------------------------------------------------------------------- cloning
    @classmethod
    def _get_clone_plugins(cls):
        """Clones keep a pretrained backbone's weights (:mod:`._cloning`).

        Ahead of the base class's own plugins (sktime's forecasters keep their
        pretrained state with one), which stay in use.
        """
        return [KeepPretrainedState, *(super()._get_clone_plugins() or [])]

    # ------------------------------------------------------------- nested network
    def set_params(self, **params: Any):
        """Set parameters; ``network__<name>`` works with the default network too.

        With ``network=None`` a ``network__<name>`` key first makes the default
        network an explicit parameter (the same network), so grid searches reach
        its parameters without spelling it out.
        """
        self._make_default_network_explicit(params)
        return super().set_params(**params)

    def _set_params_at(self, state: str, params: dict[str, Any]):
        """Sktime's state-aware ``set_params`` (used on pretrained forecasters)."""
        self._make_default_network_explicit(params)
        parent = getattr(super(), "_set_params_at", None)
        if parent is None:
            return super().set_params(**params)
        return parent(state, params)

    def _make_default_network_explicit(self, params: dict[str, Any]) -> None:
        nested = any(key.startswith("network__") for key in params)
        if nested and self.network is None and "network" not in params:
            self.network = DilatedConvNetwork()

    # ------------------------------------------------------------- parameter checks
    def _check_engine_parameters(self) -> None:
        """Raise ``ValueError`` naming the first bad engine parameter."""
        self._check_training_parameters()
        owner = type(self).__name__
        _check_choice(owner, "sampler", self.sampler, tuple(SAMPLERS))
        if self.n_sampling_steps is not None:
            check_count("n_sampling_steps", self.n_sampling_steps, owner=owner)
        resolve_sampling_steps(self.sampler, self.n_sampling_steps)  # warns if too few

    def _check_baseline(self) -> None:
        """Raise ``ValueError`` unless ``baseline`` names one of the engine's fills."""
        _check_choice(type(self).__name__, "baseline", self.baseline, BASELINES)

    def _check_training_parameters(self) -> None:
        """Raise ``ValueError`` naming the first bad parameter of the model or training."""
        owner = type(self).__name__
        network = self.network
        if network is not None and not isinstance(network, NetworkSpec):
            raise ValueError(
                f"{owner}: network must be a CSDINetwork, a DilatedConvNetwork or None, "
                f"got {network!r}"
            )
        _check_choice(owner, "schedule", self.schedule, SCHEDULES)
        _check_choice(owner, "parameterisation", self.parameterisation, PARAMETERISATIONS)
        check_count("n_diffusion_steps", self.n_diffusion_steps, minimum=2, owner=owner)
        check_number(
            owner,
            "training_time_power",
            self.training_time_power,
            lambda power: 0 < power <= 10,
            "a number in (0, 10]",
        )
        if self.training_steps is not None:
            check_count("training_steps", self.training_steps, owner=owner)
        check_count("batch_size", self.batch_size, owner=owner)
        if self.max_time is not None and not (
            isinstance(self.max_time, Real) and self.max_time > 0
        ):
            raise ValueError(f"{owner}: max_time must be positive seconds or None")
        if self.checkpoint_dir is not None and not isinstance(
            self.checkpoint_dir, str | os.PathLike
        ):
            raise ValueError(
                f"{owner}: checkpoint_dir must be a folder path or None, got "
                f"{type(self.checkpoint_dir).__name__}"
            )
        if self.learning_rate is not None and not (
            isinstance(self.learning_rate, Real) and self.learning_rate > 0
        ):
            raise ValueError(f"{owner}: learning_rate must be positive or None")
        if not 0 <= self.validation_fraction < 1:
            raise ValueError(f"{owner}: validation_fraction must be in [0, 1)")
        if self.patience is not None:
            check_count("patience", self.patience, owner=owner)
        check_precision(self.precision, resolve_device(self.device), owner)

    def _check_backbone(self) -> None:
        """``backbone`` must be None, "pretrained" or a pretrained backbone."""
        self._backbone()

    def _backbone(self):
        """The pretrained ``DiffusionBackbone`` that ``backbone`` names, or None."""
        from .backbone import resolve_backbone

        return resolve_backbone(self.backbone, type(self).__name__)

    def _check_window_length(self) -> None:
        """``window_length`` must be None or an integer >= 2 (windowed estimators)."""
        check_count(
            "window_length",
            self.window_length,
            minimum=2,
            allow_none=True,
            owner=type(self).__name__,
        )

    def _check_n_samples(self, n_samples: Any, name: str = "n_samples") -> int:
        return check_count(name, n_samples, owner=type(self).__name__)

    # ------------------------------------------------------------------- building
    def _network_spec(self) -> NetworkSpec:
        return self.network if self.network is not None else DilatedConvNetwork()

    def _build_model(
        self,
        n_features: int,
        n_side: int,
        seed: int,
        baseline: str = "none",
        channel_independent: bool = False,
    ) -> DiffusionModel:
        """A fresh model whose weights depend on ``seed`` only.

        ``baseline`` and ``channel_independent`` are
        :class:`~sktime_diffusion.engine.DiffusionModel`'s (a channel-independent
        model's network has one feature, whatever ``n_features`` says).
        """
        schedule_params = (
            {"n_steps": int(self.n_diffusion_steps)}
            if self.schedule in ("linear", "quadratic", "cosine")
            else {}
        )
        schedule = make_schedule(self.schedule, **schedule_params)
        network_features = 1 if channel_independent else n_features
        config = self._network_spec().network_config(network_features, n_side)
        with seeded_global_generator(stream_seed(seed, "network weights")):
            model = DiffusionModel(
                config, schedule, self.parameterisation, baseline, channel_independent
            )
        return model

    # ------------------------------------------------------------------- training
    def _trained_model(
        self,
        n_features: int,
        data: WindowData | SeriesWindows,
        masks: MaskStrategy,
        seed: int,
        *,
        baseline: str = "none",
        steps: int | None = None,
        level_jitter: float = 0.0,
        time_share: float = 1.0,
    ) -> tuple[DiffusionModel, TrainingHistory | None]:
        """A model trained from nothing on ``data``, or a fine-tuned copy of the backbone.

        Without a backbone: :meth:`_build_model` trained by :meth:`_train` for
        ``steps`` (None: the automatic budget). With one: a copy of its model,
        fine-tuned for ``fine_tune_steps`` in its units, or only conditioning (no
        training, history None) when that is 0; ``baseline`` and ``steps`` are then
        the backbone's and unused.

        Returns
        -------
        model : DiffusionModel
        history : TrainingHistory or None
        """
        backbone = self._backbone()
        if backbone is None:
            model = self._build_model(n_features, 0, seed, baseline)
            history = self._train(
                model,
                data,
                masks,
                seed,
                steps=steps,
                level_jitter=level_jitter,
                time_share=time_share,
            )
            return model, history
        model = backbone.copy_of_model()
        if int(self.fine_tune_steps) == 0:
            return model, None
        history = self._train(
            model,
            data,
            masks,
            seed,
            steps=int(self.fine_tune_steps),
            level_jitter=level_jitter,
            time_share=time_share,
            fine_tune=True,
            given_scale_floor=BACKBONE_WINDOW_FLOOR,
        )
        return model, history

    def _learning_rate(self, n_windows: int) -> float:
        """``learning_rate``, or 1e-6 per training window within [1e-3, 1e-2]."""
        if self.learning_rate is not None:
            return float(self.learning_rate)
        return float(min(max(_RATE_PER_WINDOW * n_windows, _MIN_AUTO_RATE), _MAX_AUTO_RATE))

    def _train(
        self,
        model: DiffusionModel,
        data: WindowData | SeriesWindows,
        masks: MaskStrategy,
        seed: int,
        steps: int | None = None,
        level_jitter: float = 0.0,
        time_share: float = 1.0,
        fine_tune: bool = False,
        given_scale_floor: float | None = None,
    ) -> TrainingHistory:
        """Train ``model`` in place for ``steps`` optimiser steps.

        ``steps`` None means :func:`~sktime_diffusion.engine.training.training_budget`
        of the windows and ``training_steps``, at the estimator's
        ``_steps_per_window``, without a long-series rule.
        ``level_jitter`` is :class:`~sktime_diffusion.engine.TrainingConfig`'s: the
        standard deviation of a random level offset per training window and feature.
        ``time_share`` is the part of ``max_time`` this model may use (an ensemble
        of ``n`` models gives each ``1 / n``). ``fine_tune`` continues training a
        trained model without forgetting it: a tenth of the learning rate, and an
        EMA of decay 0.99 without warm-up, so the average starts at the trained
        weights instead of following the first fine-tuning steps.
        ``given_scale_floor`` is :class:`~sktime_diffusion.engine.TrainingConfig`'s:
        None trains on the windows as they come, a number standardises each window
        by its given entries once its mask is drawn (a backbone's scaling).
        """
        if steps is None:
            steps = training_budget(
                len(data), self.training_steps, steps_per_window=self._steps_per_window
            )
        steps = int(steps)
        batch_size = min(int(self.batch_size), len(data))
        n_train = max(1, len(data) - int(round(self.validation_fraction * len(data))))
        batches_per_epoch = math.ceil(n_train / batch_size)
        config = TrainingConfig(
            epochs=max(1, math.ceil(steps / batches_per_epoch)),
            max_steps=steps,
            max_time=None if self.max_time is None else self.max_time * time_share,
            batch_size=batch_size,
            learning_rate=self._learning_rate(len(data))
            * (_FINE_TUNE_RATE_SHARE if fine_tune else 1.0),
            ema_decay=_FINE_TUNE_EMA_DECAY if fine_tune else TrainingConfig.ema_decay,
            ema_warmup=not fine_tune,
            time_power=float(self.training_time_power),
            level_jitter=float(level_jitter),
            given_scale_floor=given_scale_floor,
            validation_fraction=float(self.validation_fraction) if len(data) > 1 else 0.0,
            patience=self.patience,
            seed=seed,
            device=resolve_device(self.device),
            verbose=bool(self.verbose),
            checkpoint=self._checkpoint_path(seed),
        )
        with (
            seeded_global_generator(stream_seed(seed, "training global")),
            network_precision(self.precision),
        ):
            return train_model(model, data, masks, config)

    def _checkpoint_path(self, seed: int) -> Path | None:
        """The estimator's checkpoint file for the model trained from ``seed``."""
        if self.checkpoint_dir is None:
            return None
        return Path(self.checkpoint_dir) / f"{type(self).__name__}-{seed}.pt"

    # ------------------------------------------------------------------- sampling
    def _draw(
        self,
        model: DiffusionModel,
        condition: Condition,
        n_samples: int,
        seed: int,
        window_scale_floor: float | None = None,
    ) -> np.ndarray:
        """Sample ``n_samples`` per window; float64 array on the CPU.

        ``window_scale_floor`` None samples in the units of ``condition``; a number
        standardises each window per feature by its given entries, at least this
        scale, and scales the draws back (a backbone's units, as in
        :func:`~sktime_diffusion.engine.outpainting.outpaint`).

        Returns
        -------
        np.ndarray of shape (n_windows, n_samples, n_features, length)
        """
        device = sampling_device(self.device)
        model.to(device)
        loc = scale = None
        if window_scale_floor is not None:
            given = condition.given
            standardised, loc, scale = standardise_by_given(
                condition.values, given, given, window_scale_floor
            )
            condition = Condition(standardised, given, condition.side)
        generator = torch.Generator(device).manual_seed(seed)
        n_windows, n_features, length = condition.shape
        n_windows *= n_samples
        chunk = chunk_size(n_windows, n_features * length, device, "auto")
        n_steps = check_sampler(self.sampler, self.n_sampling_steps)  # warned at fit
        with (
            self._sampling_progress(n_steps * math.ceil(n_windows / chunk)) as progress,
            network_precision(self.precision),
        ):
            samples = generate(
                model,
                condition,
                n_samples,
                sampler=self.sampler,
                n_steps=n_steps,
                generator=generator,
                progress=progress,
            )
        samples = samples.detach().to("cpu", torch.float64)
        if loc is not None:
            samples = samples * scale[:, None].double() + loc[:, None].double()
        return samples.numpy()

    def _outpaint(
        self,
        model: DiffusionModel,
        values: list[np.ndarray],
        rounds: list[OutpaintRound],
        window_length: int,
        n_samples: int,
        *,
        fill: list[np.ndarray] | None = None,
        side: list[np.ndarray] | None = None,
        window_scale_floor: np.ndarray | None = None,
        origins: list[tuple[int, int]] | None = None,
        progress: Callable | None = None,
    ) -> list[np.ndarray]:
        """Outpaint with this estimator's sampler, device and progress bar.

        :func:`~sktime_diffusion.engine.outpainting.outpaint` on arrays: the arguments
        go to the sampling device once, the paths come back as float64 on the CPU.
        ``progress``: the ``update`` of a bar the caller holds (one bar over several
        calls); None opens a bar of this call when ``verbose``.

        Returns
        -------
        list of np.ndarray of shape (n_samples, n_features, n_timepoints)
        """
        device = sampling_device(self.device)
        model.to(device)

        def on_device(arrays: list[np.ndarray] | None) -> list[torch.Tensor] | None:
            if arrays is None:
                return None
            return [torch.as_tensor(array, device=device) for array in arrays]

        if window_scale_floor is not None:
            window_scale_floor = torch.as_tensor(window_scale_floor, device=device)
        n_steps = check_sampler(self.sampler, self.n_sampling_steps)  # warned at fit
        bar = contextlib.nullcontext(progress)
        if progress is None:
            bar = self._sampling_progress(None)
        with bar as progress, network_precision(self.precision):
            paths = outpaint(
                model,
                on_device(values),
                rounds,
                window_length,
                n_samples,
                fill=on_device(fill),
                side=on_device(side),
                window_scale_floor=window_scale_floor,
                origins=origins,
                sampler=self.sampler,
                n_steps=n_steps,
                progress=progress,
            )
        return [path.to("cpu").numpy() for path in paths]

    @contextlib.contextmanager
    def _sampling_progress(self, total: int | None) -> Iterator[Callable | None]:
        """A "sampling" progress bar of ``total`` grid steps when ``verbose``.

        ``total`` None: not known ahead. Yields the bar's ``update``, or None when
        not verbose.
        """
        from tqdm.auto import tqdm

        with tqdm(
            total=total, desc="sampling", unit="step", disable=not self.verbose
        ) as bar:
            yield bar.update if self.verbose else None


def tiny_test_configurations() -> list[dict[str, Any]]:
    """The engine part of every estimator's two ``get_test_params`` configurations.

    A tiny dilated-convolution network with the defaults, and a tiny CSDI network with
    the quadratic schedule, DDIM, epsilon parameterisation and training times skewed
    to low noise; both train for 5 steps and sample with 3, so sktime's conformance
    suite runs in seconds.
    """
    from .networks import CSDINetwork, DilatedConvNetwork

    return [
        {
            "network": DilatedConvNetwork(channels=8, n_layers=2, time_embedding_dim=16),
            "training_steps": 5,
            "n_sampling_steps": 3,
            "batch_size": 16,
        },
        {
            "network": CSDINetwork(
                channels=8, n_layers=1, n_heads=2, time_embedding_dim=16
            ),
            "schedule": "quadratic",
            "sampler": "ddim",
            "parameterisation": "epsilon",
            "training_time_power": 2.0,
            "training_steps": 5,
            "n_sampling_steps": 3,
        },
    ]


def tiny_backbone_configuration() -> dict[str, Any]:
    """The engine part of a ``get_test_params`` configuration on the shipped backbone.

    Two fine-tuning steps and three sampling steps: sktime's conformance suite runs
    the ``backbone="pretrained"`` path (loading the package's own file) in seconds.
    """
    return {
        "backbone": "pretrained",
        "fine_tune_steps": 2,
        "n_sampling_steps": 3,
        "batch_size": 16,
    }


def _check_choice(owner: str, name: str, value: Any, choices: tuple[str, ...]) -> None:
    if value not in choices:
        raise ValueError(
            f"{owner}: {name} must be one of {', '.join(map(repr, choices))}, got {value!r}"
        )


def check_number(
    owner: str, name: str, value: Any, allowed: Callable[[Real], bool], what: str
) -> None:
    """Raise ``ValueError`` unless ``value`` is a real number that ``allowed`` accepts.

    Booleans are refused; the message names ``name`` and says it ``must be {what}``.
    """
    if isinstance(value, bool) or not isinstance(value, Real) or not allowed(value):
        raise ValueError(f"{owner}: {name} must be {what}, got {value!r}")
