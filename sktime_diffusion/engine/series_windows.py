"""Training windows cut from whole series batch by batch: indices, not copies.

A training set of sliding windows of stride 1 holds every time point ``length`` times;
for a long series that is far more memory than the series (a million points of 8
columns cut into windows of 64 would take 16 GB in float32). :class:`SeriesWindows`
keeps the series once and a table of where each window starts, and cuts only the
windows of a batch when the training loop asks for them (:meth:`SeriesWindows.take`).
It has the interface of :class:`~sktime_diffusion.engine.training.WindowData` (``len``
and ``take``), so :func:`~sktime_diffusion.engine.training.train_model` trains on
either; the windows it gives are those a copy of every window would give, bit for bit.

A window may be standardised as it is cut, per feature by its first
``scaling_context`` observed entries (the forecaster's rule: each window by its
context, :func:`~sktime_diffusion.engine.scaling.given_entry_scaling`), with a floor
per series.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import torch
from torch import Tensor

from .checkpoints import fingerprint
from .device import held_on, tensor_bytes, to_device
from .scaling import given_entry_scaling

__all__ = ["SeriesWindows"]


class SeriesWindows:
    """Sliding windows over several series, cut per batch.

    Parameters
    ----------
    series : sequence of np.ndarray or torch.Tensor of shape (n_features, n_timepoints)
        The series, NaN where missing; all with the same ``n_features``. They are kept
        once, joined end to end (float64 when windows are standardised as they are cut,
        float32 otherwise); the caller's arrays are not changed.
    length : int
        Length of every window.
    stride : int
        Rows between the starts of two windows of a series; the last window of each
        series ends at its last row.
    max_windows : int or None
        When given, the stride is the smallest that keeps the count of windows (over
        all series) at about this bound or below.
    recent : int or None
        Only windows among the last ``recent`` of each series (those ending in its last
        ``recent`` rows; with a stride, every ``stride``-th of them); None: all.
    side : sequence of np.ndarray or torch.Tensor of shape (n_side, n_timepoints), or None
        Side channels of each series (no NaN), cut as the series are.
    scaling_context : int or None
        When given, each window is standardised per feature by the mean and standard
        deviation of its observed entries among the first ``scaling_context`` ones.
    scale_floors : array-like of shape (n_series, n_features) or None
        Smallest scale of that standardisation, per series and feature (needed with
        ``scaling_context``).

    Notes
    -----
    Windows without an observed entry are left out. ``len`` is the number of windows.

    Examples
    --------
    >>> import numpy as np
    >>> import torch
    >>> from sktime_diffusion.engine.series_windows import SeriesWindows
    >>> windows = SeriesWindows([np.arange(10.0).reshape(1, 10)], length=4, stride=3)
    >>> len(windows)
    3
    >>> values, observed, side = windows.take(torch.tensor([0, 2]), torch.device("cpu"))
    >>> values[:, 0].tolist()
    [[0.0, 1.0, 2.0, 3.0], [6.0, 7.0, 8.0, 9.0]]
    """

    #: the tensors held: the joined series, their tables and the scaling floors
    _HELD = ("_values", "_starts", "_series_of", "_side", "_floors")

    def __init__(
        self,
        series: Sequence[np.ndarray | Tensor],
        length: int,
        *,
        stride: int = 1,
        max_windows: int | None = None,
        recent: int | None = None,
        side: Sequence[np.ndarray | Tensor] | None = None,
        scaling_context: int | None = None,
        scale_floors: np.ndarray | Tensor | None = None,
    ) -> None:
        if len(series) == 0:
            raise ValueError("need at least one series to cut training windows from")
        if int(length) < 1:
            raise ValueError(f"the window length must be >= 1, got {length}")
        if scaling_context is not None and scale_floors is None:
            raise ValueError("scaling_context needs scale_floors")
        self.length = int(length)
        self.scaling_context = None if scaling_context is None else int(scaling_context)
        dtype = torch.float64 if scaling_context is not None else torch.float32
        parts = [torch.as_tensor(z).to(dtype) for z in series]
        if any(z.dim() != 2 or z.shape[0] != parts[0].shape[0] for z in parts):
            raise ValueError(
                "every series must have shape (n_features, n_timepoints) with the same "
                "n_features"
            )
        lengths = [z.shape[1] for z in parts]
        self._values = torch.cat(parts, dim=1)
        observed = ~torch.isnan(self._values)
        if not torch.isfinite(self._values[observed]).all():
            raise ValueError("observed training values must be finite (no inf)")
        self._side = None
        if side is not None:
            side_parts = [torch.as_tensor(s).to(torch.float32) for s in side]
            shapes = [tuple(s.shape) for s in side_parts]
            if [(len(s) == 2, s[-1]) for s in shapes] != [(True, n) for n in lengths]:
                raise ValueError(
                    "side channels must have shape (n_side, n_timepoints), one per series"
                )
            self._side = torch.cat(side_parts, dim=1)
        self._floors = None
        if scale_floors is not None:
            floors = torch.as_tensor(np.asarray(scale_floors), dtype=torch.float64)
            if floors.shape != (len(parts), parts[0].shape[0]):
                raise ValueError(
                    "scale_floors must have shape (n_series, n_features), got "
                    f"{tuple(floors.shape)}"
                )
            self._floors = floors
        self._starts, self._series_of = self._window_starts(
            lengths, observed.any(dim=0), stride, max_windows, recent
        )
        if len(self._starts) == 0:
            raise ValueError("need at least one training window")

    def _window_starts(
        self,
        lengths: list[int],
        any_observed: Tensor,
        stride: int,
        max_windows: int | None,
        recent: int | None,
    ) -> tuple[Tensor, Tensor]:
        """First columns (in the joined series) and series numbers of the windows."""
        length = self.length
        available = [max(n - length + 1, 0) for n in lengths]
        # windows a series may give: ``recent`` keeps its last ones only
        kept = available if recent is None else [min(a, int(recent)) for a in available]
        if max_windows is not None:
            stride = max(int(stride), math.ceil(sum(kept) / int(max_windows)))
        stride = max(int(stride), 1)
        observed_before = torch.zeros(len(any_observed) + 1, dtype=torch.int64)
        observed_before[1:] = torch.cumsum(any_observed.to(torch.int64), dim=0)
        starts, series_of, offset = [], [], 0
        for number, n_timepoints in enumerate(lengths):
            last = n_timepoints - length  # the last window ends at the last row
            first = offset + torch.arange(last, last - kept[number], -stride).flip(0)
            seen = observed_before[first + length] - observed_before[first] > 0
            starts.append(first[seen])
            series_of.append(torch.full((int(seen.sum()),), number))
            offset += n_timepoints
        return torch.cat(starts), torch.cat(series_of)

    def __len__(self) -> int:
        return len(self._starts)

    @property
    def n_features(self) -> int:
        """Features of every window."""
        return self._values.shape[0]

    def digest(self) -> str:
        """A hash of the series, the window starts and how windows are scaled."""
        held = [self._values, self._starts, self._side, self._floors]
        return fingerprint(self.length, self.scaling_context, *held)

    @property
    def nbytes(self) -> int:
        """Bytes held: the joined series, side channels and the table of starts."""
        return tensor_bytes(*(getattr(self, name) for name in self._HELD))

    def to(self, device: torch.device) -> SeriesWindows:
        """The same windows, with the series and tables held on ``device``.

        :meth:`take` then cuts the windows there (the training loop does this on a GPU
        where the data fit, :func:`~sktime_diffusion.engine.device.keeps_on_device`).
        """
        return held_on(self, self._HELD, device)

    def take(
        self, index: Tensor, device: torch.device
    ) -> tuple[Tensor, Tensor, Tensor | None]:
        """Windows ``index`` on ``device``, cut where the series are held.

        Parameters
        ----------
        index : torch.Tensor of shape (batch,), int64
            Window numbers, in ``[0, len(self))``.
        device : torch.device

        Returns
        -------
        values : torch.Tensor of shape (batch, n_features, length), float32
            Standardised when ``scaling_context`` is set; 0 where not observed.
        observed : torch.Tensor of shape (batch, n_features, length), bool
        side : torch.Tensor of shape (batch, n_side, length), float32, or None
        """
        here = self._values.device
        index = to_device(index, here)
        steps = torch.arange(self.length, device=here)
        columns = self._starts[index][:, None] + steps
        values = self._values[:, columns].permute(1, 0, 2)
        observed = ~torch.isnan(values)
        if self.scaling_context is not None:
            context = steps < self.scaling_context
            floors = self._floors[self._series_of[index]][:, :, None]
            loc, scale = given_entry_scaling(values, observed & context, floors)
            values = (values - loc) / scale
        values = torch.where(observed, values, torch.zeros_like(values))
        side = None
        if self._side is not None:
            side = to_device(self._side[:, columns].permute(1, 0, 2), device, torch.float32)
        return to_device(values, device, torch.float32), to_device(observed, device), side
