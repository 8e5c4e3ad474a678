"""Imputation benchmark: DiffusionImputer next to classical imputers, on the same masks.

Run from the repository root (``pip install -e ".[bench]"`` first)::

    python benchmarks/imputation.py --data-dir ../shared/data
    python benchmarks/imputation.py --data-dir ../shared/data --methods linear,diffusion
    python benchmarks/imputation.py --data-dir ../shared/data --data ETTm1 --seeds 0,1,2 \
        --methods linear,diffusion-default --variant 'jitter={"level_jitter": 0.3}'

Protocol (the imputer issue's): ETTh1 (``ETT/ETTh1.csv``; source: the ETDataset
repository, CC BY-ND 4.0), all 7 columns; rows [0, 10452) train, [10452, 13936)
validation, [13936, 17420) test; each column z-scored with the training rows' mean and
standard deviation; windows of 48 steps; test windows non-overlapping (72 windows, the
last 28 test rows dropped). Two masks over the test windows, drawn with
``numpy.random.default_rng(2024)`` and shared by every method:

- ``random``: each entry hidden with probability 0.1 (``rng.random(shape) < 0.1``);
- ``gaps``: for each column of each window, with probability 0.2 one gap of 24
  consecutive steps at a uniformly drawn start (interpolation is weak there).

Scores on the hidden entries only, in standardised units: MAE and MSE of the point
imputation (the median of the samples for sampling methods), CRPS from the samples
(:func:`sktime_diffusion.metrics.crps_from_samples`; the deterministic methods' CRPS is
their MAE), and the coverage of the central 50/80/90/95% intervals from the empirical
quantiles of 100 samples (e.g. 5% / 95% for 90%). Training and inference seconds are
wall-clock; peak memory is the peak resident set of a fresh process that runs the one
method (a spawned child per method, so it includes the Python and torch start-up, about
the same for every method).

Methods: per-window mean of the observed entries, last observation carried forward
(backward at the window start), linear interpolation (nearest value at the edges),
``DiffusionImputer`` (defaults, and with the ``--budget`` training time), and with
``--methods`` also PyPOTS SAITS and CSDI (``bench`` extra; trained on the same
training windows, validated on the validation rows, their own default sizes scaled to
this data as in PyPOTS' examples).

``--data`` runs the same protocol (same rows, windows, masks and scores; z-scored
with the training rows' statistics) on another file, to check that a choice made on
ETTh1 holds elsewhere: ``ETTh2`` or ``ETTm1`` (``ETT/<name>.csv``, the same seven
columns; ETTm1's rows are 15-minute steps, so the rows span a quarter of the time) or
``weather`` (``ltsf_weather_ili/weather.csv``, the Jena weather station's 21
columns every 10 minutes, as distributed with the long-term forecasting benchmarks).
``--seeds`` lists ``random_state`` values of ``DiffusionImputer`` (0 by default; the
masks do not change with them): each diffusion method is trained once per seed, and
with several seeds the table shows each method's mean scores over them (the CSV keeps
every seed's rows). ``--variant NAME=JSON`` adds a method NAME, the default imputer
with those parameters, so that a change is measured next to the defaults in one run.
"""

from __future__ import annotations

import argparse
import multiprocessing
import resource
import time
from pathlib import Path

import numpy as np
import pandas as pd
from _pypots import small_csdi
from _report import (
    COVERAGE_COLUMNS,
    coverage_scores,
    diffusion_parameters,
    environment_line,
    interval_levels,
    markdown_table,
)

TRAIN_END, VALIDATION_END, TEST_END = 10452, 13936, 17420
WINDOW, N_SAMPLES, SEED = 48, 100, 2024
METHODS = ["mean", "locf", "linear", "diffusion-default", "diffusion"]


# ------------------------------------------------------------------------ data
DATA_SETS = ("ETTh1", "ETTh2", "ETTm1", "weather")


