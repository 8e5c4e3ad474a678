"""One diffusion model for every task: the backbone, pretrained on many series.

Forecasting, imputation, anomaly detection and generation are one conditional problem
(a mask says which entries are given, the model generates the rest), so one network
serves all four when it is trained on the union of their masks
(:data:`BACKBONE_MASKS`) and sees its inputs scaled by one rule whatever the task:
each series is standardised by all its observed entries, then each window by its
given entries, never below a tenth of the series' spread
(:func:`~sktime_diffusion.engine.scaling.standardise_by_given`). The network is
channel-independent (it sees one feature at a time), so a backbone pretrained on
univariate series serves series of any width.

:class:`DiffusionBackbone` holds that model. ``pretrain`` trains it on a panel and
returns it; the estimators take it as ``backbone=`` and fine-tune a copy, never the
backbone itself, so one pretrained backbone serves many estimators, clones and
``evaluate`` folds. Its weights survive ``clone`` (they are what the object is for):
a clone shares the pretrained model, which nothing changes in place.
"""

from __future__ import annotations

import copy
import functools
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch
from skbase.base import BaseObject

from ._estimator_engine import (
    ENGINE_PARAMETER_NAMES,
    DiffusionEngineMixin,
    derived_seed,
    documents_engine_parameters,
    seed_from,
)
from ._series import check_frame, split_series
from ._windows import MAX_TRAINING_WINDOWS, series_scaling, training_windows
from .engine import DiffusionModel, MaskStrategy, TrainingHistory
from .engine.checks import check_count
from .engine.scaling import BACKBONE_WINDOW_FLOOR
from .engine.series_windows import SeriesWindows
from .networks import CSDINetwork, DilatedConvNetwork

__all__ = [
    "BACKBONE_MASKS",
    "column_series",
    "SHIPPED_BACKBONE",
    "DiffusionBackbone",
    "backbone_windows",
    "resolve_backbone",
    "shipped_backbone",
]

#: the pretrained backbone the package ships (``backbone="pretrained"``), made by
#: ``pretraining/pretrain_backbone.py`` (see the model card in the docs)
SHIPPED_BACKBONE = Path(__file__).parent / "weights" / "backbone.pt"

#: the union of the estimators' training masks, so one network serves every task:
#: random entries and gaps (imputation), another window's missing pattern, forecast
#: suffixes of random length (forecasting), grating slices (anomaly scoring) and
#: nothing given (generation)
BACKBONE_MASKS = MaskStrategy(
    random=0.25,
    block=0.15,
    suffix=0.3,
    historical=0.1,
    grating=0.1,
    unconditional=0.1,
)

#: the estimators' shared parameters a backbone has: all but the sampler's
BACKBONE_PARAMETER_NAMES = tuple(
    name for name in ENGINE_PARAMETER_NAMES if name not in ("sampler", "n_sampling_steps")
)

#: the network specifications a saved backbone may name
_NETWORK_SPECS = {spec.__name__: spec for spec in (CSDINetwork, DilatedConvNetwork)}

#: version of the file :meth:`DiffusionBackbone.save` writes
_FILE_FORMAT = 1


def column_series(frame: pd.DataFrame) -> list[np.ndarray]:
    """Every column of every series of ``frame`` as a univariate series.

    Parameters
    ----------
    frame : pd.DataFrame
        One series or a panel (row MultiIndex, the last level time).

    Returns
    -------
    list of np.ndarray of shape (n_timepoints,)
        Series by series, column by column; NaN where missing.
    """
    return [
        instance.values[:, column]
        for instance in split_series(frame)
        for column in range(frame.shape[1])
    ]


def backbone_windows(
    series: Sequence[np.ndarray],
    window_length: int,
    max_windows: int = MAX_TRAINING_WINDOWS,
    recent: int | None = None,
) -> SeriesWindows | None:
    """Training windows of univariate series, each standardised as a whole first.

    Parameters
    ----------
    series : sequence of np.ndarray of shape (n_timepoints,)
        Values with NaN where missing; series without an observed value are skipped.
    window_length : int
        Length of every window. A series shorter than that gives one window, padded
        with NaN (not observed) at its start, as a short series' forecast context is.
    max_windows : int
        A common stride over all series keeps the count near this bound.
    recent : int or None
        Only the windows that end in the last ``recent`` steps of each series (which
        is still standardised as a whole); None: all.

    Returns
    -------
    SeriesWindows or None
        Windows of one feature, cut per batch (:func:`~sktime_diffusion._windows.
        training_windows`), each with an observed entry; None when no series has one.
    """
    standardised = []
    for values in series:
        values = np.asarray(values, dtype=np.float64).reshape(-1, 1)
        if np.isnan(values).all():
            continue
        scaled = series_scaling(values).apply_to_series(values)  # (1, n_timepoints)
        if scaled.shape[1] < window_length:
            pad = np.full((1, window_length - scaled.shape[1]), np.nan)
            scaled = np.concatenate([pad, scaled], axis=1)
        standardised.append(scaled)
    if not standardised:
        return None
    return training_windows(standardised, window_length, max_windows, recent=recent)


