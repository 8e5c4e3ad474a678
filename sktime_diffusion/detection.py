"""DiffusionAnomalyDetector: anomaly scores from a conditional diffusion model."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from sktime.detection.base import BaseDetector

from ._estimator_engine import (
    DiffusionEngineMixin,
    check_number,
    documents_engine_parameters,
    seed_from,
    tiny_backbone_configuration,
    tiny_test_configurations,
    window_data,
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
    "threshold_blocks",
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

    **The threshold.** ``contamination`` is the share of normal points to flag. A
    model reconstructs the windows it trained on better than new ones, so the quantile
    of its own training scores flags more than ``contamination`` on new data; and the
    pooled scores of a short held-out stretch hold few independent values, so their
    own quantile is no better. With ``threshold_fraction > 0``, ``fit`` holds out
    blocks spread over the ``fit`` data (:func:`threshold_blocks`), trains on the rest,
    and sets ``threshold_`` to the ``1 - contamination`` quantile of the pooled scores
    of the points it trained on times ``held_out_ratio_``, the median pooled score of
    the held-out points over that of the training points: the tail's shape from all
    the training data, its level from data the model did not train on.
    ``threshold_fraction=0`` trains on all the data and takes the plain quantile of its
    own scores (as scikit-learn's ``IsolationForest`` does). On new data that drifts
    away from the ``fit`` data either flags more than ``contamination``
    (``docs/decisions.md``, D25).
    ``transform`` and ``predict`` flag the points scoring above ``threshold_``; the
    raw scores are always available from ``transform_scores``, so users can set their
    own threshold.

    Parameters
    ----------
    window_length : int or None, default=None
        Steps per window. None (:func:`default_detector_window`): two seasonal periods
        of the index frequency within [16, 96] (48 for hourly data; a day is the period
        of data taken every few minutes or seconds, so 96 for them), or 32 when the
        index says nothing of a period, and never longer than the ``fit`` series (half
        of it with ``threshold_fraction > 0``; a window of the longest cycle was
        measured and is not the default: ``docs/decisions.md``, D24 and D25).
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
        ``threshold_fraction``).
    threshold_fraction : float, default=0
        Share of the ``fit`` data's time points held out from training, in blocks
        spread over it (:func:`threshold_blocks`: at least one window each, the last at
        its end; the rest must hold a window in a row), to set ``threshold_`` (see
        above), in [0, 0.5]. 0 trains on all the ``fit`` data and sets ``threshold_``
        from the scores of that same data.
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
        Pooled scores of the held-out points of the (last at most 8,192 points of the)
        ``fit`` data; of the points the model trained on with ``threshold_fraction=0``.
    held_out_ratio_ : float
        Median pooled score of the held-out points over that of the training points
        (above 1 when the model reconstructs its training windows better than new
        ones); 1 with ``threshold_fraction=0``.
    n_held_out_ : int
        Time points of the ``fit`` data held out from training (0 with
        ``threshold_fraction=0``).
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
        threshold_fraction: float = 0.0,
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
        batch_size: int = 64,
        learning_rate: float | None = None,
        validation_fraction: float = 0.0,
        patience: int | None = None,
        device: str = "auto",
        random_state: Any = None,
        verbose: bool = False,
    ) -> None:
        self.window_length = window_length
        self.grating_slices = grating_slices
        self.n_samples = n_samples
        self.contamination = contamination
        self.threshold_fraction = threshold_fraction
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
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.validation_fraction = validation_fraction
        self.patience = patience
        self.device = device
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
        check_number(
            owner,
            "threshold_fraction",
            self.threshold_fraction,
            lambda share: 0 <= share <= 0.5,
            "in [0, 0.5]",
        )

    def _fit(self, X, y=None):
        """Train on ``X`` but its held-out blocks, then set the threshold from scores."""
        self._check_parameters()
        owner = type(self).__name__
        frame = check_frame(X, owner, "X", require_observed=True)
        fraction = float(self.threshold_fraction)
        self.window_length_ = (
            int(self.window_length)
            if self.window_length is not None
            else default_detector_window(frame.index, len(frame), fraction)
        )
        self._check_long_enough(frame, "fit")
        held_out = threshold_blocks(len(frame), self.window_length_, fraction)
        self.n_held_out_ = int(held_out.sum())
        values = frame.to_numpy(np.float64, na_value=np.nan)
        stretches = training_stretches(held_out, self.window_length_)
        self._check_room_to_hold_out(len(frame), stretches)
        rows = np.concatenate([np.arange(start, end) for start, end in stretches])
        check_every_column_observed(owner, split_series(frame.iloc[rows]), frame.columns)
        parts = [values[start:end] for start, end in stretches]
        training = np.concatenate(parts)
        self.columns_ = frame.columns.copy()
        self.scaling_ = series_scaling(training)
        self.seed_ = seed_from(self.random_state)
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
        self.model_, self.training_history_ = self._trained_model(
            frame.shape[1], window_data(windows), masks, self.seed_
        )
        self._set_threshold(values, held_out)
        return self

    def _check_room_to_hold_out(
        self, n_timepoints: int, stretches: list[tuple[int, int]]
    ) -> None:
        """The fit data must hold a training window besides its held-out blocks."""
        if not stretches:
            raise ValueError(
                f"{type(self).__name__} needs window_length={self.window_length_} time "
                f"points in a row to train on besides the {self.n_held_out_} held out "
                f"to set threshold_ (threshold_fraction={self.threshold_fraction}), got "
                f"{n_timepoints} in all; pass a longer series, a shorter window_length "
                "or threshold_fraction=0"
            )

    def _set_threshold(self, values: np.ndarray, held_out: np.ndarray) -> None:
        """``threshold_`` from the fit data's scores (see the class docstring).

        The (last at most 8,192 points of the) whole fit series is scored once; the
        point scores of the points the model trained on and of the held-out points are
        pooled apart, so that neither enters the other's pooled scores.
        """
        owner = type(self).__name__
        points = self._point_scores(values[-_MAX_THRESHOLD_POINTS:])
        kept = held_out[-_MAX_THRESHOLD_POINTS:]
        steps = self._smoothing_steps()
        trained = _finite(pool_scores(np.where(kept, np.nan, points), steps)[~kept])
        if len(trained) == 0:
            raise ValueError(
                f"{owner}: the fit data the model trained on has no observed value "
                "to set threshold_ from"
            )
        self.threshold_scores_ = trained
        self.held_out_ratio_ = 1.0
        if kept.any():
            held = _finite(pool_scores(np.where(kept, points, np.nan), steps)[kept])
            if len(held) == 0:
                raise ValueError(
                    f"{owner}: the fit data held out to set threshold_ "
                    f"({self.n_held_out_} time points) has no observed value"
                )
            self.threshold_scores_ = held
            if np.median(trained) == 0:  # nothing to rescale: the held-out quantile
                trained = held
            else:
                self.held_out_ratio_ = float(np.median(held) / np.median(trained))
        quantile = np.quantile(trained, 1 - float(self.contamination))
        self.threshold_ = float(quantile * self.held_out_ratio_)

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

    def _point_scores(self, values: np.ndarray) -> np.ndarray:
        """Unpooled scores (n_timepoints,) of a series (n_timepoints, n_features)."""
        # a backbone's model reconstructs each window in its own units
        floor = None if self.backbone is None else BACKBONE_WINDOW_FLOOR
        return point_scores(
            lambda condition, n, seed: self._draw(
                self.model_, condition, n, seed, window_scale_floor=floor
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


def threshold_blocks(
    n_timepoints: int, window_length: int, threshold_fraction: float
) -> np.ndarray:
    """Time points of the fit data held out from training to set the threshold.

    The fit data is cut into ``n_blocks = max(1, round(threshold_fraction *
    n_timepoints / window_length))`` equal segments, and the last
    ``ceil(threshold_fraction * segment)`` points of each (at least one window) are
    held out: blocks spread over the whole fit data, the last one at its end, so the
    threshold sees every part of it and not only its end.

    Parameters
    ----------
    n_timepoints : int
        Length of the fit data.
    window_length : int
    threshold_fraction : float
        The detector's parameter, in [0, 0.5].

    Returns
    -------
    np.ndarray of bool, shape (n_timepoints,)
        True where held out; all False when ``threshold_fraction`` is 0.
    """
    held_out = np.zeros(n_timepoints, dtype=bool)
    if threshold_fraction == 0:
        return held_out
    n_blocks = max(1, round(threshold_fraction * n_timepoints / window_length))
    bounds = np.linspace(0, n_timepoints, n_blocks + 1).round().astype(int)
    for start, end in zip(bounds[:-1], bounds[1:], strict=True):
        block = max(math.ceil(threshold_fraction * (end - start)), int(window_length))
        held_out[max(start, end - block) : end] = True
    return held_out


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


def default_detector_window(
    index: pd.Index, n_timepoints: int, threshold_fraction: float
) -> int:
    """The detector's window when ``window_length=None``.

    Parameters
    ----------
    index : pd.Index
        Time index of the fit data.
    n_timepoints : int
        Length of the fit data.
    threshold_fraction : float
        The detector's parameter: the share of the fit data held out from training.

    Returns
    -------
    int
        :func:`~sktime_diffusion._windows.default_window_length`, at most half the fit
        data when ``threshold_fraction > 0`` (so that training and a held-out block
        each hold a window), at most all of it otherwise.
    """
    longest = n_timepoints if threshold_fraction == 0 else n_timepoints // 2
    return default_window_length(index, longest)


def default_score_smoothing(window_length: int) -> int:
    """Steps of score smoothing when ``score_smoothing=None``: one window."""
    return max(1, int(window_length))