def load_standardised(
    data_dir: str | None, data: str = "ETTh1"
) -> tuple[np.ndarray, pd.Index, list[str]]:
    """A data set as an array (rows, columns), z-scored with the training rows' stats."""
    from sktime_diffusion.datasets import data_path, load_ett

    if data == "weather":
        path = data_path("ltsf_weather_ili/weather.csv", data_dir)
        frame = pd.read_csv(path, index_col="date", encoding="latin-1")
    else:
        frame = load_ett(data, data_dir)
    values = frame.to_numpy(np.float64)[:TEST_END]
    train = values[:TRAIN_END]
    values = (values - train.mean(axis=0)) / np.maximum(train.std(axis=0), 1e-12)
    return values, frame.index[:TEST_END], list(frame.columns)


#: rows whose windows are scored (``--rows``): the protocol's test rows, or as many
#: rows of the validation or the training part, to tell generalisation from fit
SCORED_ROWS = {
    "test": (VALIDATION_END, TEST_END),
    "validation": (TRAIN_END, VALIDATION_END),
    "train": (0, TEST_END - VALIDATION_END),
}


def scored_windows(values: np.ndarray, rows: str = "test") -> np.ndarray:
    """Non-overlapping windows of the scored rows, shape (72, 48, 7)."""
    start, end = SCORED_ROWS[rows]
    scored = values[start:end]
    n_windows = len(scored) // WINDOW
    return scored[: n_windows * WINDOW].reshape(n_windows, WINDOW, -1)


def draw_mask(kind: str, shape: tuple[int, int, int]) -> np.ndarray:
    """Hidden entries (True) of the test windows; the same for every method."""
    rng = np.random.default_rng(SEED)
    if kind == "random":
        return rng.random(shape) < 0.1
    n_windows, length, n_columns = shape
    hidden = np.zeros(shape, dtype=bool)
    has_gap = rng.random((n_windows, n_columns)) < 0.2
    starts = rng.integers(0, length - 24 + 1, size=(n_windows, n_columns))
    for window, column in zip(*np.nonzero(has_gap), strict=True):
        start = starts[window, column]
        hidden[window, start : start + 24, column] = True
    return hidden


# ------------------------------------------------------------------------ methods
def classical(method: str, gappy: np.ndarray) -> np.ndarray:
    """Fill each window and column on its own; shape as ``gappy`` (windows, L, F)."""
    frames = []
    for window in gappy:
        frame = pd.DataFrame(window)
        if method == "mean":
            frame = frame.fillna(frame.mean()).fillna(0.0)
        elif method == "locf":
            frame = frame.ffill().bfill().fillna(0.0)
        else:
            frame = frame.interpolate(limit_direction="both").fillna(0.0)
        frames.append(frame.to_numpy())
    return np.stack(frames)[None]  # one "sample"


def as_panel(windows: np.ndarray, columns: list[str]) -> pd.DataFrame:
    """Windows (n, L, F) as an sktime pd-multiindex panel."""
    n_windows, length, _ = windows.shape
    index = pd.MultiIndex.from_product(
        [range(n_windows), range(length)], names=["window", "step"]
    )
    return pd.DataFrame(windows.reshape(-1, windows.shape[2]), index=index, columns=columns)


def diffusion(
    train: np.ndarray,
    columns: list[str],
    budget: float | None,
    extra: dict,
    seed: int = 0,
) -> tuple[object, float]:
    """DiffusionImputer fitted on the training rows; (imputer, fit seconds)."""
    from sktime_diffusion import DiffusionImputer

    params = {"window_length": WINDOW, "n_samples": N_SAMPLES, "random_state": seed}
    if budget is not None:
        params.update(training_steps=10**6, max_time=budget)
    params.update(extra)
    imputer = DiffusionImputer(**params)
    started = time.perf_counter()
    imputer.fit(pd.DataFrame(train, columns=columns))
    return imputer, time.perf_counter() - started


def pypots(name: str, train: np.ndarray, validation: np.ndarray) -> tuple[object, float]:
    """PyPOTS SAITS or CSDI trained on windows of the training rows."""
    from pypots.imputation import SAITS

    def windows(values: np.ndarray) -> np.ndarray:
        n = len(values) // WINDOW
        return values[: n * WINDOW].reshape(n, WINDOW, -1).astype("float32")

    validation_windows = windows(validation)
    hidden = np.random.default_rng(SEED + 1).random(validation_windows.shape) < 0.1
    validation_set = {
        "X": np.where(hidden, np.nan, validation_windows),
        "X_ori": validation_windows,
    }
    training = {"epochs": 100, "batch_size": 32, "device": "cpu", "verbose": False}
    if name == "saits":
        model = SAITS(
            n_steps=WINDOW,
            n_features=train.shape[1],
            n_layers=2,
            d_model=256,
            n_heads=4,
            d_k=64,
            d_v=64,
            d_ffn=128,
            dropout=0.1,
            patience=10,
            **training,
        )
    else:
        model = small_csdi(WINDOW, train.shape[1], patience=5, **training)
    started = time.perf_counter()
    model.fit({"X": windows(train)}, validation_set)
    return model, time.perf_counter() - started