@documents_engine_parameters(
    names=BACKBONE_PARAMETER_NAMES,
    network="""network : NetworkSpec or None, default=None
        Denoising network, with one feature whatever the data (the backbone is
        channel-independent): :class:`~sktime_diffusion.networks.DilatedConvNetwork`
        when None, or :class:`~sktime_diffusion.networks.CSDINetwork`. Its parameters
        are reachable as ``network__<name>``.""",
    training_steps="""training_steps : int, default=2000
        Optimiser steps of ``pretrain`` (batches of ``batch_size`` windows).""",
    learning_rate="""learning_rate : float, default=1e-3
        Peak learning rate of AdamW (warm-up, then cosine decay).""",
    random_state="""random_state : int, RandomState or None, default=None
        Seeds the network's first weights and pretraining: the same value gives the
        same weights on CPU.""",
    verbose="""verbose : bool, default=False
        Show a progress bar for pretraining.""",
)
class DiffusionBackbone(DiffusionEngineMixin, BaseObject):
    """A diffusion model pretrained on many series, shared by all four estimators.

    One channel-independent network, trained on the union of the estimators' masks
    (:data:`BACKBONE_MASKS`) with one scaling rule (each series standardised, then
    each window by its given entries, at least a tenth of the series' spread). Give
    it to an estimator as ``backbone=``: the estimator fine-tunes a copy (or only
    conditions on its data); the backbone itself never changes.

    Parameters
    ----------
    window_length : int, default=128
        Length of the pretraining windows. The networks are convolutions or attention
        over time, so they serve other window lengths too; shorter series are padded
        with missing values at their start.
    baseline : {"seasonal", "seasonal_drift", "interpolation", "none"}, \
default="seasonal"
        What the network generates: its difference from a fill of the given entries
        (:mod:`sktime_diffusion.engine.baselines`), linear interpolation between them
        with the last season repeated after them (seasonal naive, the season read off
        the given entries; the last value where they show none), that plus the given
        entries' mean change per step (``"seasonal_drift"``), or linear
        interpolation alone (the last given value after them), or ``"none"``, the
        values themselves. Every estimator on the backbone inherits it. With the
        seasonal fill the shipped backbone forecasts from its context, which without
        a baseline it did not learn to (``docs/decisions.md``, D29 and D30).
    {engine_parameters}

    Attributes
    ----------
    model_ : sktime_diffusion.engine.DiffusionModel
        The pretrained, channel-independent model (after ``pretrain`` or ``load``).
    training_history_ : sktime_diffusion.engine.TrainingHistory
        Losses of the last pretraining stage.
    n_series_ : int
        Univariate series (columns of instances) the last stage saw.
    n_windows_ : int
        Training windows cut from them.
    n_stages_ : int
        ``pretrain`` calls so far (see Notes of :meth:`pretrain`).
    seed_ : int
        The seed of the first stage, which keys the later stages' seeds.

    Examples
    --------
    >>> from sktime.datasets import load_airline, load_lynx
    >>> from sktime_diffusion import DiffusionBackbone, DiffusionForecaster
    >>> import pandas as pd
    >>> panel = pd.concat(
    ...     {"airline": load_airline().reset_index(drop=True),
    ...      "lynx": load_lynx().reset_index(drop=True)}
    ... ).to_frame("value")
    >>> backbone = DiffusionBackbone(
    ...     window_length=32, training_steps=20, random_state=0
    ... ).pretrain(panel)
    >>> forecaster = DiffusionForecaster(
    ...     backbone=backbone, fine_tune_steps=5, n_samples=10, random_state=0
    ... )
    >>> forecaster.fit(load_airline(), fh=[1, 2, 3])
    DiffusionForecaster(...)
    """

    _tags = {
        "authors": ["sktime-diffusion developers"],
        "maintainers": ["sktime-diffusion developers"],
        "python_dependencies": ["torch"],
    }

    def __init__(
        self,
        window_length: int = 128,
        baseline: str = "seasonal",
        network: Any = None,
        schedule: str = "cosine",
        n_diffusion_steps: int = 50,
        parameterisation: str = "v",
        training_time_power: float = 1.0,
        training_steps: int = 2000,
        max_time: float | None = None,
        checkpoint_dir: str | None = None,
        batch_size: int = 64,
        learning_rate: float = 1e-3,
        validation_fraction: float = 0.0,
        patience: int | None = None,
        device: str = "auto",
        precision: str = "float32",
        random_state: Any = None,
        verbose: bool = False,
    ) -> None:
        self.window_length = window_length
        self.baseline = baseline
        self.network = network
        self.schedule = schedule
        self.n_diffusion_steps = n_diffusion_steps
        self.parameterisation = parameterisation
        self.training_time_power = training_time_power
        self.training_steps = training_steps
        self.max_time = max_time
        self.checkpoint_dir = checkpoint_dir
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.validation_fraction = validation_fraction
        self.patience = patience
        self.device = device
        self.precision = precision
        self.random_state = random_state
        self.verbose = verbose
        super().__init__()

    # ------------------------------------------------------------------ training
    def pretrain(self, y) -> DiffusionBackbone:
        """Train the backbone on every column of every series of ``y``.

        Parameters
        ----------
        y : pd.Series or pd.DataFrame
            One series or a panel (row MultiIndex, the last level time), numeric,
            NaN where missing; each column of each series is one univariate series.

        Returns
        -------
        self
            Pretrained: ``model_`` is a new model (an earlier one is left as it was,
            so estimators holding it are not affected).

        Notes
        -----
        On a pretrained backbone, ``pretrain`` continues from its weights (as sktime's
        ``pretrain`` does), another *stage*: ``training_steps`` more steps with a
        learning-rate warm-up and decay of their own and a seed of the stage's own
        (``"pretraining stage"`` stream). A long pretraining split into stages saved in
        between (:meth:`save`, :meth:`load`) resumes after the last saved stage to the
        same weights as a run without a break.
        """
        owner = type(self).__name__
        self._check_training_parameters()
        check_count("window_length", self.window_length, minimum=2, owner=owner)
        self._check_baseline()
        frame = check_frame(y, owner, "y")
        series = column_series(frame)
        windows = backbone_windows(series, int(self.window_length))
        if windows is None:
            raise ValueError(f"{owner}.pretrain got no observed value in y")
        stage = int(getattr(self, "n_stages_", 0))
        if stage == 0:
            seed = stage_seed = seed_from(self.random_state)
            model = self._build_model(1, 0, seed, self.baseline, channel_independent=True)
        else:
            seed = self.seed_
            stage_seed = derived_seed(seed, "pretraining stage", stage)
            model = copy.deepcopy(self.model_)
        history = self._train(
            model,
            windows,
            BACKBONE_MASKS,
            stage_seed,
            steps=int(self.training_steps),
            given_scale_floor=BACKBONE_WINDOW_FLOOR,
        )
        self.model_ = model
        self.training_history_ = history
        self.n_series_ = sum(not np.isnan(s).all() for s in series)
        self.n_windows_ = len(windows)
        self.n_stages_ = stage + 1
        self.seed_ = seed
        return self

    def check_is_pretrained(self, owner: str | None = None) -> None:
        """Raise ``ValueError`` unless the backbone holds a model (pretrain or load)."""
        if not isinstance(getattr(self, "model_", None), DiffusionModel):
            who = f"{owner}: the backbone" if owner else type(self).__name__
            raise ValueError(
                f"{who} is not pretrained; call DiffusionBackbone.pretrain(y) or "
                "DiffusionBackbone.load(path) first"
            )

    def copy_of_model(self) -> DiffusionModel:
        """A copy of the pretrained model, for an estimator to fine-tune."""
        self.check_is_pretrained()
        return copy.deepcopy(self.model_)

    # --------------------------------------------------------------- persistence
    def save(self, path: str | Path) -> None:
        """Write the parameters and the pretrained weights to ``path`` (torch file).

        ``precision`` is not written: a loaded backbone runs in float32 unless told
        otherwise (``set_params(precision="bfloat16")``).

        Parameters
        ----------
        path : str or pathlib.Path
        """
        self.check_is_pretrained()
        params = self.get_params(deep=False)
        network = params.pop("network")
        random_state = params.pop("random_state")
        params.pop("precision")  # not saved: a choice for the machine that runs it
        state = {k: v.detach().cpu() for k, v in self.model_.state_dict().items()}
        history = self.training_history_
        payload = {
            "format": _FILE_FORMAT,
            "params": params,
            "network": None
            if network is None
            else {"class": type(network).__name__, "params": network.get_params()},
            "random_state": random_state if isinstance(random_state, int) else None,
            "model": {"config": self.model_.config(), "state_dict": state},
            "fitted": {
                "n_series": int(self.n_series_),
                "n_windows": int(self.n_windows_),
                "n_stages": int(self.n_stages_),
                "seed": int(self.seed_),
                "train_loss": [float(v) for v in history.train_loss],
                "n_steps": int(history.n_steps),
                "seconds": float(history.seconds),
            },
        }
        torch.save(payload, Path(path))

    @classmethod
    def load(cls, path: str | Path) -> DiffusionBackbone:
        """Read a backbone written by :meth:`save` (weights on the CPU).

        Parameters
        ----------
        path : str or pathlib.Path

        Returns
        -------
        DiffusionBackbone
            Pretrained, with the saved parameters.
        """
        payload = torch.load(Path(path), map_location="cpu", weights_only=True)
        if not isinstance(payload, dict) or payload.get("format") != _FILE_FORMAT:
            raise ValueError(f"{path} is not a DiffusionBackbone file of this version")
        network = payload["network"]
        if network is not None:
            network = _NETWORK_SPECS[network["class"]](**network["params"])
        backbone = cls(
            **payload["params"], network=network, random_state=payload["random_state"]
        )
        model = DiffusionModel.from_config(payload["model"]["config"])
        model.load_state_dict(payload["model"]["state_dict"])
        backbone.model_ = model.eval()
        fitted = payload["fitted"]
        history = TrainingHistory()
        history.train_loss = list(fitted["train_loss"])
        history.n_steps = fitted["n_steps"]
        history.seconds = fitted["seconds"]
        backbone.training_history_ = history
        backbone.n_series_ = fitted["n_series"]
        backbone.n_windows_ = fitted["n_windows"]
        backbone.n_stages_ = fitted["n_stages"]
        backbone.seed_ = fitted["seed"]
        return backbone

    # -------------------------------------------------------------------- cloning
    #: what a clone keeps (see :mod:`sktime_diffusion._cloning`): the pretrained state
    _kept_on_clone = (
        "model_",
        "training_history_",
        "n_series_",
        "n_windows_",
        "n_stages_",
        "seed_",
    )

    def __sklearn_clone__(self):
        return self.clone()

    # ------------------------------------------------------------------- testing
    @classmethod
    def get_test_params(cls, parameter_set: str = "default") -> list[dict[str, Any]]:
        """A tiny dilated-convolution and a tiny CSDI backbone."""
        return [
            {
                "window_length": 16,
                "network": DilatedConvNetwork(
                    channels=8, n_layers=2, time_embedding_dim=16
                ),
                "training_steps": 5,
                "batch_size": 16,
            },
            {
                "window_length": 8,
                "network": CSDINetwork(
                    channels=8, n_layers=1, n_heads=2, time_embedding_dim=16
                ),
                "baseline": "none",
                "schedule": "quadratic",
                "parameterisation": "epsilon",
                "training_steps": 3,
            },
        ]


