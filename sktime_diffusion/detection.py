"""DiffusionAnomalyDetector: anomaly scores from a conditional diffusion model."""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from sktime.detection.base import BaseDetector

from ._estimator_engine import (
    DiffusionEngineMixin,
    check_number,
    derived_seed,
    documents_engine_parameters,
    seed_from,
    tiny_backbone_configuration,
    tiny_test_configurations,
)
from ._series import (
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
from .anomaly_scores import point_scores, pool_scores
from .engine import MaskStrategy
from .engine.checks import check_count
from .engine.scaling import BACKBONE_WINDOW_FLOOR
from .engine.streams import stream_seed

__all__ = [
    "DiffusionAnomalyDetector",
    "default_detector_window",
    "default_score_smoothing",
    "flagged_segments",
    "threshold_folds_of",
    "training_stretches",
]

#: most time points of the fit data scored to set the threshold
_MAX_THRESHOLD_POINTS = 8192


@documents_engine_parameters()
class DiffusionAnomalyDetector(DiffusionEngineMixin, BaseDetector):
    """Anomaly scores: how unlikely each value is under the model's reconstruction.

    The series is cut into windows of ``window_length`` steps that start every half
    window, so each point lies in two windows at different positions. For each window,
    grating masks hide every other slice of the window (all features at once); the
    conditional diffusion model, trained on the ``fit`` data with the same kind of
    masks, generates ``n_samples`` reconstructions of the hidden slices from the rest of
    the window (as ImDiffusion does). A value that lies far outside its reconstructions
    is anomalous.

    **The score.** For a time point ``t``, a feature ``f`` and one slice count ``n`` of
    ``grating_slices``, the standardised error is
    ``|x[t, f] - median| / max(std, 0.01)`` over the reconstructions of ``x[t, f]`` when
    its slice was hidden (values in units of the ``fit`` data's standard deviation per
    column): the number of the model's own standard deviations between the real value
    and what the model expects there, averaged over the two windows ``t`` lies in. The
    score of ``t`` is the largest standardised error over the features (the most
    surprising feature), averaged over the slice counts. Fine gratings (many short
    slices) catch spikes, coarse ones (a hidden half window) catch level shifts and
    stretches that lost their usual shape. A normal value scores about 0.8 (the mean
    of ``|N(0, 1)|``) when the model is calibrated. Time points without an observed
    value score NaN (and are never flagged). Last, the point scores are pooled over a
    centred window of ``score_smoothing`` steps (by default one window) at two scales
    (:func:`pool_scores`): the larger of the window's mean score and the point's own
    score divided by the square root of the window length. The mean makes an anomaly
    that lasts (a level shift, a lost daily shape) lift its whole stretch and averages
    away the noise of the few reconstructions per point; the second term keeps a single
    spike standing out. ``score_smoothing=1`` gives the raw point scores (the poolings
    compared on NAB: ``docs/decisions.md``, D23).

    **The threshold.** ``contamination`` is the share of normal points to flag.
    ``threshold_`` is the ``1 - contamination`` quantile of pooled scores of the ``fit``
    data. By default (``threshold_folds=0``) these are the scores ``model_`` gives the
    data it trained on, as scikit-learn's ``IsolationForest`` does; a model
    reconstructs its training windows better than new ones, so on new normal data this
    flags more than ``contamination``: two to three times on most NAB series measured,
    nearly every point on a few at the default budget (``docs/decisions.md``, D25).
    With ``threshold_folds >= 2`` the threshold comes from out-of-fold scores
    (cross-fitting, as in ``sklearn.model_selection.cross_val_predict``): the ``fit``
    data is cut into ``threshold_folds`` consecutive parts, and each part is scored,
    its scores pooled on their own, by a model trained like ``model_`` on the other
    parts only (in the units of ``scaling_``). Those models are dropped after ``fit``:
    ``model_``, trained on all the data, scores new data, so the scores are the same
    whatever ``threshold_folds``, and ``fit`` trains ``threshold_folds + 1`` models.
    Measured, this removes the worst over-flagging but flags far less than
    ``contamination`` on other series (a model of half the data scores the other half
    higher than the full model scores new data), which is why it is not the default.
    Fit data shorter than ``threshold_folds`` windows falls back to the in-sample
    scores with a warning (``threshold_source_`` says which were used).
    ``transform`` and ``predict`` flag the points scoring above ``threshold_``; the
    raw scores are always available from ``transform_scores``, so users can set their
    own threshold.

    Parameters
    ----------
    window_length : int or None, default=None
        Steps per window. None (:func:`default_detector_window`): two seasonal periods
        of the index frequency within [16, 96] (48 for hourly data; a day is the period
        of data taken every few minutes or seconds, so 96 for them), or 32 when the
        index says nothing of a period, and never longer than the ``fit`` series (a
        window of the longest cycle was measured and is not the default:
        ``docs/decisions.md``, D24 and D25).
        Series given to ``predict`` and the other methods need at least this many
        time points.
    grating_slices : tuple of int, default=(2, 8)
        Numbers of equal slices a window is cut into, each >= 2. For each number, two
        complementary masks hide the even and the odd slices, so every point is hidden
        once per number and scored from its reconstructions.
    n_samples : int, default=10
        Reconstructions drawn per mask.
    contamination : float, default=0.01
        Share of points flagged, in (0, 0.5): ``threshold_`` is the
        ``1 - contamination`` quantile of the scores that set it (see
        ``threshold_folds``).
    threshold_folds : int, default=0
        Consecutive parts of the ``fit`` data scored out of fold to set
        ``threshold_`` (see above), 0 or >= 2; each costs the training of one more
        model on the other parts. 0 sets it from the scores of the data ``model_``
        trained on.
    score_smoothing : int or None, default=None
        Steps of the two-scale pooling of the point scores (:func:`pool_scores`); 1
        keeps the raw point scores, None means ``window_length_`` (the stretch the model
        judges a point in).
    fine_tune_steps : int, default=200
        With a ``backbone``: optimiser steps of fine-tuning a copy of it on the
        training windows, at a tenth of the learning rate; 0 only conditions on the
        data. Unused without a backbone.
    backbone : None, "pretrained" or DiffusionBackbone, default=None
        A pretrained :class:`~sktime_diffusion.DiffusionBackbone`, or "pretrained"
        for the one the package ships (its model card is in the docs): the model is a copy
        of its model, fine-tuned for ``fine_tune_steps`` in the backbone's units and
        reconstructing each scoring window in them (standardised by its given slices,
        at least a tenth of the column's spread); the backbone never changes. In those
        units a level shift longer than a window is seen only at its edges. With a
        backbone, ``network``, ``schedule``, ``n_diffusion_steps`` and
        ``parameterisation`` are the backbone's, and ``training_steps`` is unused.
    {engine_parameters}

    Attributes
    ----------
    model_ : sktime_diffusion.engine.DiffusionModel
        The trained network with its schedule.
    window_length_ : int
        Window length in use.
    columns_ : pd.Index
        Columns seen in ``fit``; the other methods need the same.
    scaling_ : WindowScaling
        Mean and standard deviation per column of the part of the ``fit`` data the
        model trains on.
    threshold_ : float
        Scores above it are flagged as anomalies.
    threshold_scores_ : np.ndarray
        The pooled scores ``threshold_`` is the quantile of: out-of-fold scores of the
        (last at most 8,192 points of the) ``fit`` data, or the scores ``model_`` gives
        the data it trained on (see ``threshold_source_``).
    threshold_source_ : str
        ``"out-of-fold"`` or ``"in-sample"``.
    training_history_ : sktime_diffusion.engine.TrainingHistory or None
        Losses of training (None for a copy of a backbone that only conditions,
        ``fine_tune_steps=0``).

    See Also
    --------
    sktime.detection.lof.SubLOF : local outlier factor on sub-windows.

    Examples
    --------
    >>> import numpy as np
    >>> import pandas as pd
    >>> from sktime_diffusion import DiffusionAnomalyDetector
    >>> t = np.arange(400)
    >>> y = pd.Series(np.sin(2 * np.pi * t / 24) + 0.05 * np.cos(t))
    >>> y.iloc[300] += 3
    >>> detector = DiffusionAnomalyDetector(
    ...     window_length=24, training_steps=50, random_state=0
    ... )
    >>> scores = detector.fit(y.iloc[:240]).transform_scores(y.iloc[240:])
    >>> scores.shape
    (160, 1)
    """

    _tags = {
        "authors": ["sktime-diffusion developers"],
        "maintainers": ["sktime-diffusion developers"],
        "python_dependencies": ["torch"],
        "task": "anomaly_detection",
        "learning_type": "unsupervised",
        "capability:multivariate": True,
        "capability:missing_values": True,
        "capability:random_state": True,
        "property:randomness": "derandomized",
        "X_inner_mtype": "pd.DataFrame",
        "fit_is_empty": False,
    }

    def __init__(
        self,
        window_length: int | None = None,
        grating_slices: tuple[int, ...] = (2, 8),
        n_samples: int = 10,
        contamination: float = 0.01,
        threshold_folds: int = 0,
        score_smoothing: int | None = None,
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
        self.grating_slices = grating_slices
        self.n_samples = n_samples
        self.contamination = contamination
        self.threshold_folds = threshold_folds
        self.score_smoothing = score_smoothing
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
        if self.n_samples < 2:
            raise ValueError(
                f"{owner}: n_samples must be >= 2 (the score needs the spread of the "
                f"reconstructions), got {self.n_samples!r}"
            )
        self._check_window_length()
        check_count("fine_tune_steps", self.fine_tune_steps, minimum=0, owner=owner)
        self._check_backbone()
        slices = self.grating_slices
        if not isinstance(slices, Sequence) or isinstance(slices, str) or not slices:
            raise ValueError(
                f"{owner}: grating_slices must be a non-empty sequence of integers >= 2, "
                f"got {slices!r}"
            )
        for count in slices:
            check_count("grating_slices (each)", count, minimum=2, owner=owner)
        check_count("score_smoothing", self.score_smoothing, allow_none=True, owner=owner)
        check_number(
            owner,
            "contamination",
            self.contamination,
            lambda share: 0 < share < 0.5,
            "in (0, 0.5)",
        )
        check_count("threshold_folds", self.threshold_folds, minimum=0, owner=owner)
        if self.threshold_folds == 1:
            raise ValueError(
                f"{owner}: threshold_folds must be 0 (in-sample threshold) or >= 2, got 1"
            )

    def _fit(self, X, y=None):
        """Train on ``X``, then set the threshold from scores of the fit data."""
        self._check_parameters()
        owner = type(self).__name__
        frame = check_frame(X, owner, "X", require_observed=True)
        self.window_length_ = (
            int(self.window_length)
            if self.window_length is not None
            else default_detector_window(frame.index, len(frame))
        )
        self._check_long_enough(frame, "fit")
        check_every_column_observed(owner, split_series(frame), frame.columns)
        values = frame.to_numpy(np.float64, na_value=np.nan)
        self.columns_ = frame.columns.copy()
        self.scaling_ = series_scaling(values)
        self.seed_ = seed_from(self.random_state)
        self.model_, self.training_history_ = self._model_trained_on([values], self.seed_)
        self._set_threshold(values)
        return self

    def _model_trained_on(self, parts: list[np.ndarray], seed: int):
        """A model trained (or fine-tuned) on the windows of ``parts`` of the fit data.

        Returns
        -------
        model : DiffusionModel
        history : TrainingHistory or None
        """
        windows = training_windows(
            [self.scaling_.apply_to_series(part) for part in parts],
            self.window_length_,
        )
        masks = MaskStrategy(
            random=0.2,
            block=0.2,
            grating=0.6,
            max_ratio=0.9,
            grating_slices=self._slice_counts(),
        )
        return self._trained_model(len(self.columns_), windows, masks, seed)

    def _set_threshold(self, values: np.ndarray) -> None:
        """``threshold_`` from the fit data's scores (see the class docstring)."""
        owner = type(self).__name__
        folds = threshold_folds_of(len(values), self.window_length_, self.threshold_folds)
        if self.threshold_folds and not folds:
            warnings.warn(
                f"{owner}: the fit data ({len(values)} time points) is shorter than "
                f"threshold_folds={self.threshold_folds} windows of "
                f"{self.window_length_}, so threshold_ comes from the scores of the "
                "data the model trained on, and flags more than contamination on new "
                "data; fit on more data, or pass a shorter window_length",
                UserWarning,
                stacklevel=2,
            )
        pooled = (
            self._out_of_fold_scores(values, folds)
            if folds
            else [self._scores(values[-_MAX_THRESHOLD_POINTS:])]
        )
        scores = _finite(np.concatenate(pooled))
        if len(scores) == 0:
            raise ValueError(f"{owner}: the fit data has no observed value to score")
        self.threshold_source_ = "out-of-fold" if folds else "in-sample"
        self.threshold_scores_ = scores
        self.threshold_ = float(np.quantile(scores, 1 - float(self.contamination)))

    def _out_of_fold_scores(
        self, values: np.ndarray, folds: list[tuple[int, int]]
    ) -> list[np.ndarray]:
        """Pooled scores of each fold by a model trained on the other folds.

        Only the last at most 8,192 points are scored: a fold without a window of them
        is not scored (and its model not trained), and the part of a fold before them
        is trained on by that fold's model.
        """
        first_scored = max(0, len(values) - _MAX_THRESHOLD_POINTS)
        pooled = []
        for number, (start, end) in enumerate(folds):
            start = max(start, first_scored)
            if end - start < self.window_length_:
                continue
            held_out = np.zeros(len(values), dtype=bool)
            held_out[start:end] = True
            parts = [
                values[a:b] for a, b in training_stretches(held_out, self.window_length_)
            ]
            seed = derived_seed(self.seed_, "threshold fold", number)
            model, _ = self._model_trained_on(parts, seed)
            points = self._point_scores(values[start:end], model)
            pooled.append(pool_scores(points, self._smoothing_steps()))
        return pooled

    def _slice_counts(self) -> tuple[int, ...]:
        """Distinct slice counts, none above the window length."""
        return tuple(
            sorted({min(int(n), self.window_length_) for n in self.grating_slices})
        )

    # ================================================================== detection
    def _transform_scores(self, X) -> pd.DataFrame:
        """One anomaly score per time point (see the class docstring)."""
        values = self._checked_values(X)
        return pd.DataFrame({"scores": self._scores(values)}, index=X.index)

    def _predict(self, X) -> pd.Series:
        """Positions (``iloc``) of the points scoring above ``threshold_``."""
        scores = self._scores(self._checked_values(X))
        return pd.Series(_positions_above(scores, self.threshold_), dtype="int64")

    def predict_anomaly_segments(self, X) -> pd.DataFrame:
        """Runs of consecutive flagged points, as left-closed intervals of positions.

        sktime's ``predict_segments`` returns the stretches *between* anomalies; this
        method returns the anomalous stretches themselves, the natural output for level
        shifts and flat-lined stretches.

        Parameters
        ----------
        X : pd.Series or pd.DataFrame
            A series with the columns of ``fit``.

        Returns
        -------
        pd.DataFrame
            Column ``"ilocs"`` of ``pd.Interval(start, end, closed="left")``, one row
            per run of flagged points, in time order.
        """
        scores = self.transform_scores(X)["scores"].to_numpy()
        return pd.DataFrame({"ilocs": flagged_segments(scores, self.threshold_)})

    # ================================================================== scoring
    def _checked_values(self, X) -> np.ndarray:
        owner = type(self).__name__
        frame = check_frame(X, owner, "X")
        check_columns(owner, self.columns_, frame)
        self._check_long_enough(frame, "score")
        return frame.to_numpy(np.float64, na_value=np.nan)

    def _check_long_enough(self, frame: pd.DataFrame, task: str) -> None:
        if len(frame) < self.window_length_:
            raise ValueError(
                f"{type(self).__name__} needs at least window_length="
                f"{self.window_length_} time points to {task}, got {len(frame)}"
            )

    def _scores(self, values: np.ndarray) -> np.ndarray:
        """Scores of one series of shape (n_timepoints, n_features); NaN if unobserved."""
        return pool_scores(self._point_scores(values), self._smoothing_steps())

    def _point_scores(self, values: np.ndarray, model=None) -> np.ndarray:
        """Unpooled scores (n_timepoints,) of a series (n_timepoints, n_features).

        ``model`` None is ``model_``; the threshold's fold models score their folds.
        """
        model = self.model_ if model is None else model
        # a backbone's model reconstructs each window in its own units
        floor = None if self.backbone is None else BACKBONE_WINDOW_FLOOR
        return point_scores(
            lambda condition, n, seed: self._draw(
                model, condition, n, seed, window_scale_floor=floor
            ),
            self.scaling_.apply_to_series(values),
            self.window_length_,
            self._slice_counts(),
            int(self.n_samples),
            lambda batch: stream_seed(self.seed_, "anomaly scoring batch", batch),
        )

    def _smoothing_steps(self) -> int:
        if self.score_smoothing is not None:
            return int(self.score_smoothing)
        return default_score_smoothing(self.window_length_)

    # ================================================================== testing
    @classmethod
    def get_test_params(cls, parameter_set: str = "default") -> list[dict[str, Any]]:
        """Tiny, fast configurations covering both networks and several samplers."""
        first, second = tiny_test_configurations()
        return [
            {**first, "window_length": 8, "n_samples": 4},
            {
                **second,
                "window_length": 6,
                "grating_slices": (2, 3),
                "n_samples": 3,
                "contamination": 0.1,
            },
            {**tiny_backbone_configuration(), "window_length": 8, "n_samples": 3},
        ]


def _finite(values: np.ndarray) -> np.ndarray:
    return values[np.isfinite(values)]


def _positions_above(scores: np.ndarray, threshold: float) -> np.ndarray:
    """Positions of the scores above ``threshold``; NaN is never above."""
    return np.flatnonzero(np.nan_to_num(scores, nan=-np.inf) > threshold)


def flagged_segments(scores: np.ndarray, threshold: float) -> pd.Series:
    """Runs of consecutive points scoring above ``threshold``.

    Parameters
    ----------
    scores : np.ndarray of shape (n_timepoints,)
        NaN scores are never flagged.
    threshold : float

    Returns
    -------
    pd.Series of pd.Interval
        ``pd.Interval(start, end, closed="left")`` of positions, one per run, in time
        order (object dtype, empty when nothing is flagged).
    """
    flagged = _positions_above(scores, threshold)
    if len(flagged) == 0:
        return pd.Series([], dtype=object)
    breaks = np.flatnonzero(np.diff(flagged) > 1)
    starts = flagged[np.r_[0, breaks + 1]]
    ends = flagged[np.r_[breaks, len(flagged) - 1]] + 1
    return pd.Series(
        [
            pd.Interval(int(a), int(b), closed="left")
            for a, b in zip(starts, ends, strict=True)
        ],
        dtype=object,
    )


def threshold_folds_of(
    n_timepoints: int, window_length: int, n_folds: int
) -> list[tuple[int, int]]:
    """The consecutive parts of the fit data scored out of fold to set the threshold.

    Parameters
    ----------
    n_timepoints : int
        Length of the fit data.
    window_length : int
    n_folds : int
        The detector's ``threshold_folds``.

    Returns
    -------
    list of (start, end)
        ``n_folds`` row ranges ``[start, end)`` of equal length (within one point) in
        time order, covering the fit data; empty when ``n_folds`` is 0 or a part would
        be shorter than a window.
    """
    if n_folds == 0 or n_timepoints < n_folds * window_length:
        return []
    bounds = np.linspace(0, n_timepoints, n_folds + 1).round().astype(int)
    return [(int(a), int(b)) for a, b in zip(bounds[:-1], bounds[1:], strict=True)]


def training_stretches(held_out: np.ndarray, window_length: int) -> list[tuple[int, int]]:
    """Runs of points not held out that hold at least one window.

    Parameters
    ----------
    held_out : np.ndarray of bool, shape (n_timepoints,)
    window_length : int

    Returns
    -------
    list of (start, end)
        Row ranges ``[start, end)``, in time order.
    """
    edges = np.flatnonzero(np.diff(np.r_[True, held_out, True].astype(np.int8)))
    runs = zip(edges[::2], edges[1::2], strict=True)  # (start, end) of False runs
    return [(int(a), int(b)) for a, b in runs if b - a >= window_length]


def default_detector_window(index: pd.Index, n_timepoints: int) -> int:
    """The detector's window when ``window_length=None``.

    Parameters
    ----------
    index : pd.Index
        Time index of the fit data.
    n_timepoints : int
        Length of the fit data.

    Returns
    -------
    int
        :func:`~sktime_diffusion._windows.default_window_length`, at most the length
        of the fit data.
    """
    return default_window_length(index, n_timepoints)


def default_score_smoothing(window_length: int) -> int:
    """Steps of score smoothing when ``score_smoothing=None``: one window."""
    return max(1, int(window_length))