def impute(method: str, model, gappy: np.ndarray, columns: list[str]) -> np.ndarray:
    """Samples (n_samples, windows, L, F) of the hidden entries' values."""
    if method in ("mean", "locf", "linear"):
        return classical(method, gappy)
    if method.startswith("diffusion"):
        samples = model.transform_samples(as_panel(gappy, columns))
        return samples.to_numpy().reshape(N_SAMPLES, *gappy.shape)
    if method == "saits":
        return model.predict({"X": gappy.astype("float32")})["imputation"][None]
    result = model.predict({"X": gappy.astype("float32")}, n_sampling_times=N_SAMPLES)
    return np.moveaxis(result["imputation"], 1, 0)


# ------------------------------------------------------------------------ scoring
def score(samples: np.ndarray, truth: np.ndarray, hidden: np.ndarray) -> dict[str, float]:
    from sktime_diffusion.metrics import crps_from_samples

    draws = samples[:, hidden]  # (S, n_hidden)
    observed = truth[hidden]
    point = np.median(draws, axis=0)
    row = {
        "MAE": float(np.abs(point - observed).mean()),
        "MSE": float(((point - observed) ** 2).mean()),
        "CRPS": float(crps_from_samples(draws, observed).mean()),
    }
    if len(draws) > 1:
        levels = interval_levels()
        bounds = dict(zip(levels, np.quantile(draws, levels, axis=0), strict=True))
        row.update(coverage_scores(bounds.__getitem__, observed))
    else:
        row.update(dict.fromkeys(COVERAGE_COLUMNS, float("nan")))
    return row


def run_method(
    method: str,
    mask_kinds: list[str],
    data_dir: str | None,
    budget: float,
    diffusion_params: dict,
    rows_scored: str = "test",
    data: str = "ETTh1",
    seed: int = 0,
) -> list[dict]:
    """One method, trained once, scored on every mask, in the current process."""
    values, _, columns = load_standardised(data_dir, data)
    truth = scored_windows(values, rows_scored)
    model, fit_seconds = None, 0.0
    if method.startswith("diffusion"):
        model, fit_seconds = diffusion(
            values[:TRAIN_END],
            columns,
            None if method == "diffusion-default" else budget,
            diffusion_params,
            seed,
        )
    elif method in ("saits", "csdi"):
        model, fit_seconds = pypots(
            method, values[:TRAIN_END], values[TRAIN_END:VALIDATION_END]
        )
    rows = []
    for mask_kind in mask_kinds:
        hidden = draw_mask(mask_kind, truth.shape)
        gappy = np.where(hidden, np.nan, truth)
        started = time.perf_counter()
        samples = np.asarray(impute(method, model, gappy, columns), dtype=np.float64)
        predict_seconds = time.perf_counter() - started
        row = {"method": method, "mask": mask_kind, "hidden": int(hidden.sum())}
        row.update(score(samples, truth, hidden))
        sampled = len(samples) > 1
        row.update(
            {
                "train s": fit_seconds,
                "inference s": predict_seconds,
                "window-samples/s": truth.shape[0] * len(samples) / predict_seconds
                if sampled
                else float("nan"),
                "peak MB": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
            }
        )
        rows.append(row)
    return rows


def _child(queue, *args) -> None:
    queue.put(run_method(*args))


def run_isolated(*args) -> list[dict]:
    """:func:`run_method` in a spawned process, so its peak memory is its own."""
    context = multiprocessing.get_context("spawn")
    queue = context.Queue()
    process = context.Process(target=_child, args=(queue, *args))
    process.start()
    row = queue.get()
    process.join()
    return row