@functools.lru_cache(maxsize=1)
def _load_shipped() -> DiffusionBackbone:
    if not SHIPPED_BACKBONE.is_file():
        raise ValueError(
            f"the package's pretrained backbone is missing ({SHIPPED_BACKBONE}); "
            "reinstall sktime-diffusion"
        )
    return DiffusionBackbone.load(SHIPPED_BACKBONE)


def shipped_backbone() -> DiffusionBackbone:
    """The pretrained backbone shipped with the package, read from its own file.

    Returns
    -------
    DiffusionBackbone
        A clone of the one read once per process: it shares the read weights, which
        nothing changes in place, and ``pretrain`` on it leaves the shipped one as it
        is.
    """
    return _load_shipped().clone()


def resolve_backbone(backbone: Any, owner: str) -> DiffusionBackbone | None:
    """An estimator's ``backbone`` parameter as a pretrained backbone, or None.

    Parameters
    ----------
    backbone : None, "pretrained" or DiffusionBackbone
        "pretrained" is :func:`shipped_backbone`; a backbone must be pretrained.
    owner : str
        The estimator's name, for messages.

    Returns
    -------
    DiffusionBackbone or None
    """
    if backbone is None:
        return None
    if isinstance(backbone, str) and backbone == "pretrained":
        return shipped_backbone()
    if not isinstance(backbone, DiffusionBackbone):
        raise ValueError(
            f"{owner}: backbone must be None, 'pretrained' or a DiffusionBackbone, got "
            f"{backbone!r}"
        )
    backbone.check_is_pretrained(owner)
    return backbone
