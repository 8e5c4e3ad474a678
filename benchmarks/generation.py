"""Generation benchmark: DiffusionGenerator on TimeGAN's data and on wide series.

Protocol (the generator issue, following TimeGAN and Diffusion-TS):

- ``sines``: 10,000 windows of 24 steps with 5 features, each feature
  ``sin(f * t + p)`` with ``f`` and ``p`` uniform on [0, 0.1] (``make_sines``, seed 0);
- ``stocks``: ``<data-dir>/timegan/stock_data.csv`` (Google daily prices, 6 columns, as
  in TimeGAN's repository), put in time order (the file lists the newest day first),
  min-max scaled per column over the whole file, windows of 24 steps with stride 1.

The generator (all defaults but ``random_state=0``) is trained once on all windows of a
data set and draws as many windows as there are real ones. TimeGAN's discriminative
score (``|accuracy - 0.5|`` of a GRU classifier, 2,000 steps, 80/20 split) and
predictive score (a GRU trained on the synthetic windows to predict the last feature one
step ahead, 5,000 steps, MAE on the real windows) are averaged over 5 seeds of those
post-hoc models (mean +- std); the predictive score of the real windows themselves is
the floor. The nearest-neighbour ratio (:func:`sktime_diffusion.metrics.
nearest_neighbour_ratio`) checks for copied training windows: about 1 when synthetic
windows are as far from the training windows as those are from each other, near 0 for
copies. These two follow TimeGAN's protocol: the scores compare the synthetic windows
with the training windows.

The wide data sets (ETTh1 and ETTh2, 7 columns; exchange rates, 8; Jena weather, 21;
``make_correlated_series``, 32 columns with known correlation) also hold windows out
(``_generation_data``: blocks of five windows, every fifth held out, min-max scaled per
column), at window lengths 24 and 96. At most 10,000 training windows (evenly spaced)
train the generator and fit the peers: a multivariate Gaussian of the flattened windows
and copies of training windows drawn with replacement (a block bootstrap with blocks of
one window, the floor of copying). Each model draws 1,000 windows. Discriminative
scores tell them from 1,000 real windows: held-out ones for "MLP, held-out" (an
scikit-learn MLP on flattened windows; on a drifting series even copies of training
windows are told from held-out ones, see the bootstrap row), training windows, as
TimeGAN and Diffusion-TS score, for "MLP" and TimeGAN's "GRU". Then the predictive
score (train on synthetic, MAE on the held-out windows; one seed, as 5,000 GRU steps on
windows of 96 take minutes), marginal, autocorrelation and cross-correlation distances
to the held-out windows, the share of values more than 5% of a column's range outside
the training range, and the nearest-neighbour ratio to the training windows.

Run ``python benchmarks/generation.py --data-dir ../shared/data`` (all data sets), or
``--datasets etth1,weather --lengths 24``; ``--quick`` leaves out the GRU scores of the
wide data sets (most of the time), ``--seeds 2`` runs fewer post-hoc seeds, and
``--diffusion-params '{"network": {"kind": "csdi"}}'`` sets generator parameters.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
from _generation_data import WIDE_SOURCES, held_out_split, load_wide
from _generation_peers import bootstrap_windows, gaussian_windows
from _report import diffusion_parameters, environment_line, markdown_table

from sktime_diffusion import DiffusionGenerator
from sktime_diffusion.datasets import data_path, load_stock_windows, make_sines
from sktime_diffusion.metrics import (
    autocorrelation_distance,
    cross_correlation_distance,
    discriminative_score,
    marginal_distance,
    mlp_discriminative_score,
    nearest_neighbour_ratio,
    out_of_range_share,
    predictive_score,
)

LENGTH = 24
#: seeds of the post-hoc models of the scores (``--seeds`` changes how many)
SEEDS = 5
#: the wide data sets' caps: training windows, and windows each score compares
MAX_TRAINING_WINDOWS, SCORED_WINDOWS = 10_000, 1_000


def sines() -> np.ndarray:
    panel = make_sines(n_series=10_000, length=LENGTH, n_features=5, random_state=0)
    return panel.to_numpy().reshape(10_000, LENGTH, 5)


def stocks(data_dir: str | None) -> np.ndarray:
    return load_stock_windows(data_path("timegan/stock_data.csv", data_dir), LENGTH)


def mean_std(values: list[float]) -> str:
    return f"{np.mean(values):.3f} +- {np.std(values):.3f}"


def evaluate_timegan(
    name: str,
    real: np.ndarray,
    max_time: float | None,
    training_steps: int | None,
    seeds: int = SEEDS,
    generator_params: dict | None = None,
) -> dict:
    """Train, sample and score one data set; ``real`` is (n, length, n_features).

    Stock windows overlap (one series, stride 1): for the nearest-neighbour ratio, real
    windows less than a window apart are not each other's neighbours.
    """
    started = time.perf_counter()
    generator = DiffusionGenerator(
        **{
            "random_state": 0,
            "max_time": max_time,
            "training_steps": training_steps,
            **(generator_params or {}),
        }
    )
    generator.fit(np.ascontiguousarray(real.transpose(0, 2, 1)))
    trained = time.perf_counter()
    synthetic = generator.sample(len(real)).transpose(0, 2, 1)
    sampled = time.perf_counter()
    discriminative, predictive, floor = [], [], []
    for seed in range(seeds):
        discriminative.append(discriminative_score(real, synthetic, random_state=seed))
        predictive.append(predictive_score(real, synthetic, random_state=seed))
        floor.append(predictive_score(real, real, random_state=seed))
    return {
        "data": name,
        "windows": len(real),
        "discriminative": mean_std(discriminative),
        "predictive": mean_std(predictive),
        "predictive (real data)": mean_std(floor),
        "marginal distance": marginal_distance(real, synthetic),
        "autocorrelation distance": autocorrelation_distance(real, synthetic),
        "nearest-neighbour ratio": nearest_neighbour_ratio(
            real, synthetic, exclusion=LENGTH if name == "stocks" else 0
        ),
        "training steps": generator.training_history_.n_steps,
        "train s": trained - started,
        "sample s": sampled - trained,
    }


def evenly_spaced(windows: np.ndarray, most: int) -> tuple[np.ndarray, int]:
    """At most ``most`` windows, evenly spaced, and the spacing (1 if all are kept)."""
    step = max(1, int(np.ceil(len(windows) / most)))
    return windows[::step], step


def evaluate_held_out(
    name: str,
    length: int,
    data_dir: str | None,
    max_time: float | None,
    training_steps: int | None,
    seeds: int = SEEDS,
    quick: bool = False,
    generator_params: dict | None = None,
) -> list[dict]:
    """The generator and its peers on one wide data set: one row per model.

    ``quick`` leaves out the GRU scores (discriminative and predictive), which take
    most of the time: a screening run.
    """
    train, held_out = held_out_split(load_wide(name, data_dir), length)
    train, step = evenly_spaced(train, MAX_TRAINING_WINDOWS)
    rng = np.random.default_rng(0)
    n_scored = min(SCORED_WINDOWS, len(held_out))
    scored = held_out[np.sort(rng.choice(len(held_out), n_scored, replace=False))]
    scored_train = train[np.sort(rng.choice(len(train), n_scored, replace=False))]
    started = time.perf_counter()
    generator = DiffusionGenerator(
        **{
            "random_state": 0,
            "max_time": max_time,
            "training_steps": training_steps,
            **(generator_params or {}),
        }
    )
    generator.fit(np.ascontiguousarray(train.transpose(0, 2, 1)))
    trained = time.perf_counter()
    diffusion = generator.sample(n_scored).transpose(0, 2, 1)
    sampled = time.perf_counter()
    models = {
        "DiffusionGenerator": (diffusion, trained - started, sampled - trained),
        "Gaussian": (gaussian_windows(train, n_scored), np.nan, np.nan),
        "bootstrap (copies)": (bootstrap_windows(train, n_scored), np.nan, np.nan),
    }
    # stride-1 training windows less than a window apart overlap
    exclusion = int(np.ceil(length / step))
    rows = []
    for model, (synthetic, train_s, sample_s) in models.items():
        mlp_held_out, mlp, gru = [], [], []
        for seed in range(seeds):
            mlp_held_out.append(mlp_discriminative_score(scored, synthetic, seed))
            mlp.append(mlp_discriminative_score(scored_train, synthetic, seed))
            if not quick:
                gru.append(discriminative_score(scored_train, synthetic, random_state=seed))
        predictive = None if quick else predictive_score(scored, synthetic)
        rows.append(
            {
                "data": name,
                "length": length,
                "columns": train.shape[-1],
                "model": model,
                "discriminative (MLP, held-out)": mean_std(mlp_held_out),
                "discriminative (MLP)": mean_std(mlp),
                "discriminative (GRU)": mean_std(gru) if gru else None,
                "predictive": predictive,
                "marginal": marginal_distance(scored, synthetic),
                "autocorrelation": autocorrelation_distance(scored, synthetic),
                "cross-correlation": cross_correlation_distance(scored, synthetic),
                "outside range": out_of_range_share(train, synthetic),
                "nearest-neighbour ratio": nearest_neighbour_ratio(
                    train, synthetic, exclusion=exclusion
                ),
                "training windows": len(train),
                "training steps": (
                    generator.training_history_.n_steps
                    if model == "DiffusionGenerator"
                    else np.nan
                ),
                "train s": train_s,
                "sample s": sample_s,
            }
        )
        # a quick run has no GRU scores: leave their columns out
        rows[-1] = {key: value for key, value in rows[-1].items() if value is not None}
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", default=None, help="folder of the shared data")
    parser.add_argument("--datasets", default=",".join(["sines", "stocks", *WIDE_SOURCES]))
    parser.add_argument(
        "--lengths", default="24,96", help="window lengths of the wide data sets"
    )
    parser.add_argument("--max-time", type=float, default=None, help="training seconds")
    parser.add_argument(
        "--training-steps", type=int, default=None, help="optimiser steps (None: auto)"
    )
    parser.add_argument(
        "--seeds", type=int, default=SEEDS, help="seeds of the discriminative scores"
    )
    parser.add_argument(
        "--quick", action="store_true", help="wide data sets without the GRU scores"
    )
    parser.add_argument(
        "--diffusion-params",
        default="{}",
        help="DiffusionGenerator parameters as JSON (see the module docstring)",
    )
    parser.add_argument("--json", type=Path, default=None, help="also write rows here")
    args = parser.parse_args()
    generator_params = diffusion_parameters(args.diffusion_params)
    print(environment_line())
    timegan_rows, wide_rows = [], []
    for name in args.datasets.split(","):
        if name in ("sines", "stocks"):
            real = sines() if name == "sines" else stocks(args.data_dir)
            timegan_rows.append(
                evaluate_timegan(
                    name,
                    real,
                    args.max_time,
                    args.training_steps,
                    args.seeds,
                    generator_params,
                )
            )
            print(f"  {name} done", flush=True)
            continue
        if name not in WIDE_SOURCES:
            raise SystemExit(f"unknown data set {name!r}")
        for length in map(int, args.lengths.split(",")):
            wide_rows += evaluate_held_out(
                name,
                length,
                args.data_dir,
                args.max_time,
                args.training_steps,
                args.seeds,
                args.quick,
                generator_params,
            )
            print(f"  {name}, windows of {length}: done", flush=True)
            if args.json is not None:
                args.json.write_text(json.dumps(timegan_rows + wide_rows, indent=1))
    seconds = {"train s": 0, "sample s": 0, "training steps": 0}
    if timegan_rows:
        print(markdown_table(timegan_rows, list(timegan_rows[0]), seconds))
    if wide_rows:
        print("\nSources: " + "; ".join(f"{n}: {s}" for n, (_, s) in WIDE_SOURCES.items()))
        print(markdown_table(wide_rows, list(wide_rows[0]), seconds))
    if args.json is not None:
        args.json.write_text(json.dumps(timegan_rows + wide_rows, indent=1))


if __name__ == "__main__":
    main()
