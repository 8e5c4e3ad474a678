"""DiffusionImputer: multiple imputation of missing values with a diffusion model."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Sequence
from operator import methodcaller
from typing import Any

import numpy as np
import pandas as pd
from sktime.transformations.base import BaseTransformer

from ._estimator_engine import (
    DiffusionEngineMixin,
    check_number,
    documents_engine_parameters,
    member_seeds,
    seed_from,
    split_samples,
    tiny_backbone_configuration,
    tiny_test_configurations,
)
from ._sample_cache import new_sampling_state, remembered
from ._series import (
    InstanceSeries,
    check_columns,
    check_every_column_observed,
    check_frame,
    split_series,
)
from ._windows import (
    default_window_length,
    series_scaling,
    training_windows,
)
from .engine import (
    DiffusionModel,
    MaskStrategy,
    OutpaintRound,
    training_budget,
)
from .engine.checks import check_count
from .engine.scaling import BACKBONE_WINDOW_FLOOR
from .engine.series_windows import SeriesWindows
from .engine.streams import stream_seed
from .samples import SamplePaths

__all__ = ["DiffusionImputer"]

#: fewest observed values per column that training needs
MIN_OBSERVED_PER_COLUMN = 10
#: bytes of float64 imputations (samples x rows x columns) a summary draws at once:
#: beyond them ``transform``, ``transform_quantiles`` and ``transform_interval`` draw a
#: stretch of each series at a time and keep only its summaries
STREAMED_SAMPLE_BYTES = 256 * 2**20

#: the imputer's long-series rule of the automatic training budget: 0.3 steps per
#: training window (about 19 passes over the data in batches of 64), up to 3000 steps
#: per model (see the class's ``training_steps`` and Notes)
LONG_SERIES_STEPS_PER_WINDOW, MOST_LONG_SERIES_STEPS = 0.3, 3000

_TRAINING_STEPS_PARAGRAPH = f"""training_steps : int or None, default=None
        Optimiser steps of training, per model (batches of ``batch_size`` windows).
        None sizes the budget to the data with
        :func:`~sktime_diffusion.engine.training.training_budget` and the imputer's
        long-series rule: six steps per training window, at least 300 and at most
        1500, but long series train {LONG_SERIES_STEPS_PER_WINDOW} steps per window
        (about 19 passes over the data) up to {MOST_LONG_SERIES_STEPS}: the budget
        grows from {round(1500 / LONG_SERIES_STEPS_PER_WINDOW):,} training windows on
        and is {MOST_LONG_SERIES_STEPS} from \
{round(MOST_LONG_SERIES_STEPS / LONG_SERIES_STEPS_PER_WINDOW):,} on (see Notes)."""


@documents_engine_parameters(training_steps=_TRAINING_STEPS_PARAGRAPH)
class DiffusionImputer(DiffusionEngineMixin, BaseTransformer):
    """Fills missing values with samples of a conditional diffusion model.

    The series is cut into windows of ``window_length`` steps; the model is shown the
    observed entries of a window and generates the missing ones (CSDI-style), by
    default as differences from the linear interpolation of the observed entries of
    each column (``baseline``), so that it learns only what interpolation misses. Training
    hides observed entries at random, in contiguous gaps, and in the missing-value
    patterns of other windows, so one model fills scattered and long gaps alike. Each
    column is standardised with the mean and standard deviation of the ``fit`` data (as
    scikit-learn's ``StandardScaler``), and the same scaling serves any data at
    ``transform``: later stretches, short series, other series.

    ``n_models`` such models (three by default) are trained from different seeds, and
    every call draws ``n_samples`` complete imputations, an equal share from each
    model, so that the spread shows where the models disagree as well as what each is
    unsure of. ``transform`` returns their median (or mean) in the missing entries and
    the observed values unchanged, bit for bit. :meth:`transform_samples` returns the
    imputations themselves, and :meth:`transform_quantiles` and
    :meth:`transform_interval` their spread per entry.
    With a fixed ``random_state`` every call draws the same imputations, so all of
    them agree. Where the imputations of the data would hold more than 256 MB
    (:data:`~sktime_diffusion.imputation.STREAMED_SAMPLE_BYTES`), ``transform``,
    ``transform_quantiles`` and ``transform_interval`` draw them a stretch of each
    series at a time and keep only their summaries, so memory does not grow with
    ``n_samples`` times the data; they are the same imputations, up to the float
    rounding of network calls of other batch sizes (only ``transform_samples``
    holds them all).

    Gaps of any length, including at the start and the end, are filled in two
    rounds: first windows that tile the series side by side, then windows centred on
    the borders between them, which regenerate the middle half around each border
    given a quarter window of the first round's values on either side. Each
    imputation is therefore one coherent draw across window borders, and the cost
    does not grow with the number of rounds: every window of a round is sampled in
    one batch. Windows without a missing entry are skipped.

    Parameters
    ----------
    window_length : int or None, default=None
        Steps per window. None: two seasonal periods of the index frequency within
        [16, 96] (48 for hourly data; a day is the period of data taken every few
        minutes or seconds, so 96 for them), or 32 when the index says nothing of a
        period, and never longer than the longest series. Training hides contiguous
        gaps of up to half a window, so for long gaps a window at least twice as long
        as the longest gap is the safe choice.
    n_samples : int, default=50
        Imputations drawn per call; ``transform`` summarises them.
    point_estimate : {"median", "mean"}, default="median"
        What ``transform`` fills in.
    level_jitter : float, default=0.0
        Training augmentation: each training window gets one random offset per column,
        drawn with this standard deviation in units of the column's standard deviation
        (0, the default, adds none). The imputer then fills values relative to the
        level of the window's own observed entries rather than to the levels the
        columns had in ``fit``, which hides how the columns' levels relate to each
        other; measured on four data sets it widened the intervals but made the errors
        on long gaps larger (``docs/decisions.md``, D22).
    baseline : {"interpolation", "seasonal", "seasonal_drift", "none"}, \
default="interpolation"
        What the model generates: the difference between the values and the linear
        interpolation of each column's observed entries in the window (added back to
        every imputation; the network is shown that interpolation), the same with the
        last (first) season repeated after (before) the observed entries
        (``"seasonal"``: it differs only at a window's edges; ``"seasonal_drift"`` also
        continues the observed entries' drift there), or ``"none"``, the
        values themselves. With the interpolation the model only learns what
        interpolation misses; on the four data sets measured its errors were lower
        (``docs/decisions.md``, D13).
    max_mask_ratio : float, default=0.5
        Largest share of a window's observed entries that the scattered training masks
        hide: each such mask hides a share drawn uniformly between 0 and this (the
        contiguous gaps of the other masks do not depend on it). Missing data is most
        often a minority of the entries; masks that hide nearly a whole window teach a
        task that rarely comes up and, as the loss counts every hidden entry, weigh most
        in training. Lower values favour scattered missing entries, higher values long
        gaps (``docs/decisions.md``, D15); raise it when the data to fill is mostly
        missing.
    n_models : int, default=3
        Models trained independently (each from its own seed, on the same data) whose
        imputations are pooled: each draws an equal share of ``n_samples``, so
        sampling costs the same and training ``n_models`` times as long (``max_time``
        is shared between them). Where one model is unsure of what it has learnt, the
        models disagree, and the pooled imputations show it; on the four data sets
        measured, three models gave lower MAE and CRPS and wider intervals than one
        (``docs/decisions.md``, D14). 1 trains a single model.
    fine_tune_steps : int, default=200
        With a ``backbone``: optimiser steps of fine-tuning each model's copy of it
        on the windows of ``fit``, at a tenth of the learning rate; 0 only conditions
        on the data. Unused without a backbone.
    backbone : None, "pretrained" or DiffusionBackbone, default=None
        A pretrained :class:`~sktime_diffusion.DiffusionBackbone`, or "pretrained"
        for the one the package ships (its model card is in the docs): each of the
        ``n_models`` models is a copy of its model, fine-tuned for
        ``fine_tune_steps`` in the backbone's units (each window standardised by its
        observed entries, at least a tenth of the column's spread), and sampled in
        them; the backbone never changes. With a backbone, ``baseline``,
        ``network``, ``schedule``, ``n_diffusion_steps`` and ``parameterisation`` are
        the backbone's, and ``training_steps`` is unused.
    {engine_parameters}

    Attributes
    ----------
    models_ : list of sktime_diffusion.engine.DiffusionModel
        The ``n_models`` trained networks with their schedule.
    window_length_ : int
        Window length in use.
    columns_ : pd.Index
        Columns seen in ``fit``; ``transform`` needs the same.
    scaling_ : WindowScaling
        Mean and standard deviation per column of the ``fit`` data.
    training_histories_ : list of sktime_diffusion.engine.TrainingHistory or None
        Losses of training, one per model (None for a copy of a backbone that only
        conditions, ``fine_tune_steps=0``).

    See Also
    --------
    sktime.transformations.series.impute.Imputer : classical single imputation.

    Notes
    -----
    With ``training_steps=None`` long series train longer than in the other
    estimators (the long-series rule of ``training_steps``): the training masks hide
    at most ``max_mask_ratio`` of a window, so each step has fewer hidden entries to
    learn from; on four data sets of 10,405 windows the extra steps lowered MAE and
    CRPS (``docs/decisions.md``, D16).

    Examples
    --------
    >>> import numpy as np
    >>> from sktime.datasets import load_airline
    >>> from sktime_diffusion import DiffusionImputer
    >>> y = load_airline()
    >>> y.iloc[[10, 11, 50, 90]] = np.nan
    >>> imputer = DiffusionImputer(training_steps=50, n_samples=10, random_state=0)
    >>> filled = imputer.fit_transform(y)
    >>> bool(filled.isna().any())
    False
    >>> imputer.transform_interval(y, coverage=0.9).shape
    (144, 2)
    """

    _tags = {
        "authors": ["sktime-diffusion developers"],
        "maintainers": ["sktime-diffusion developers"],
        "python_dependencies": ["torch"],
        "scitype:transform-input": "Series",
        "scitype:transform-output": "Series",
        "scitype:instancewise": False,
        "X_inner_mtype": ["pd.DataFrame", "pd-multiindex", "pd_multiindex_hier"],
        "y_inner_mtype": "None",
        "fit_is_empty": False,
        "capability:multivariate": True,
        "capability:missing_values": True,
        "capability:missing_values:removes": True,
        "capability:unequal_length": True,
        "capability:inverse_transform": True,
        "skip-inverse-transform": True,
        "capability:random_state": True,
        "capability:categorical_in_X": False,
        "property:randomness": "derandomized",
        "transform-returns-same-time-index": True,
    }

    def __init__(
        self,
        window_length: int | None = None,
        n_samples: int = 50,
        point_estimate: str = "median",
        level_jitter: float = 0.0,
        baseline: str = "interpolation",
        max_mask_ratio: float = 0.5,
        n_models: int = 3,
        fine_tune_steps: int = 200,
        backbone: Any = None,
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
        self.window_length = window_length
        self.n_samples = n_samples
        self.point_estimate = point_estimate
        self.level_jitter = level_jitter
        self.baseline = baseline
        self.max_mask_ratio = max_mask_ratio
        self.n_models = n_models
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

    # ================================================================== training
    def _check_parameters(self) -> None:
        self._check_engine_parameters()
        owner = type(self).__name__
        self._check_n_samples(self.n_samples)
        self._check_n_samples(self.n_models, "n_models")
        self._check_window_length()
        check_count("fine_tune_steps", self.fine_tune_steps, minimum=0, owner=owner)
        self._check_backbone()
        if self.point_estimate not in ("median", "mean"):
            raise ValueError(f"{owner}: point_estimate must be 'median' or 'mean'")
        self._check_baseline()
        check_number(
            owner,
            "max_mask_ratio",
            self.max_mask_ratio,
            lambda ratio: 0 < ratio <= 1,
            "a number in (0, 1]",
        )
        check_number(
            owner,
            "level_jitter",
            self.level_jitter,
            lambda jitter: 0 <= jitter < math.inf,
            "a finite number >= 0",
        )

    def _fit(self, X, y=None):
        """Learn to fill windows of ``X`` from their observed entries."""
        self._check_parameters()
        owner = type(self).__name__
        frame = check_frame(X, owner, "X", require_observed=True)
        instances = split_series(frame)
        _check_enough_observed(owner, frame)
        self.columns_ = frame.columns.copy()
        self.scaling_ = series_scaling(frame.to_numpy(np.float64, na_value=np.nan))
        self.window_length_ = self._choose_window(instances)
        self.seed_ = seed_from(self.random_state)
        data = self._training_windows(instances)
        masks = MaskStrategy(
            random=0.5,
            block=0.3,
            historical=0.2,
            max_ratio=float(self.max_mask_ratio),
        )
        n_models = int(self.n_models)
        self.models_, self.training_histories_ = [], []
        for seed in member_seeds(self.seed_, n_models):
            model, history = self._trained_model(
                frame.shape[1],
                data,
                masks,
                seed,
                baseline=self.baseline,
                steps=self._training_steps(len(data)),
                level_jitter=float(self.level_jitter),
                time_share=1 / n_models,
            )
            self.models_.append(model)
            self.training_histories_.append(history)
        self._sampling_state_ = new_sampling_state()
        return self

    def _training_steps(self, n_windows: int) -> int:
        """Optimiser steps per model: the automatic budget with the long-series rule."""
        return training_budget(
            n_windows,
            self.training_steps,
            long_series_steps_per_window=LONG_SERIES_STEPS_PER_WINDOW,
            most_long_series_steps=MOST_LONG_SERIES_STEPS,
        )

    def _choose_window(self, instances: list[InstanceSeries]) -> int:
        if self.window_length is not None:
            return int(self.window_length)
        longest = max(len(instance.values) for instance in instances)
        return default_window_length(instances[0].index, longest)

    def _training_windows(self, instances: list[InstanceSeries]) -> SeriesWindows:
        scaled = self._scaled_padded(instances)
        return training_windows(scaled, self.window_length_)

    # ================================================================== transform
    def _transform(self, X, y=None):
        """Fill every missing entry with the median (or mean) of the imputations."""
        frame, instances = self._check_transform_input(X)
        values = frame.to_numpy(np.float64, na_value=np.nan)
        missing = np.isnan(values)
        if not missing.any():
            return frame.copy()
        if self.point_estimate == "mean":
            summarise = methodcaller("mean")
        else:
            summarise = methodcaller("quantiles", [0.5])
        fill = self._summary(frame, instances, summarise).to_numpy()
        out = frame.copy()
        columns = np.flatnonzero(missing.any(axis=0))
        for column in columns:
            filled = np.where(missing[:, column], fill[:, column], values[:, column])
            out.isetitem(int(column), filled)
        return out

    def _inverse_transform(self, X, y=None):
        """Imputation has no inverse; data passes through unchanged."""
        return X

    def transform_samples(self, X, n_samples: int | None = None) -> pd.DataFrame:
        """Complete copies of ``X``, one per imputation.

        Parameters
        ----------
        X : pd.Series or pd.DataFrame
            A series or a panel (row MultiIndex) with the columns of ``fit``.
        n_samples : int or None
            Imputations to draw; None means ``self.n_samples``.

        Returns
        -------
        pd.DataFrame
            Row index ``(sample, *X's index levels)``, columns as ``X``; observed entries
            equal ``X`` in every copy.
        """
        frame, instances = self._checked_public_input(X)
        n_samples = self._check_n_samples(
            self.n_samples if n_samples is None else n_samples
        )
        return self._paths(frame, instances, n_samples).to_frame()

    def transform_quantiles(
        self, X, alpha: float | Sequence[float] = (0.05, 0.95)
    ) -> pd.DataFrame:
        """Quantiles of every entry over the imputations.

        Observed entries are certain: all their quantiles equal the observed value.
        Quantiles follow skpro's ``Empirical`` rule (the smallest sample whose
        empirical probability reaches ``alpha``).

        Parameters
        ----------
        X : pd.Series or pd.DataFrame
        alpha : float or sequence of float in [0, 1]

        Returns
        -------
        pd.DataFrame
            Index as ``X``; columns ``(variable, alpha)``, as sktime's
            ``predict_quantiles``.
        """
        alpha = _check_probabilities(type(self).__name__, "alpha", alpha)
        frame, instances = self._checked_public_input(X)
        return self._summary(frame, instances, methodcaller("quantiles", alpha))

    def transform_interval(
        self, X, coverage: float | Sequence[float] = 0.9
    ) -> pd.DataFrame:
        """Central intervals of every entry over the imputations.

        Parameters
        ----------
        X : pd.Series or pd.DataFrame
        coverage : float or sequence of float in (0, 1)

        Returns
        -------
        pd.DataFrame
            Index as ``X``; columns ``(variable, coverage, "lower" | "upper")``, as
            sktime's ``predict_interval``.
        """
        owner = type(self).__name__
        coverage = _check_probabilities(owner, "coverage", coverage, open_interval=True)
        frame, instances = self._checked_public_input(X)
        return self._summary(frame, instances, methodcaller("intervals", coverage))

    # ================================================================== checks
    def _checked_public_input(self, X) -> tuple[pd.DataFrame, list[InstanceSeries]]:
        """The checks ``transform`` gets from sktime, for the extra public methods."""
        self.check_is_fitted()
        if not isinstance(X, pd.Series | pd.DataFrame):
            raise TypeError(
                f"{type(self).__name__} needs a pd.Series or pd.DataFrame (a row "
                f"MultiIndex for panels), got {type(X).__name__}"
            )
        return self._check_transform_input(X)

    def _check_transform_input(self, X) -> tuple[pd.DataFrame, list[InstanceSeries]]:
        owner = type(self).__name__
        frame = check_frame(X, owner, "X")
        check_columns(owner, self.columns_, frame)
        instances = split_series(frame)
        check_every_column_observed(owner, instances, frame.columns)
        return frame, instances

    # ================================================================== sampling
    def _summary(
        self,
        frame: pd.DataFrame,
        instances: list[InstanceSeries],
        summarise: Callable[[SamplePaths], pd.DataFrame],
    ) -> pd.DataFrame:
        """``summarise`` of the ``n_samples`` imputations of ``frame``, on its rows.

        When the imputations of ``frame`` hold at most :data:`STREAMED_SAMPLE_BYTES`
        they are drawn whole (and shared by the calls on the same data, see
        :meth:`_samples`); beyond, each series is drawn a stretch of rows at a time
        and only the summaries of each stretch are kept (:meth:`_streamed_summary`),
        so the memory does not grow with the samples of the whole data. Both draw
        the same imputations (a window's noise depends on its place in its series
        only), up to the float rounding of network calls of other batch sizes.

        Parameters
        ----------
        summarise : callable
            Takes the :class:`SamplePaths` of some rows, returns a frame on them.
        """
        n_samples = int(self.n_samples)
        if n_samples * frame.size * 8 <= STREAMED_SAMPLE_BYTES:
            return summarise(self._paths(frame, instances, n_samples))
        return self._streamed_summary(frame, instances, n_samples, summarise)

    def _streamed_summary(
        self,
        frame: pd.DataFrame,
        instances: list[InstanceSeries],
        n_samples: int,
        summarise: Callable[[SamplePaths], pd.DataFrame],
    ) -> pd.DataFrame:
        """``summarise`` of imputations drawn a stretch of rows at a time.

        A stretch is whole windows of a series holding about a quarter of
        :data:`STREAMED_SAMPLE_BYTES` of imputations; it is drawn with the windows of
        both rounds its values depend on (one more window of round 1 on either side,
        the border windows into them), so every stretch gets what the whole series
        would. Observed rows are summaries of their observed values.
        """
        length = self.window_length_
        window_bytes = 8 * n_samples * frame.shape[1] * length
        stretch = max(1, STREAMED_SAMPLE_BYTES // (4 * window_bytes) - 2)
        seeds = member_seeds(self.seed_, len(self.models_))
        shares = split_samples(n_samples, len(self.models_))
        summary, columns = None, None
        with self._sampling_progress(None) as progress:
            for number, instance in enumerate(instances):
                (scaled,) = self._scaled_padded([instance])
                n_rows = len(instance.values)
                windows = _tiling_windows([scaled], [n_rows], length)  # series 0
                for rows, low, high in _stretches(scaled.shape[1], n_rows, stretch, length):
                    cut = [
                        [
                            (0, start - low)
                            for _, start in round_windows
                            if low <= start <= high - length
                        ]
                        for round_windows in windows
                    ]
                    parts = [
                        self._outpainted(
                            model,
                            _tiling_rounds(seed, cut, length),
                            [scaled[:, low:high]],
                            share,
                            origins=[(number, low)],
                            progress=progress,
                        )[0][:, :, rows.start - low : rows.stop - low]
                        for model, seed, share in zip(
                            self.models_, seeds, shares, strict=True
                        )
                        if share > 0
                    ]
                    samples = np.concatenate(parts).transpose(0, 2, 1)  # (S, rows, F)
                    values = instance.values[rows]
                    np.copyto(samples, values, where=~np.isnan(values))
                    where = instance.rows[rows]
                    piece = summarise(
                        SamplePaths.of_rows(samples, frame.index[where], frame.columns)
                    )
                    if summary is None:
                        summary = np.empty((len(frame), piece.shape[1]))
                        columns = piece.columns
                    summary[where] = piece.to_numpy()
        return pd.DataFrame(summary, index=frame.index, columns=columns)

    def _outpainted(
        self,
        model: DiffusionModel,
        rounds: list[OutpaintRound],
        scaled: list[np.ndarray],
        n_samples: int,
        origins: list[tuple[int, int]] | None = None,
        progress: Callable | None = None,
    ) -> list[np.ndarray]:
        """One model's imputations of standardised, padded series, in the data's units.

        A backbone's model samples each window in its own units, as it was trained
        (``window_scale_floor``). The padding is filled too: round 2 is given what
        round 1 drew there.

        Parameters
        ----------
        rounds : list of OutpaintRound
            :func:`_tiling_rounds` of the series.
        scaled : list of np.ndarray of shape (n_features, n_padded_timepoints)
        origins, progress
            As for :meth:`_outpaint`.

        Returns
        -------
        list of np.ndarray of shape (n_samples, n_features, n_padded_timepoints)
        """
        floor = None
        if self.backbone is not None:
            floor = np.full((len(scaled), scaled[0].shape[0]), BACKBONE_WINDOW_FLOOR)
        paths = self._outpaint(
            model,
            scaled,
            rounds,
            self.window_length_,
            n_samples,
            window_scale_floor=floor,
            origins=origins,
            progress=progress,
        )
        return [self.scaling_.invert(path[None], in_place=True)[0] for path in paths]

    def _paths(
        self, frame: pd.DataFrame, instances: list[InstanceSeries], n_samples: int
    ) -> SamplePaths:
        """:meth:`_samples` of ``frame``, on its rows: every output summarises these."""
        samples = self._samples(frame.shape, instances, n_samples)
        return SamplePaths.of_rows(samples, frame.index, frame.columns)

    def _samples(
        self, shape: tuple[int, int], instances: list[InstanceSeries], n_samples: int
    ) -> np.ndarray:
        """Imputations of the data, rows in the order of the input.

        Drawn once per fitted state and input (see
        :mod:`sktime_diffusion._sample_cache`): ``transform``, ``transform_samples``,
        ``transform_quantiles`` and ``transform_interval`` of the same data share one
        sampling pass.

        Returns
        -------
        np.ndarray of shape (n_samples, n_rows, n_features), read-only
            Observed entries equal the input exactly.
        """

        def draw() -> np.ndarray:
            samples = np.empty((n_samples, *shape))
            imputations = self._impute(instances, n_samples)
            for number, instance in enumerate(instances):
                paths = imputations[number].transpose(0, 2, 1)  # (S, n_rows, F)
                np.copyto(paths, instance.values, where=~np.isnan(instance.values))
                samples[:, instance.rows] = paths
                imputations[number] = None  # one copy of the samples at a time
            samples.setflags(write=False)  # shared by the calls that reuse it
            return samples

        inputs = (shape, n_samples, [(p.values, p.rows, p.index) for p in instances])
        return remembered(self, inputs, draw, lambda samples: samples.nbytes)

    def _impute(self, instances: list[InstanceSeries], n_samples: int) -> list[np.ndarray]:
        """Each model's share of the imputations, pooled.

        Returns
        -------
        list of np.ndarray of shape (n_samples, n_features, n_timepoints)
            One per series, in the units of the data.
        """
        seeds = member_seeds(self.seed_, len(self.models_))
        shares = split_samples(n_samples, len(self.models_))
        parts = [
            self._impute_with(model, seed, instances, share)
            for model, seed, share in zip(self.models_, seeds, shares, strict=True)
            if share > 0
        ]
        if len(parts) == 1:
            return parts[0]
        return [np.concatenate(series, axis=0) for series in zip(*parts, strict=True)]

    def _impute_with(
        self,
        model: DiffusionModel,
        seed: int,
        instances: list[InstanceSeries],
        n_samples: int,
    ) -> list[np.ndarray]:
        """Two rounds of window sampling with one model (see the class docstring).

        Round 1 draws the windows side by side that hold a missing entry; round 2
        draws, across each border between them, the missing entries of the middle
        half of a window again, given the round-1 values of the quarters around it.

        Returns
        -------
        list of np.ndarray of shape (n_samples, n_features, n_timepoints)
            One per series, in the units of the data.
        """
        length = self.window_length_
        scaled = self._scaled_padded(instances)
        lengths = [len(instance.values) for instance in instances]
        rounds = _tiling_rounds(seed, _tiling_windows(scaled, lengths, length), length)
        paths = self._outpainted(model, rounds, scaled, n_samples)
        return [path[:, :, :n] for path, n in zip(paths, lengths, strict=True)]

    def _scaled_padded(self, instances: list[InstanceSeries]) -> list[np.ndarray]:
        """Each series standardised, padded with NaN to whole windows.

        Returns
        -------
        list of np.ndarray of shape (n_features, n_padded_timepoints)
        """
        length = self.window_length_
        return [_pad(self.scaling_.apply_to_series(p.values), length) for p in instances]

    # ================================================================== testing
    @classmethod
    def get_test_params(cls, parameter_set: str = "default") -> list[dict[str, Any]]:
        """Tiny, fast configurations covering both networks and several samplers."""
        first, second = tiny_test_configurations()
        return [
            {**first, "window_length": 8, "n_samples": 8, "n_models": 2},
            {
                **second,
                "n_samples": 6,
                "point_estimate": "mean",
                "level_jitter": 0.3,
                "baseline": "none",
                "n_models": 1,
            },
            {**tiny_backbone_configuration(), "window_length": 8, "n_samples": 4},
        ]


# ====================================================================== helpers
def _tiling_windows(
    scaled: list[np.ndarray], lengths: list[int], length: int
) -> list[list[tuple[int, int]]]:
    """The windows of the two rounds that hold a missing entry to draw.

    Parameters
    ----------
    scaled : list of np.ndarray of shape (n_features, n_padded_timepoints)
        The series, padded with NaN to whole windows.
    lengths : list of int
        Each series' own length (the padding is not missing data).
    length : int
        Steps per window.

    Returns
    -------
    list of two lists of (int, int)
        ``(series number, first step)`` of round 1's windows side by side and of
        round 2's windows across their borders (whose middle half holds a missing
        entry).
    """

    def missing(number: int, start: int, stop: int) -> bool:
        """Whether series ``number`` misses a value in steps ``start:stop``."""
        return bool(np.isnan(scaled[number][:, start : min(stop, lengths[number])]).any())

    quarter = length // 4
    side_by_side = [
        (number, start)
        for number, z in enumerate(scaled)
        for start in range(0, z.shape[1], length)
        if missing(number, start, start + length)
    ]
    across_borders = [
        (number, start)
        for number, z in enumerate(scaled)
        for start in range(length // 2, z.shape[1] - length + 1, length)
        if quarter > 0 and missing(number, start + quarter, start + length - quarter)
    ]
    return [side_by_side, across_borders]


def _tiling_rounds(
    seed: int, windows: list[list[tuple[int, int]]], length: int
) -> list[OutpaintRound]:
    """The imputer's two rounds of :func:`_tiling_windows`' windows."""
    quarter = length // 4
    side_by_side, across_borders = windows
    return [
        OutpaintRound(side_by_side, seed=stream_seed(seed, "imputation round", 0)),
        OutpaintRound(
            across_borders,
            seed=stream_seed(seed, "imputation round", 1),
            steps=slice(quarter, length - quarter),
            redraw=True,
        ),
    ]


def _stretches(
    n_padded: int, n_rows: int, stretch: int, length: int
) -> Iterator[tuple[slice, int, int]]:
    """The stretches of ``stretch`` windows of a series, and what they draw.

    Parameters
    ----------
    n_padded : int
        Steps of the series padded to whole windows.
    n_rows : int
        Its own steps; stretches of padding only are left out.
    stretch, length : int
        Windows per stretch, steps per window.

    Yields
    ------
    (slice, int, int)
        The stretch's rows, and the steps ``low:high`` drawn for it: a window more on
        either side (round 2's windows across the stretch's borders are given round
        1's values there).
    """
    for first in range(0, min(n_padded, n_rows), stretch * length):
        last = min(first + stretch * length, n_padded)
        rows = slice(first, min(last, n_rows))
        yield rows, max(0, first - length), min(n_padded, last + length)


def _pad(values: np.ndarray, length: int) -> np.ndarray:
    """Pad with NaN on the right to a positive multiple of ``length`` steps."""
    n_features, n_timepoints = values.shape
    padded = max(length, math.ceil(n_timepoints / length) * length)
    out = np.full((n_features, padded), np.nan)
    out[:, :n_timepoints] = values
    return out


def _check_enough_observed(owner: str, frame: pd.DataFrame) -> None:
    counts = frame.notna().sum(axis=0)
    few = counts[counts < MIN_OBSERVED_PER_COLUMN]
    if len(few):
        detail = ", ".join(f"{column!r} has {count}" for column, count in few.items())
        raise ValueError(
            f"{owner} needs at least {MIN_OBSERVED_PER_COLUMN} observed values per "
            f"column to train; {detail}"
        )


def _check_probabilities(
    owner: str, name: str, values: Any, open_interval: bool = False
) -> list[float]:
    listed = [values] if np.isscalar(values) else list(values)
    low_ok = (lambda v: v > 0) if open_interval else (lambda v: v >= 0)
    high_ok = (lambda v: v < 1) if open_interval else (lambda v: v <= 1)
    if not listed or not all(
        isinstance(v, int | float | np.floating) and low_ok(v) and high_ok(v)
        for v in listed
    ):
        bounds = "(0, 1)" if open_interval else "[0, 1]"
        raise ValueError(f"{owner}: {name} must be numbers in {bounds}, got {values!r}")
    return [float(v) for v in listed]
