"""DiffusionForecaster: probabilistic forecasts from diffusion sample paths."""

from __future__ import annotations

import copy
import math
from typing import Any

import numpy as np
import pandas as pd
from sktime.forecasting.base import BaseForecaster, ForecastingHorizon

from ._estimator_engine import (
    DiffusionEngineMixin,
    documents_engine_parameters,
    seed_from,
    tiny_test_configurations,
)
from ._sample_cache import new_sampling_state, remembered
from ._series import (
    InstanceSeries,
    check_columns,
    check_frame,
    split_series,
    time_frequency,
)
from ._windows import (
    scale_floor,
    seasonal_period,
    series_scaling,
    training_windows,
)
from .backbone import DiffusionBackbone, backbone_windows, column_series
from .engine import DiffusionModel, MaskStrategy, OutpaintRound
from .engine.checks import check_count
from .engine.scaling import BACKBONE_WINDOW_FLOOR
from .engine.series_windows import SeriesWindows
from .engine.streams import stream_seed
from .samples import SamplePaths

__all__ = ["DiffusionForecaster"]

#: fewest training windows the automatic context length leaves
_MIN_WINDOWS = 32
#: the forecaster's automatic budget: optimiser steps per training window (D32)
FORECASTER_STEPS_PER_WINDOW = 2

_TRAINING_STEPS_PARAGRAPH = f"""training_steps : int or None, default=None
        Optimiser steps of training (batches of ``batch_size`` windows). None sizes the
        budget to the data with
        :func:`~sktime_diffusion.engine.training.training_budget`:
        {FORECASTER_STEPS_PER_WINDOW} steps per training window, at least 300 and at
        most 1500 (the other estimators train six per window; on short series more
        steps made intervals narrower and forecasts worse, ``docs/decisions.md``,
        D32)."""


