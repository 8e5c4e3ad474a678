"""The wide data sets of the generation benchmark and their held-out split.

Each data set is one multivariate series, min-max scaled per column over the whole
series (as TimeGAN scales its data). It is cut into blocks of five windows; every fifth
block is held out. Training windows slide (stride 1) over each run of training blocks,
held-out windows over each held-out block, so no held-out window shares a step with a
training window, and both come from all parts of the series (a time split would score
the series' drift, not the generator).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from sktime_diffusion.datasets import (
    data_path,
    load_ett,
    make_correlated_series,
)

#: name -> (columns, source); the loaders below read them
WIDE_SOURCES = {
    "etth1": (7, "ETT/ETTh1.csv (Zhou et al., CC BY-ND 4.0), shared data"),
    "etth2": (7, "ETT/ETTh2.csv (Zhou et al., CC BY-ND 4.0), shared data"),
    "exchange": (8, "exchange_rate/exchange_rate.txt (LSTNet), shared data"),
    "weather": (21, "ltsf_weather_ili/weather.csv (MPI-BGC Jena), shared data"),
    "correlated": (32, "make_correlated_series(20_000, 32 features, random_state=0)"),
}

#: windows per block, and every how many blocks one is held out
BLOCK_WINDOWS, HELD_OUT_EVERY = 5, 5


def load_wide(name: str, data_dir: str | None) -> np.ndarray:
    """One wide data set, min-max scaled per column: shape (n_timepoints, n_columns)."""
    if name in ("etth1", "etth2"):
        values = load_ett("ETTh1" if name == "etth1" else "ETTh2", data_dir).to_numpy()
    elif name == "exchange":
        path = data_path("exchange_rate/exchange_rate.txt", data_dir)
        values = pd.read_csv(path, header=None, dtype=np.float64).to_numpy()
    elif name == "weather":
        path = data_path("ltsf_weather_ili/weather.csv", data_dir)
        frame = pd.read_csv(path, encoding="latin-1").drop(columns="date")
        values = frame.to_numpy(np.float64)
    elif name == "correlated":
        values = make_correlated_series(20_000, n_features=32, random_state=0).to_numpy()
    else:
        raise ValueError(f"unknown data set {name!r}; known: {', '.join(WIDE_SOURCES)}")
    low, high = values.min(axis=0), values.max(axis=0)
    return (values - low) / (high - low + 1e-7)


def held_out_split(values: np.ndarray, length: int) -> tuple[np.ndarray, np.ndarray]:
    """Training and held-out windows of ``values`` (see the module docstring).

    Parameters
    ----------
    values : np.ndarray of shape (n_timepoints, n_columns)
    length : int
        Steps per window.

    Returns
    -------
    train, held_out : np.ndarray of shape (n, length, n_columns)
        Windows in time order.
    """
    block = BLOCK_WINDOWS * length
    held_out_block = np.arange(len(values)) // block % HELD_OUT_EVERY == HELD_OUT_EVERY - 1
    train, held_out = [], []
    # runs of equal membership: (start, stop, held out or not)
    edges = np.flatnonzero(np.diff(held_out_block.astype(int))) + 1
    for start, stop in zip(np.r_[0, edges], np.r_[edges, len(values)], strict=True):
        if stop - start < length:
            continue
        windows = np.lib.stride_tricks.sliding_window_view(
            values[start:stop], length, axis=0
        ).transpose(0, 2, 1)
        (held_out if held_out_block[start] else train).append(windows)
    return np.concatenate(train), np.concatenate(held_out)
