"""Sample paths and everything derived from them, computed once and vectorised.

Every probabilistic output of the estimators (point forecast, quantiles, intervals,
variance, skpro ``Empirical``) is a summary of one array of sample paths. The quantiles
use the same rule as skpro's ``Empirical.ppf`` (the smallest sample whose empirical
cumulative probability reaches ``alpha``), so ``predict_quantiles`` equals the
quantiles of ``predict_proba``, and they never cross.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

__all__ = ["SamplePaths", "empirical_quantile_positions"]

#: the two columns of an interval, in the order of sktime's ``predict_interval``
BOUNDS = ("lower", "upper")
#: samples sorted at once for quantiles (8 MB of float64): a long stretch of time is
#: sorted piece by piece
SORTED_ENTRIES = 2**20


def empirical_quantile_positions(n_samples: int, alpha: Sequence[float]) -> np.ndarray:
    """Positions in the sorted sample of skpro's ``Empirical`` quantiles.

    Parameters
    ----------
    n_samples : int
    alpha : sequence of float in [0, 1]

    Returns
    -------
    np.ndarray of int, one position per ``alpha``
    """
    cumulative = np.cumsum(np.full(n_samples, 1.0 / n_samples))
    positions = np.searchsorted(cumulative, np.asarray(alpha, dtype=np.float64))
    return np.minimum(positions, n_samples - 1)


@dataclass
class SamplePaths:
    """Sample paths of several series over a common time index.

    Samples of the rows of any frame (a panel of series of unequal lengths, say) are
    :meth:`of_rows`: one block of rows on the frame's own index.

    Parameters
    ----------
    values : np.ndarray of shape (n_instances, n_samples, n_features, n_times)
    keys : list of tuple
        Instance index values per series; ``[()]`` for a single series.
    time_index : pd.Index
        The ``n_times`` time points.
    columns : pd.Index
        The ``n_features`` variable names.
    instance_names : list
        Names of the instance index levels.
    time_name : hashable
        Name of the time index level.
    """

    values: np.ndarray
    keys: list[tuple]
    time_index: pd.Index
    columns: pd.Index
    instance_names: list = field(default_factory=list)
    time_name: Hashable = None

    @classmethod
    def of_rows(
        cls, samples: np.ndarray, index: pd.Index, columns: pd.Index
    ) -> SamplePaths:
        """Samples of every row of a frame, summarised on the frame's own index.

        Parameters
        ----------
        samples : np.ndarray of shape (n_samples, n_rows, n_features)
        index : pd.Index
            The frame's ``n_rows`` rows (a MultiIndex for panels).
        columns : pd.Index
            The ``n_features`` variable names.

        Returns
        -------
        SamplePaths
            A view of ``samples``, not a copy.
        """
        return cls(
            values=samples.transpose(0, 2, 1)[None],
            keys=[()],
            time_index=index,
            columns=columns,
            time_name=index.name,
        )

    @property
    def n_samples(self) -> int:
        """Sample paths per series."""
        return self.values.shape[1]

    # ------------------------------------------------------------------ indexing
    def row_index(self) -> pd.Index:
        """Rows of the summaries: time, or (instance levels..., time) for panels."""
        if self.keys == [()] and isinstance(self.time_index, pd.MultiIndex):
            return self.time_index  # the rows of :meth:`of_rows` on a panel
        time_index = pd.Index(self.time_index, name=self.time_name)
        if self.keys == [()]:
            return time_index
        n_times = len(time_index)
        arrays = [
            pd.Index([key[level] for key in self.keys]).repeat(n_times)
            for level in range(len(self.keys[0]))
        ]
        times = np.tile(np.arange(n_times), len(self.keys))
        return pd.MultiIndex.from_arrays(
            [*arrays, time_index[times]], names=[*self.instance_names, self.time_name]
        )

    def _table(self, array: np.ndarray, columns: pd.Index) -> pd.DataFrame:
        """(n_instances, n_times, n_columns) -> DataFrame on :meth:`row_index`."""
        rows = array.reshape(-1, array.shape[-1])
        return pd.DataFrame(rows, index=self.row_index(), columns=columns)

    # ---------------------------------------------------------------- summaries
    def quantiles(self, alpha: Sequence[float]) -> pd.DataFrame:
        """Quantiles per variable, with columns ``(variable, alpha)``."""
        alpha = list(alpha)
        columns = pd.MultiIndex.from_product([self.columns, alpha])
        return self._table(self._sorted_at(alpha), columns)

    def intervals(self, coverage: Sequence[float]) -> pd.DataFrame:
        """Central intervals per variable, as sktime's ``predict_interval``.

        Columns ``(variable, coverage, "lower" | "upper")``; the bounds are the
        quantiles ``(1 - coverage) / 2`` and ``(1 + coverage) / 2``.
        """
        coverage = list(coverage)
        alpha = [a for c in coverage for a in ((1 - c) / 2, (1 + c) / 2)]
        columns = pd.MultiIndex.from_tuples(
            [(v, c, side) for v in self.columns for c in coverage for side in BOUNDS]
        )
        return self._table(self._sorted_at(alpha), columns)

    def _sorted_at(self, alpha: list[float]) -> np.ndarray:
        """The samples at the quantile positions of ``alpha``.

        Returns
        -------
        np.ndarray of shape (n_instances, n_times, n_features * len(alpha))
            Features outer, ``alpha`` inner.
        """
        positions = empirical_quantile_positions(self.n_samples, alpha)
        n_instances, n_samples, n_features, n_times = self.values.shape
        shape = (n_instances, n_times, n_features, len(positions))
        array = np.empty(shape, dtype=self.values.dtype)
        # sorted a stretch of time at a time: one sorted copy of a stretch, not of all
        stretch = max(1, SORTED_ENTRIES // max(1, n_instances * n_samples * n_features))
        for start in range(0, n_times, stretch):
            times = slice(start, start + stretch)
            ordered = np.sort(self.values[..., times], axis=1)[:, positions]
            array[:, times] = ordered.transpose(0, 3, 2, 1)  # (inst, T, F, A)
        return array.reshape(n_instances, n_times, -1)

    def mean(self) -> pd.DataFrame:
        """Mean over samples, columns as the data."""
        return self._table(self.values.mean(axis=1).transpose(0, 2, 1), self.columns)

    def var(self) -> pd.DataFrame:
        """Variance over samples (``ddof=0``, as skpro's ``Empirical.var``)."""
        return self._table(self.values.var(axis=1).transpose(0, 2, 1), self.columns)

    def to_frame(self) -> pd.DataFrame:
        """All paths: rows ``(sample, [instance levels,] time)``, columns as the data."""
        rows = self.row_index()
        n_samples = self.n_samples
        # a copy: the frame is the caller's, the paths may be shared by later calls
        array = self.values.transpose(1, 0, 3, 2).reshape(-1, self.values.shape[2]).copy()
        sample_level = np.repeat(np.arange(n_samples), len(rows))
        tiled = rows.take(np.tile(np.arange(len(rows)), n_samples))
        if isinstance(tiled, pd.MultiIndex):
            levels = [tiled.get_level_values(i) for i in range(tiled.nlevels)]
        else:
            levels = [tiled]
        index = pd.MultiIndex.from_arrays(
            [sample_level, *levels], names=["sample", *rows.names]
        )
        return pd.DataFrame(array, index=index, columns=self.columns)

    def empirical(self):
        """The skpro ``Empirical`` distribution over whole paths (``time_indep=False``)."""
        from skpro.distributions import Empirical

        return Empirical(
            spl=self.to_frame(),
            time_indep=False,
            index=self.row_index(),
            columns=self.columns,
        )