@documents_engine_parameters(training_steps=_TRAINING_STEPS_PARAGRAPH)
class DiffusionForecaster(DiffusionEngineMixin, BaseForecaster):
    """Probabilistic forecaster drawing sample paths from a conditional diffusion model.

    A window of ``context_length + horizon`` steps is cut from the series; the model is
    shown the context (and exogenous ``X`` over the whole window, as side channels) and
    generates the horizon. Each window is scaled by the mean and standard deviation of
    its own context, so the model learns shapes, not levels, and one model serves every
    series of a panel. Training also hides random entries, so missing values in ``y``
    are simply not given.

    Sample paths are the primary output: :meth:`predict_samples` returns them, and
    ``predict`` (median or mean), ``predict_quantiles``, ``predict_interval``,
    ``predict_var`` and ``predict_proba`` (skpro ``Empirical`` over whole paths) are
    computed from the same paths. Every call of one fitted state draws the same paths
    (the seed is fixed at ``fit``), so all of them agree with each other; the paths of
    one call are reused by the next call with the same ``fh`` and ``X``, so asking
    for several outputs samples once.

    Horizons longer than the trained ``horizon`` are forecast autoregressively: each
    path's generated block becomes the context of its next block, so paths stay
    coherent (set ``autoregressive=False`` to get an error instead).

    Parameters
    ----------
    context_length : int or None, default=None
        Steps of history the model is shown. None: four seasonal periods (from the
        index frequency) or four horizons, whichever is longer, shortened so that the
        shortest series still gives 32 training windows.
    horizon : int or None, default=None
        Steps generated at once. None: the largest step of ``fh`` in ``fit``, or 12
        (fewer for very short series) when ``fh`` is first given in ``predict``.
    n_samples : int, default=100
        Sample paths per series and forecast.
    point_estimate : {"median", "mean"}, default="median"
        What ``predict`` returns.
    autoregressive : bool, default=True
        Whether horizons beyond ``horizon`` continue block by block.
    baseline : {"seasonal", "seasonal_drift", "interpolation", "none"}, \
default="seasonal"
        What the network generates: the difference of the values from a fill of the
        context (:mod:`sktime_diffusion.engine.baselines`), its last season repeated
        (``"seasonal"``: seasonal naive, the season read off the context, naive when
        it has none), that plus the context's mean change per step
        (``"seasonal_drift"``: seasonal naive with drift) or its last value
        (``"interpolation"``: naive), or the values themselves (``"none"``). Against
        ``"none"`` the seasonal fill lowered the geometric-mean relative CRPS of the
        forecasting suite by 11% on 24 short series and by 4% on 8 long ones
        (``docs/decisions.md``, D30 and D31). With a backbone, the backbone's.
    fine_tune_steps : int, default=200
        Optimiser steps on the series of ``fit`` after ``pretrain``, and on the
        windows that end in the new data (at least 32) in
        ``update(update_params=True)``; 0 only conditions on the new data. Fine-tunes
        train a copy of the pretrained network at a tenth of the learning rate, with
        an average of the weights that starts at the pretrained ones; a series too
        short for one window of ``context_length + horizon`` steps is only
        conditioned on.
    backbone : None, "pretrained" or DiffusionBackbone, default=None
        A pretrained :class:`~sktime_diffusion.DiffusionBackbone`, or "pretrained"
        for the one the package ships (its model card is in the docs): ``fit`` fine-tunes
        a copy of its model for ``fine_tune_steps`` (0 only conditions on the data)
        instead of training a network from nothing, and the backbone never changes.
        Its network sees one variable at a time, so it serves any number of columns;
        it takes no exogenous ``X``. A series shorter than ``context_length +
        horizon`` steps is fine-tuned on and forecast with its context padded as
        missing. With a backbone, ``baseline``, ``network``, ``schedule``,
        ``n_diffusion_steps`` and ``parameterisation`` are the backbone's, and
        ``training_steps`` is unused.
    {engine_parameters}

    Attributes
    ----------
    model_ : sktime_diffusion.engine.DiffusionModel
        The network that forecasts, with its schedule: trained by ``fit``, or the
        fine-tuned copy of ``pretrained_model_``.
    pretrained_model_ : sktime_diffusion.engine.DiffusionModel
        Only after ``pretrain``: the network it trained. ``fit`` and ``update`` never
        change it, so every refit, clone and ``evaluate`` fold starts from it.
    context_length_, horizon_ : int
        Window sizes in use.
    training_history_ : sktime_diffusion.engine.TrainingHistory
        Losses of the last training (pretraining, fitting or fine-tuning).

    See Also
    --------
    sktime_diffusion.networks.DilatedConvNetwork, sktime_diffusion.networks.CSDINetwork

    Examples
    --------
    >>> from sktime.datasets import load_airline
    >>> from sktime_diffusion import DiffusionForecaster
    >>> y = load_airline()
    >>> forecaster = DiffusionForecaster(training_steps=50, n_samples=20, random_state=0)
    >>> forecaster.fit(y, fh=[1, 2, 3])
    DiffusionForecaster(...)
    >>> intervals = forecaster.predict_interval(coverage=0.9)
    >>> intervals.shape
    (3, 2)
    """

    _steps_per_window = FORECASTER_STEPS_PER_WINDOW

    _tags = {
        "authors": ["sktime-diffusion developers"],
        "maintainers": ["sktime-diffusion developers"],
        "python_dependencies": ["torch"],
        "y_inner_mtype": ["pd.DataFrame", "pd-multiindex", "pd_multiindex_hier"],
        "X_inner_mtype": ["pd.DataFrame", "pd-multiindex", "pd_multiindex_hier"],
        "capability:multivariate": True,
        "capability:exogenous": True,
        "capability:insample": False,
        "capability:pred_int": True,
        "capability:pred_int:insample": False,
        "capability:missing_values": True,
        "capability:pretrain": True,
        "capability:update": True,
        "capability:random_state": True,
        "capability:categorical_in_X": False,
        "property:randomness": "derandomized",
        "requires-fh-in-fit": False,
        "X-y-must-have-same-index": True,
        # what pretrain learns and every later fit starts from (sktime restores these
        # on each refit); fit fine-tunes a copy of pretrained_model_ as model_
        "pretrain:fitted_params": [
            "pretrained_model_",
            "seed_",
            "context_length_",
            "horizon_",
            "x_loc_",
            "x_scale_",
        ],
    }
    _config = {"remember_data": False}

    def __init__(
        self,
        context_length: int | None = None,
        horizon: int | None = None,
        n_samples: int = 100,
        point_estimate: str = "median",
        autoregressive: bool = True,
        baseline: str = "seasonal",
        fine_tune_steps: int = 200,
        backbone: DiffusionBackbone | None = None,
        network: Any = None,
        schedule: str = "cosine",
        n_diffusion_steps: int = 50,
        parameterisation: str = "v",
        training_time_power: float = 1.0,
        sampler: str = "dpm_solver",
        n_sampling_steps: int | None = None,
        training_steps: int | None = None,
        max_time: float | None = None,
        checkpoint_dir: str | None = None,
        batch_size: int = 64,
        learning_rate: float | None = None,
        validation_fraction: float = 0.0,
        patience: int | None = None,
        device: str = "auto",
        precision: str = "float32",
        random_state: Any = None,
        verbose: bool = False,
    ) -> None:
        self.context_length = context_length
        self.horizon = horizon
        self.n_samples = n_samples
        self.point_estimate = point_estimate
        self.autoregressive = autoregressive
        self.baseline = baseline
        self.fine_tune_steps = fine_tune_steps
        self.backbone = backbone
        self.network = network
        self.schedule = schedule
        self.n_diffusion_steps = n_diffusion_steps
        self.parameterisation = parameterisation
        self.training_time_power = training_time_power
        self.sampler = sampler
        self.n_sampling_steps = n_sampling_steps
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
        # sktime keeps data in _y / _X only when remember_data is set; we keep our own
        # history, but the attributes exist for users who turn the config on
        self._y = None
        self._X = None

    # ================================================================== training
    def _check_parameters(self) -> None:
        self._check_engine_parameters()
        owner = type(self).__name__
        self._check_n_samples(self.n_samples)
        for name in ("context_length", "horizon"):
            check_count(name, getattr(self, name), allow_none=True, owner=owner)
        if self.point_estimate not in ("median", "mean"):
            raise ValueError(f"{owner}: point_estimate must be 'median' or 'mean'")
        check_count("fine_tune_steps", self.fine_tune_steps, minimum=0, owner=owner)
        self._check_baseline()
        self._check_backbone()

    def _pretrain(self, y, X=None, fh=None):
        """Train the global network on a panel; it stays as ``pretrained_model_``."""
        self._check_parameters()
        if self.backbone is not None:
            raise ValueError(
                f"{type(self).__name__}: pretrain trains a network of its own; with a "
                "backbone, pretrain the DiffusionBackbone on the panel instead"
            )
        frame, x_frame = self._checked_data(y, X)
        self.pretrained_model_ = self._train_from_scratch(frame, x_frame, fh)
        return self

    def _pretrain_update(self, y, X=None, fh=None):
        """Continue pretraining on more panel data."""
        self._check_compatible(y, X, self.pretrained_model_)
        data = self._windows_of(*self._checked_data(y, X))
        self.training_history_ = self._train(
            self.pretrained_model_, data, self._mask_strategy(), self.seed_
        )
        return self

    def _fit(self, y, X=None, fh=None):
        """Train on ``y``, or fine-tune a copy of the pretrained network on it."""
        self._check_parameters()
        frame, x_frame = self._checked_data(y, X)
        if hasattr(self, "pretrained_model_"):
            self._check_compatible(frame, x_frame, self.pretrained_model_)
            self.model_ = copy.deepcopy(self.pretrained_model_)
            self._fine_tune(frame, x_frame, recent=None)
        elif self.backbone is not None:
            self.model_ = self._fit_from_backbone(frame, x_frame, fh)
        else:
            self.model_ = self._train_from_scratch(frame, x_frame, fh)
        self._history_y = frame.copy()
        self._history_X = x_frame
        self._sampling_state_ = new_sampling_state()
        return self

    def _update(self, y, X=None, update_params=True):
        """Extend the history; with ``update_params`` also fine-tune on recent windows.

        The fine-tune sees the windows that end in the new data (at least 32 over
        all series), so its cost does not grow with the history.
        """
        owner = type(self).__name__
        if self.model_.n_side and X is None:
            raise ValueError(
                f"{owner} was fitted with exogenous X; pass the X of the new time "
                "points to update as well"
            )
        self._check_compatible(y, X, self.model_)
        new = check_frame(y, owner, "y")
        self._history_y = _append(self._history_y, new)
        if X is not None:
            self._history_X = _append(self._history_X, _frame(X).reindex(new.index))
            self._history_X = self._history_X.reindex(self._history_y.index)
        if update_params:
            new_instances = split_series(new)
            most_new = max(len(instance.values) for instance in new_instances)
            n_series = len(split_series(self._history_y))
            recent = max(most_new, math.ceil(_MIN_WINDOWS / n_series))
            # the history with the new data must still be one regular series per key
            history = check_frame(
                self._history_y, owner, "y", require_observed=True, regular=True
            )
            self._fine_tune(history, self._history_X, recent=recent)
        self._sampling_state_ = new_sampling_state()
        return self

    def _checked_data(self, y, X) -> tuple[pd.DataFrame, pd.DataFrame | None]:
        """``y`` checked for training, and ``X`` checked and aligned with its rows."""
        owner = type(self).__name__
        frame = check_frame(y, owner, "y", require_observed=True, regular=True)
        if X is None:
            return frame, None
        return frame, check_frame(X, owner, "X").reindex(frame.index)

    def _check_compatible(self, y, X, model: DiffusionModel) -> None:
        owner = type(self).__name__
        columns = list(_frame(y).columns)
        if model.n_features is not None and len(columns) != model.n_features:
            raise ValueError(
                f"{owner} was trained on {model.n_features} variable(s), "
                f"got y with {len(columns)}"
            )
        n_x = 0 if X is None else _frame(X).shape[1]
        if n_x != model.n_side:
            raise ValueError(
                f"{owner} was trained with {model.n_side} exogenous column(s), "
                f"got X with {n_x}"
            )
        # an update extends the history, so it needs the history's columns
        for name, data, history in (
            ("y", y, getattr(self, "_history_y", None)),
            ("X", X, getattr(self, "_history_X", None)),
        ):
            if data is not None and history is not None:
                check_columns(owner, history.columns, _frame(data), name)

    def _train_from_scratch(
        self, frame: pd.DataFrame, x_frame: pd.DataFrame | None, fh
    ) -> DiffusionModel:
        """Choose the window and the scaling of ``X``, then train a new model.

        ``frame`` and ``x_frame`` come from :meth:`_checked_data`.
        """
        owner = type(self).__name__
        instances = self._choose_seed_and_window(frame, fh)
        if x_frame is not None:
            # the one scaling rule, each column of X as one window of all its rows
            x_scaling = series_scaling(x_frame.to_numpy(np.float64, na_value=np.nan))
            self.x_loc_, self.x_scale_ = x_scaling.loc[0, :, 0], x_scaling.scale[0, :, 0]
        length = self.context_length_ + self.horizon_
        _check_lengths(owner, instances, length, self.context_length is not None)
        data = self._windows_of(frame, x_frame)
        n_side = 0 if x_frame is None else x_frame.shape[1]
        model = self._build_model(frame.shape[1], n_side, self.seed_, self.baseline)
        self.training_history_ = self._train(model, data, self._mask_strategy(), self.seed_)
        return model

    def _fit_from_backbone(
        self, frame: pd.DataFrame, x_frame: pd.DataFrame | None, fh
    ) -> DiffusionModel:
        """Choose the window, then fine-tune a copy of the backbone's model.

        Series shorter than the window are padded as missing at their start.
        """
        owner = type(self).__name__
        if x_frame is not None:
            raise ValueError(
                f"{owner}: a backbone takes no exogenous X; fit without X, or without "
                "a backbone"
            )
        self._choose_seed_and_window(frame, fh)
        self.model_ = self._backbone().copy_of_model()
        self._fine_tune(frame, None, recent=None)
        return self.model_

    def _choose_seed_and_window(self, frame: pd.DataFrame, fh) -> list[InstanceSeries]:
        """Set ``seed_``, ``horizon_`` and ``context_length_``; return the series."""
        self.seed_ = seed_from(self.random_state)
        instances = split_series(frame)
        self.horizon_ = self._choose_horizon(fh, instances)
        self.context_length_ = self._choose_context(frame, instances)
        return instances

    def _fine_tune(
        self, frame: pd.DataFrame, x_frame: pd.DataFrame | None, recent: int | None
    ) -> None:
        """Fine-tune ``model_`` in place on the windows of ``frame`` (the last ``recent``).

        A series shorter than a window gives none: with no window at all the model
        only conditions on the data.
        """
        if self.fine_tune_steps == 0:
            return
        if self.backbone is None:
            data, floor = self._windows_of(frame, x_frame, recent=recent), None
        else:
            data, floor = self._backbone_windows_of(frame, recent), BACKBONE_WINDOW_FLOOR
        if data is None:
            return
        self.training_history_ = self._train(
            self.model_,
            data,
            self._mask_strategy(),
            self.seed_,
            steps=int(self.fine_tune_steps),
            fine_tune=True,
            given_scale_floor=floor,
        )

    def _mask_strategy(self) -> MaskStrategy:
        """Training masks: mostly forecast suffixes, some random entries."""
        return MaskStrategy(
            random=0.2, suffix=0.8, suffix_length=self.horizon_, max_ratio=0.5
        )

    def _windows_of(
        self, frame: pd.DataFrame, x_frame: pd.DataFrame | None, recent: int | None = None
    ) -> SeriesWindows | None:
        """Training windows of every series long enough for one, each scaled by its context.

        Parameters
        ----------
        frame, x_frame : pd.DataFrame
            Checked series (or panel) and its exogenous data on the same rows, or None
            (as :meth:`_checked_data` returns them).
        recent : int or None
            Only the last ``recent`` windows of each series; None: all.

        Returns
        -------
        SeriesWindows or None
            Every window of stride 1 (cut per batch, not copied), standardised by its
            context with a floor of a tenth of its series' spread; None when no series
            has a whole window.
        """
        instances = split_series(frame)
        length = self.context_length_ + self.horizon_
        long_enough = [i for i, p in enumerate(instances) if len(p.values) >= length]
        if not long_enough:
            return None
        side = None
        if x_frame is not None:
            x_instances = split_series(x_frame)
            side = [self._scale_x(x_instances[i].values).T for i in long_enough]
        return training_windows(
            [instances[i].values.T for i in long_enough],
            length,
            max_windows=None,
            recent=recent,
            side=side,
            scaling_context=self.context_length_,
            scale_floors=np.stack([scale_floor(instances[i].values) for i in long_enough]),
        )

    def _backbone_windows_of(
        self, frame: pd.DataFrame, recent: int | None = None
    ) -> SeriesWindows | None:
        """Windows of every column of every series, as a backbone is trained on.

        Each column standardised as a whole (:func:`~sktime_diffusion.backbone.
        backbone_windows`), a series shorter than a window padded as missing; the
        fine-tune standardises each window by its given entries. ``recent`` as in
        :meth:`_windows_of`. None when no window has an observed entry.
        """
        series = column_series(frame)
        length = self.context_length_ + self.horizon_
        return backbone_windows(series, length, recent=recent)

    def _choose_horizon(self, fh, instances: list[InstanceSeries]) -> int:
        if self.horizon is not None:
            return int(self.horizon)
        if fh is not None:
            steps = fh if fh.is_relative else fh.to_relative(self.cutoff)
            return max(1, int(np.max(np.asarray(steps))))
        shortest = min(len(p.values) for p in instances)
        return max(1, min(12, shortest // 3))

    def _choose_context(self, frame: pd.DataFrame, instances: list[InstanceSeries]) -> int:
        if self.context_length is not None:
            return int(self.context_length)
        period = seasonal_period(instances[0].index)
        wanted = 4 * max(period, self.horizon_)
        shortest = min(len(p.values) for p in instances)
        windows_wanted = max(1, _MIN_WINDOWS // len(instances))
        room = shortest - self.horizon_ - windows_wanted + 1
        return int(max(1, min(wanted, room, shortest - self.horizon_)))

    def _scale_x(self, values: np.ndarray) -> np.ndarray:
        return np.nan_to_num((values - self.x_loc_) / self.x_scale_)

    # ================================================================== prediction
    def predict_samples(self, fh=None, X=None) -> pd.DataFrame:
        """Sample paths of the forecast, the basis of every other prediction.

        Parameters
        ----------
        fh : int, list, np.ndarray or ForecastingHorizon, optional
            Forecasting horizon; may be omitted if given in ``fit``.
        X : pd.DataFrame, optional
            Future exogenous values, needed if ``X`` was given in ``fit``.

        Returns
        -------
        pd.DataFrame
            Row index ``(sample, [instance levels,] time)``, one row per sample path and
            forecast time point; columns as ``y``. ``n_samples`` paths.
        """
        self.check_is_fitted()
        fh = self._check_fh(fh)
        if X is not None:
            X = check_frame(X, type(self).__name__, "X")
        return self._remembered_paths(fh, X).to_frame()

    def _predict(self, fh, X=None):
        paths = self._remembered_paths(fh, X)
        if self.point_estimate == "mean":
            return paths.mean()
        return paths.quantiles([0.5]).droplevel(1, axis=1)

    def _predict_quantiles(self, fh, X, alpha):
        return self._remembered_paths(fh, X).quantiles(alpha)

    def _predict_var(self, fh, X=None, cov=False):
        if cov:
            raise NotImplementedError(
                f"{type(self).__name__}.predict_var(cov=True) is not implemented; "
                "use predict_samples or predict_proba for the joint distribution"
            )
        return self._remembered_paths(fh, X).var()

    def _predict_proba(self, fh, X, marginal=True):
        return self._remembered_paths(fh, X).empirical()

    def _remembered_paths(self, fh: ForecastingHorizon, X) -> SamplePaths:
        """:meth:`_paths`, drawn once per fitted state, ``fh`` and ``X``.

        Every ``predict*`` call of one fitted state would draw the same paths again
        (the sampling seed is fixed at fit), so the paths are reused, outside the
        estimator's state (see :mod:`sktime_diffusion._sample_cache`).
        """
        fh = _with_frequency(fh, self._history_y)
        fh_index = fh.to_absolute_index(self.cutoff)

        def draw() -> SamplePaths:
            paths = self._paths(fh, fh_index, X)
            paths.values.setflags(write=False)  # shared by the calls that reuse it
            return paths

        return remembered(self, (fh_index, X), draw, lambda paths: paths.values.nbytes)

    def _paths(self, fh: ForecastingHorizon, fh_index: pd.Index, X) -> SamplePaths:
        """Draw ``n_samples`` paths per series for the time points of ``fh``.

        ``fh`` carries a frequency (:func:`_with_frequency`); ``fh_index`` is its
        absolute time points.
        """
        owner = type(self).__name__
        instances = split_series(self._history_y)
        # steps ahead of each series' own last time point (series may end earlier)
        steps = np.stack(
            [_steps_after(instance.index, fh_index, fh.freq) for instance in instances]
        )
        if np.any(steps < 1):
            raise NotImplementedError(f"{owner} can not make in-sample predictions")
        n_ahead = int(steps.max())
        n_blocks = math.ceil(n_ahead / self.horizon_)
        if n_blocks > 1 and not self.autoregressive:
            raise ValueError(
                f"{owner} was trained for a horizon of {self.horizon_} steps and "
                f"autoregressive=False, but fh reaches {n_ahead} steps ahead; refit with "
                "a longer fh or horizon, or set autoregressive=True"
            )
        side = self._future_side(instances, X, n_blocks * self.horizon_, fh, steps)
        generated = self._generate(instances, side, n_blocks)  # (n_inst, S, F, ahead)
        values = np.take_along_axis(generated, (steps - 1)[:, None, None, :], axis=3)
        history_index = self._history_y.index
        return SamplePaths(
            values=values,
            keys=[p.key for p in instances],
            time_index=fh_index,
            columns=self._history_y.columns,
            instance_names=list(history_index.names[:-1])
            if isinstance(history_index, pd.MultiIndex)
            else [],
            time_name=history_index.names[-1],
        )

    def _generate(
        self, instances: list[InstanceSeries], side: np.ndarray | None, n_blocks: int
    ) -> np.ndarray:
        """Generate ``n_blocks`` horizons, each path conditioned on its own past.

        Block ``b`` is a window of the last ``context`` steps before it (history, or
        what the blocks before drew on that path) followed by its ``horizon`` steps,
        standardised by its observed context and drawn once per path.

        Returns
        -------
        np.ndarray of shape (n_instances, n_samples, n_features, n_blocks * horizon)
        """
        context, horizon = self.context_length_, self.horizon_
        n_ahead = n_blocks * horizon
        n_features = self._history_y.shape[1]
        future = np.full((n_features, n_ahead), np.nan)
        values = [
            np.concatenate([_last_steps(instance.values, context), future], axis=1)
            for instance in instances
        ]
        fill = np.zeros((n_features, context + n_ahead), dtype=bool)
        fill[:, context:] = True  # missing history is neither given nor filled
        rounds = [
            OutpaintRound(
                windows=[(number, block * horizon) for number in range(len(instances))],
                seed=stream_seed(self.seed_, "forecast block", block),
            )
            for block in range(n_blocks)
        ]
        paths = self._outpaint(
            self.model_,
            values,
            rounds,
            context + horizon,
            int(self.n_samples),
            fill=[fill] * len(instances),
            side=None if side is None else list(side),
            window_scale_floor=np.stack([scale_floor(p.values) for p in instances]),
        )
        return np.stack(paths)[..., context:]

    def _future_side(
        self,
        instances: list[InstanceSeries],
        X,
        n_ahead: int,
        fh: ForecastingHorizon,
        steps: np.ndarray,
    ) -> np.ndarray | None:
        """Scaled exogenous side channels over context and future, per series.

        ``X`` must cover the time points of ``fh``; other future steps the blocks span
        are filled from the nearest given row (they shape only steps nobody asked for).

        Returns
        -------
        np.ndarray of shape (n_instances, n_side, context + n_ahead) or None
        """
        owner = type(self).__name__
        if self.model_.n_side == 0:
            return None
        if X is None:
            raise ValueError(
                f"{owner} was fitted with exogenous X; pass the future X to predict"
            )
        check_columns(owner, self._history_X.columns, _frame(X))
        past_instances = _by_instance(split_series(self._history_X))
        future_instances = _by_instance(split_series(X))
        keys = [instance.key for instance in instances]
        missing = [key for key in keys if key not in future_instances]
        if missing:
            raise ValueError(
                f"{owner}: no future X for instance(s) {_names(missing)} of y; X at "
                "predict needs the future rows of every instance"
            )
        extra = [key for key in future_instances if key not in set(keys)]
        if extra:
            raise ValueError(
                f"{owner}: X at predict has instance(s) {_names(extra)} that y does "
                "not have"
            )
        sides = []
        for instance, wanted in zip(instances, steps, strict=True):
            past, future = past_instances[instance.key], future_instances[instance.key]
            relative = ForecastingHorizon(np.arange(1, n_ahead + 1), freq=fh.freq)
            future_index = relative.to_absolute_index(instance.index[-1:])
            future_frame = pd.DataFrame(future.values, index=future.index)
            future_frame = future_frame[~future_frame.index.duplicated(keep="last")]
            aligned = future_frame.reindex(future_index)
            uncovered = aligned.iloc[wanted - 1].isna().all(axis=1).to_numpy()
            if uncovered.any():
                labels = ", ".join(str(v) for v in future_index[wanted - 1][uncovered][:5])
                raise ValueError(
                    f"{owner}: X does not cover the forecast time point(s) {labels}"
                )
            future_values = aligned.ffill().bfill().to_numpy(np.float64)
            past_values = _last_steps(past.values, self.context_length_).T
            values = np.concatenate([past_values, future_values], axis=0)
            sides.append(self._scale_x(values).T)
        return np.stack(sides)

    # ================================================================== testing
    @classmethod
    def get_test_params(cls, parameter_set: str = "default") -> list[dict[str, Any]]:
        """Tiny, fast configurations covering both networks and several samplers."""
        first, second = tiny_test_configurations()
        return [
            {**first, "fine_tune_steps": 2, "n_samples": 10},
            {
                **second,
                "context_length": 4,
                "fine_tune_steps": 0,
                "n_samples": 8,
                "point_estimate": "mean",
            },
        ]


# ====================================================================== helpers
def _frame(data) -> pd.DataFrame:
    return data.to_frame() if isinstance(data, pd.Series) else data


def _with_frequency(fh: ForecastingHorizon, history: pd.DataFrame) -> ForecastingHorizon:
    """``fh`` with the history's frequency where sktime's cutoff has none.

    sktime's cutoff of a panel whose series end at different times carries no
    ``freq``, and a relative ``fh`` cannot be placed in time without one.
    """
    if fh.freq is not None:
        return fh
    freq = time_frequency(history)
    if freq is None:
        return fh
    return ForecastingHorizon(fh.to_pandas(), is_relative=fh.is_relative, freq=freq)


def _append(old: pd.DataFrame, new: pd.DataFrame) -> pd.DataFrame:
    combined = pd.concat([old, _frame(new)])
    combined = combined[~combined.index.duplicated(keep="last")]
    return combined.sort_index()


def _by_instance(instances: list[InstanceSeries]) -> dict[tuple, InstanceSeries]:
    return {instance.key: instance for instance in instances}


def _names(keys: list[tuple]) -> str:
    """Instance keys as a user wrote them: ``'a'``, or ``('a', 1)`` for hierarchies."""
    shown = [repr(key[0]) if len(key) == 1 else repr(key) for key in keys[:5]]
    return ", ".join(shown) + (", ..." if len(keys) > 5 else "")


def _check_lengths(
    owner: str, instances: list[InstanceSeries], length: int, context_is_set: bool
) -> None:
    short = [p for p in instances if len(p.values) < length]
    if not short:
        return
    if len(short) == len(instances) or context_is_set:
        names = ", ".join(str(p.key or "y") for p in short[:5])
        raise ValueError(
            f"{owner} needs series of at least {length} time points (context plus "
            f"horizon); too short: {names} "
            f"(shortest has {min(len(p.values) for p in short)})"
        )


def _steps_after(series_index: pd.Index, targets: pd.Index, freq) -> np.ndarray:
    """Steps from the last time point of a series to each target time point.

    Time-zone aware stamps count in wall time (as sktime's period arithmetic does,
    without its warning that the zone is dropped).
    """
    last = series_index[-1:]
    if getattr(targets, "tz", None) is not None:
        targets, last = targets.tz_localize(None), last.tz_localize(None)
    absolute = ForecastingHorizon(targets, is_relative=False, freq=freq)
    return np.asarray(absolute.to_relative(last), dtype=np.int64)


def _last_steps(values: np.ndarray, n: int) -> np.ndarray:
    """The last ``n`` rows as (n_features, n), padded with NaN at the start."""
    tail = values[-n:]
    if len(tail) < n:
        pad = np.full((n - len(tail), values.shape[1]), np.nan)
        tail = np.concatenate([pad, tail])
    return tail.T
