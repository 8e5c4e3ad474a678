"""DiffusionGenerator: synthetic series from a diffusion model, free or conditioned."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from sktime.base import BaseEstimator

from ._estimator_engine import (
    DiffusionEngineMixin,
    documents_engine_parameters,
    seed_from,
    tiny_backbone_configuration,
    tiny_test_configurations,
)
from ._series import (
    InstanceSeries,
    as_frame,
    check_columns,
    check_frame,
    split_series,
)
from ._windows import (
    column_whitening,
    default_window_length,
    series_scaling,
    tiling_starts,
    training_windows,
)
from .engine import MaskStrategy, OutpaintRound
from .engine.checks import check_count
from .engine.scaling import BACKBONE_WINDOW_FLOOR
from .engine.series_windows import SeriesWindows
from .engine.streams import random_stream, torch_seed
from .networks import DilatedConvNetwork, NetworkSpec

__all__ = ["DiffusionGenerator"]

#: longest output, in windows: longer series are generated block by block
MAX_LENGTH_IN_WINDOWS = 1000


#: the generator's own paragraphs of two shared parameters: its default
#: parameterisation differs, and so does what repeated sampling calls draw
_PARAMETERISATION_PARAGRAPH = """parameterisation : {"v", "epsilon", "x0"}, default="x0"
        What the network predicts. Unlike the other estimators (default "v"), the
        generator predicts the clean window: with nothing given, "v" and "epsilon"
        networks trained on the default budget left samples of smooth series about
        eight times rougher (mean absolute step) than the data, "x0" matched it
        (``docs/decisions.md``, D26)."""
_NETWORK_PARAGRAPH = """network : NetworkSpec or None, default=None
        Denoising network: :class:`~sktime_diffusion.networks.DilatedConvNetwork`
        (cheap, long windows) or :class:`~sktime_diffusion.networks.CSDINetwork`
        (attention over time and features). None takes
        ``DilatedConvNetwork.covering(window_length_)``: the default network, with
        more dilated blocks where a window is longer than the 61 steps it sees (10
        blocks up to 125 steps); on windows of 96 the samples of ETTh1 went from easy
        to tell from held-out windows to about as hard as copies of training windows
        (``docs/decisions.md``, D33). Its parameters are reachable as
        ``network__<name>`` (which makes the plain default network explicit)."""
_RANDOM_STATE_PARAGRAPH = """random_state : int, RandomState or None, default=None
        Seeds training and sampling: the same value gives identical results on CPU
        for the same sequence of calls; each ``sample`` call draws new series (see
        Notes)."""


@documents_engine_parameters(
    network=_NETWORK_PARAGRAPH,
    parameterisation=_PARAMETERISATION_PARAGRAPH,
    random_state=_RANDOM_STATE_PARAGRAPH,
)
class DiffusionGenerator(DiffusionEngineMixin, BaseEstimator):
    """Synthetic time series drawn from a diffusion model of the training data.

    ``fit`` learns the distribution of windows of ``window_length`` steps of one series
    or a panel (windows slide over every series; all series share one model).
    ``sample`` draws new series in the format of the training data: unconditionally,
    or conditioned on a ``context`` whose observed entries every sample keeps (a
    prefix, or any partly observed window: NaN marks what to generate).

    Series longer than the window are generated block by block: the first window is
    drawn whole, and each next window, half a window further on, is drawn given the
    half it shares with what is already generated (the last window ends at the last
    step), so each sample is one continuous series. All samples of a block are drawn in
    one batch.

    Parameters
    ----------
    window_length : int or None, default=None
        Steps per window. None: the length of the series for a panel of equal-length
        series (as in TimeGAN's windows), otherwise two seasonal periods within [16, 96]
        (a day is the period of sub-hourly data; 32 when the index says nothing of a
        period), never longer than the shortest series.
    whiten : {"auto", True, False}, default=False
        Decorrelate the columns before the model sees them and undo it on the samples
        (ZCA whitening of the standardised columns: each time step's columns are
        rotated to unit variance and no correlation with each other), so that the
        network learns equally loud, uncorrelated columns and the samples get the
        data's correlation between columns back from the rotation. True requires
        every training value to be observed (a missing value would make its whole
        time step missing); "auto" whitens when every training value is observed and
        there are at least two columns; False standardises each column on its own.
        With whitened columns a ``context`` gives each step's columns all or none.
        What it changes on wide data and on TimeGAN's: ``docs/decisions.md``, D37.
    fine_tune_steps : int, default=200
        With a ``backbone``: optimiser steps of fine-tuning a copy of it on the
        windows of ``fit``, at a tenth of the learning rate; 0 only conditions on
        the data (draws from the backbone's own prior). Unused without a backbone.
    backbone : None, "pretrained" or DiffusionBackbone, default=None
        A pretrained :class:`~sktime_diffusion.DiffusionBackbone`, or "pretrained"
        for the one the package ships (its model card is in the docs): the model is a copy
        of its model, fine-tuned for ``fine_tune_steps`` in the backbone's units (a
        window given nothing stays in the units of its series, one given a part is
        standardised by that part, at least a tenth of the column's spread) and
        sampled in them; the backbone never changes. Its network sees one column at
        a time, so columns are generated without their dependence on each other;
        with ``whiten`` they are generated in decorrelated units, and the rotation
        back gives them their correlation at the same time step.
        With a backbone, ``network``, ``schedule``, ``n_diffusion_steps`` and
        ``parameterisation`` are the backbone's, and ``training_steps`` is unused.
    {engine_parameters}

    Attributes
    ----------
    model_ : sktime_diffusion.engine.DiffusionModel
        The trained network with its schedule.
    window_length_ : int
        Window length in use; ``sample`` returns this many steps by default.
    columns_ : pd.Index
        Columns (features) of the training data.
    whiten_ : bool
        Whether the columns are whitened (see ``whiten``).
    scaling_ : WindowScaling or ColumnWhitening
        Mean and standard deviation per column of the training data, and with
        ``whiten_`` the rotation that decorrelates the columns.
    training_history_ : sktime_diffusion.engine.TrainingHistory or None
        Losses of training (None for a copy of a backbone that only conditions,
        ``fine_tune_steps=0``).
    n_sample_calls_ : int
        Calls of ``sample`` since ``fit``, which sets it to 0; each call draws from the
        random stream of its number, then adds one. This is the state ``sample`` changes
        on purpose, and ``pickle``, ``deepcopy`` and ``save`` keep it.

    Notes
    -----
    Each ``sample`` call draws new series: call ``k`` (counted from 0 since ``fit``)
    draws from its own random stream, derived from the seed, ``k``, ``n_samples`` and
    ``length``, so no call repeats another and no call's series are the first ones of
    a larger call. A fixed ``random_state`` makes the whole sequence of calls
    reproducible: a new instance fitted with the same ``random_state`` and given the
    same calls returns bit-identical series on CPU. To draw one call's series again,
    refit, or ``copy.deepcopy`` the fitted generator before the call and call the
    copy. (The forecaster and imputer differ on purpose: every ``predict*`` of one
    fitted state draws the same paths.)

    Examples
    --------
    >>> from sktime_diffusion import DiffusionGenerator
    >>> from sktime_diffusion.datasets import make_sines
    >>> real = make_sines(n_series=64, length=24, n_features=2, random_state=0)
    >>> generator = DiffusionGenerator(training_steps=50, random_state=0).fit(real)
    >>> synthetic = generator.sample(10)
    >>> synthetic.shape
    (240, 2)
    """

    _tags = {
        "authors": ["sktime-diffusion developers"],
        "maintainers": ["sktime-diffusion developers"],
        "python_dependencies": ["torch"],
        "object_type": "estimator",
        "capability:multivariate": True,
        "capability:missing_values": True,
        "capability:random_state": True,
        "property:randomness": "derandomized",
    }

    def __init__(
        self,
        window_length: int | None = None,
        whiten: bool | str = False,
        fine_tune_steps: int = 200,
        backbone: Any = None,
        network: Any = None,
        schedule: str = "cosine",
        n_diffusion_steps: int = 50,
        parameterisation: str = "x0",
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
        self.whiten = whiten
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
    def fit(self, X) -> DiffusionGenerator:
        """Learn the distribution of windows of ``X``.

        Parameters
        ----------
        X : pd.Series, pd.DataFrame or np.ndarray
            One series, a panel (row MultiIndex, sktime's ``pd-multiindex``), or a 3D
            array of shape (n_instances, n_features, n_timepoints) (``numpy3D``).

        Returns
        -------
        self
        """
        self._check_engine_parameters()
        owner = type(self).__name__
        self._check_window_length()
        self._check_whiten()
        check_count("fine_tune_steps", self.fine_tune_steps, minimum=0, owner=owner)
        self._check_backbone()
        frame, self.input_kind_ = _as_panel_frame(X, owner)
        frame = check_frame(frame, owner, "X", require_observed=True)
        instances = split_series(frame)
        shortest = min(len(instance.values) for instance in instances)
        self.window_length_ = self._choose_window(instances, shortest)
        if shortest < self.window_length_:
            raise ValueError(
                f"{owner}: every series needs at least window_length="
                f"{self.window_length_} time points, the shortest has {shortest}"
            )
        self.columns_ = frame.columns.copy()
        self.time_index_name_ = instances[0].index.name
        values = frame.to_numpy(np.float64, na_value=np.nan)
        self.whiten_ = self._whitens(values)
        self.scaling_ = column_whitening(values) if self.whiten_ else series_scaling(values)
        self.seed_ = seed_from(self.random_state)
        windows = self._training_windows(instances)
        masks = MaskStrategy(random=0.2, suffix=0.2, unconditional=0.6, max_ratio=1.0)
        self.model_, self.training_history_ = self._trained_model(
            frame.shape[1], windows, masks, self.seed_
        )
        self.n_sample_calls_ = 0
        self._is_fitted = True
        return self

    def _check_whiten(self) -> None:
        if not (isinstance(self.whiten, bool) or self.whiten == "auto"):
            raise ValueError(
                f"{type(self).__name__}: whiten must be 'auto', True or False, "
                f"got {self.whiten!r}"
            )

    def _whitens(self, values: np.ndarray) -> bool:
        """Whether to whiten the columns of the training values (see ``whiten``).

        Parameters
        ----------
        values : np.ndarray of shape (n_timepoints, n_features)
            Every series' rows, stacked; NaN where missing.
        """
        complete = not np.isnan(values).any()
        if self.whiten == "auto":
            return complete and values.shape[1] >= 2
        if self.whiten and not complete:
            raise ValueError(
                f"{type(self).__name__}: whiten=True needs every training value "
                f"observed, X has {int(np.isnan(values).sum())} missing; use "
                "whiten='auto' or False"
            )
        return bool(self.whiten)

    def _network_spec(self) -> NetworkSpec:
        """The network, or the default one whose receptive field covers the window."""
        if self.network is not None:
            return self.network
        return DilatedConvNetwork.covering(self.window_length_)

    def _choose_window(self, instances: list[InstanceSeries], shortest: int) -> int:
        if self.window_length is not None:
            return int(self.window_length)
        lengths = {len(instance.values) for instance in instances}
        if len(instances) > 1 and len(lengths) == 1:
            return int(max(2, shortest))
        return default_window_length(instances[0].index, shortest)

    def _training_windows(self, instances: list[InstanceSeries]) -> SeriesWindows:
        length = self.window_length_
        scaled = [self.scaling_.apply_to_series(instance.values) for instance in instances]
        return training_windows(scaled, length)

    # ================================================================== sampling
    def sample(
        self, n_samples: int = 1, length: int | None = None, context: Any = None
    ) -> pd.DataFrame | np.ndarray:
        """Draw synthetic series.

        Parameters
        ----------
        n_samples : int, default=1
            Number of series.
        length : int or None
            Steps per series; None means ``window_length_`` (or the context's length
            if that is longer). At most ``1000 * window_length_``.
        context : pd.Series, pd.DataFrame, np.ndarray or None
            Values every sample keeps: a frame (or 2D array of shape (n_timepoints,
            n_features)) with the training columns whose rows are the first steps of
            each sample; NaN entries are generated. None draws freely.

        Returns
        -------
        pd.DataFrame or np.ndarray
            In the training data's format: a panel (row MultiIndex ``(instance,
            time)``, time 0, 1, ...) for pandas training data, an array of shape
            (n_samples, n_features, length) for ``numpy3D`` training data.
        """
        self.check_is_fitted()
        owner = type(self).__name__
        n_samples = self._check_n_samples(n_samples)
        known = self._context_values(context)
        if length is None:
            length = max(self.window_length_, known.shape[1])
        length = check_count("length", length, owner=owner)
        longest = MAX_LENGTH_IN_WINDOWS * self.window_length_
        if length > longest:
            raise ValueError(
                f"{owner}: length {length} is larger than supported ({longest} = 1000 "
                f"windows of {self.window_length_})"
            )
        if known.shape[1] > length:
            raise ValueError(
                f"{owner}: the context has {known.shape[1]} steps, more than "
                f"length={length}"
            )
        stream = random_stream(
            self.seed_, "generator sampling", self.n_sample_calls_, n_samples, length
        )
        paths = self._generate(known, int(length), n_samples, stream)
        self.n_sample_calls_ += 1
        return self._as_output(paths)

    def _context_values(self, context: Any) -> np.ndarray:
        """The context in the data's units, shape (n_features, n_steps); empty if None."""
        owner = type(self).__name__
        n_features = len(self.columns_)
        if context is None:
            return np.empty((n_features, 0))
        if isinstance(context, np.ndarray):
            if context.ndim != 2 or context.shape[1] != n_features:
                raise ValueError(
                    f"{owner}: a context array needs shape (n_timepoints, {n_features}), "
                    f"got {context.shape}"
                )
            context = pd.DataFrame(context, columns=self.columns_)
        if not isinstance(context, pd.Series | pd.DataFrame):
            raise TypeError(
                f"{owner}: context must be a pd.Series, pd.DataFrame or 2D array, "
                f"got {type(context).__name__}"
            )
        # the context's rows are the first steps of every sample, whatever its index
        frame = check_frame(context, owner, "context", check_index=False)
        if not (isinstance(context, pd.Series) and n_features == 1):
            check_columns(owner, self.columns_, frame, "a context")
        known = frame.to_numpy(np.float64, na_value=np.nan).T
        if self.whiten_:
            self._check_whole_steps(known)
        return known

    def _check_whole_steps(self, known: np.ndarray) -> None:
        """Refuse context steps that give some of their columns (whitened units).

        Parameters
        ----------
        known : np.ndarray of shape (n_features, n_steps)
            NaN where not given.
        """
        missing = np.isnan(known)
        partial = np.flatnonzero(missing.any(axis=0) & ~missing.all(axis=0))
        if len(partial):
            owner = type(self).__name__
            raise ValueError(
                f"{owner}: with whitened columns (whiten_=True) each step of a context "
                f"gives all columns or none; steps {partial[:5].tolist()} give some. "
                "Fit with whiten=False to condition on some of a step's columns"
            )

    def _generate(
        self,
        known: np.ndarray,
        length: int,
        n_samples: int,
        stream: np.random.SeedSequence,
    ) -> np.ndarray:
        """Block-by-block generation (see the class docstring).

        Parameters
        ----------
        known : np.ndarray of shape (n_features, n_known)
            The context in the data's units, NaN where not given; n_known <= length.
        length : int
            Steps per series.
        n_samples : int
            Number of series.
        stream : np.random.SeedSequence
            The call's random stream; block ``b`` draws from its ``b``-th spawned child.

        Returns
        -------
        np.ndarray of shape (n_samples, n_features, length), in the data's units;
            observed entries of ``known`` are returned exactly.
        """
        window = self.window_length_
        span = max(window, length)
        values = np.full((len(self.columns_), span), np.nan)
        values[:, : known.shape[1]] = self.scaling_.apply(known[None])[0]
        starts = tiling_starts(span, window, stride=max(1, window // 2))
        rounds = [
            OutpaintRound([(0, int(start))], seed=torch_seed(block_stream))
            for start, block_stream in zip(starts, stream.spawn(len(starts)), strict=True)
        ]
        floor = None  # a backbone's model samples each window in its own units
        if self.backbone is not None:
            floor = np.full((1, len(self.columns_)), BACKBONE_WINDOW_FLOOR)
        (paths,) = self._outpaint(
            self.model_, [values], rounds, window, n_samples, window_scale_floor=floor
        )
        paths = self.scaling_.invert(paths[:, None, :, :length])[:, 0]
        kept = ~np.isnan(known)
        paths[:, :, : known.shape[1]][:, kept] = known[kept]
        return paths

    def _as_output(self, paths: np.ndarray) -> pd.DataFrame | np.ndarray:
        if self.input_kind_ == "numpy3D":
            return paths
        n_samples, n_features, length = paths.shape
        index = pd.MultiIndex.from_product(
            [range(n_samples), range(length)],
            names=["instance", self.time_index_name_ or "time"],
        )
        return pd.DataFrame(
            paths.transpose(0, 2, 1).reshape(-1, n_features),
            index=index,
            columns=self.columns_,
        )

    # ================================================================== testing
    @classmethod
    def get_test_params(cls, parameter_set: str = "default") -> list[dict[str, Any]]:
        """Tiny, fast configurations covering both networks and several samplers."""
        first, second = tiny_test_configurations()
        return [
            {**first, "window_length": 8},
            {**second, "window_length": 6, "whiten": "auto"},
            {**tiny_backbone_configuration(), "window_length": 8},
        ]


def _as_panel_frame(X: Any, owner: str) -> tuple[pd.DataFrame, str]:
    """Training data as a frame, and which format ``sample`` returns."""
    if isinstance(X, np.ndarray):
        if X.ndim != 3:
            raise ValueError(
                f"{owner}: a numpy X needs shape (n_instances, n_features, "
                f"n_timepoints), got {X.shape}"
            )
        n_instances, n_features, length = X.shape
        index = pd.MultiIndex.from_product(
            [range(n_instances), range(length)], names=["instance", "time"]
        )
        frame = pd.DataFrame(
            X.transpose(0, 2, 1).reshape(-1, n_features),
            index=index,
            columns=[f"feature_{i}" for i in range(n_features)],
        )
        return frame, "numpy3D"
    if isinstance(X, pd.Series | pd.DataFrame):
        return as_frame(X), "pandas"
    raise TypeError(
        f"{owner}: X must be a pd.Series, pd.DataFrame (panels with a row MultiIndex) "
        f"or a 3D numpy array, got {type(X).__name__}"
    )