def _parse_variants(texts: list[str]) -> dict[str, dict]:
    """``--variant NAME=JSON`` options as {name: DiffusionImputer parameters}."""
    variants = {}
    for text in texts:
        name, separator, params = text.partition("=")
        if not separator or not name.strip():
            raise SystemExit(f"--variant needs NAME=JSON, got {text!r}")
        variants[name.strip()] = diffusion_parameters(params)
    return variants


def seed_means(rows: list[dict]) -> list[dict]:
    """One row per method and mask: means over the seeds of the numeric scores."""
    groups: dict[tuple[str, str], list[dict]] = {}
    for row in rows:
        groups.setdefault((row["method"], row["mask"]), []).append(row)
    summary = []
    for (method, mask), group in groups.items():
        row = {"method": method, "mask": mask, "seeds": len(group)}
        for key, value in group[0].items():
            if key in row or key == "seed":
                continue
            values = [r[key] for r in group]
            same = all(v == value or (v != v and value != value) for v in values)
            row[key] = value if same else float(np.mean(values))
        summary.append(row)
    return summary


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", default=None, help="folder holding ETT/ETTh1.csv")
    parser.add_argument(
        "--data", choices=DATA_SETS, default="ETTh1", help="the protocol's ETTh1 or another"
    )
    parser.add_argument("--methods", default=",".join(METHODS))
    parser.add_argument("--masks", default="random,gaps")
    parser.add_argument(
        "--budget", type=float, default=420.0, help="training seconds of 'diffusion'"
    )
    parser.add_argument("--csv", type=Path, default=None, help="also write rows here")
    parser.add_argument(
        "--diffusion-params",
        default="{}",
        help="JSON of DiffusionImputer parameters other than the defaults, e.g. "
        "'{\"learning_rate\": 0.001}'",
    )
    parser.add_argument(
        "--variant",
        action="append",
        default=[],
        metavar="NAME=JSON",
        help="an extra method NAME: diffusion-default with these parameters on top of "
        "--diffusion-params, run next to the others (repeatable)",
    )
    parser.add_argument(
        "--seeds",
        default="0",
        help="comma-separated random_state values of DiffusionImputer; each diffusion "
        "method is trained once per seed and the table shows the means",
    )
    parser.add_argument(
        "--rows",
        choices=list(SCORED_ROWS),
        default="test",
        help="rows whose windows are masked and scored: the protocol's test rows, or "
        "as many validation or training rows (the models train on the training rows "
        "either way)",
    )
    args = parser.parse_args()
    seeds = [int(seed) for seed in args.seeds.split(",")]
    base_params = diffusion_parameters(args.diffusion_params)
    variants = _parse_variants(args.variant)
    source = (
        "Jena weather, LTSF files" if args.data == "weather" else "ETDataset, CC BY-ND 4.0"
    )
    print(f"{environment_line()}; data {args.data} ({source}); seeds {seeds}")
    runs = [(method, method, base_params) for method in args.methods.split(",")]
    runs += [
        ("diffusion-default", name, {**base_params, **p}) for name, p in variants.items()
    ]
    rows = []
    for method, name, params in runs:
        for seed in seeds if method.startswith("diffusion") else [0]:
            for row in run_isolated(
                method,
                args.masks.split(","),
                args.data_dir,
                args.budget,
                params,
                args.rows,
                args.data,
                seed,
            ):
                row = {"method": name, **{k: v for k, v in row.items() if k != "method"}}
                if method.startswith("diffusion"):
                    row["seed"] = seed
                rows.append(row)
                print(
                    "  ".join(
                        f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}"
                        for k, v in row.items()
                    ),
                    flush=True,
                )
    if args.csv:
        pd.DataFrame(rows).to_csv(args.csv, index=False)
    table = seed_means(rows) if len(seeds) > 1 else rows
    table.sort(key=lambda row: row["mask"] != "random")
    columns = [c for c in table[0] if c != "seed"]
    if len(seeds) == 1:
        columns = [c for c in columns if c != "seeds"]
    print()
    decimals = {"train s": 1, "inference s": 1, "window-samples/s": 0, "peak MB": 0}
    print(markdown_table(table, columns, decimals))


if __name__ == "__main__":
    main()
