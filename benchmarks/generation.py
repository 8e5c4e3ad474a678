"""Generation benchmark: DiffusionGenerator on TimeGAN's sines and stocks.

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
copies. Run ``python benchmarks/generation.py --data-dir ../shared/data``.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
from _report import environment_line, markdown_table

from sktime_diffusion import DiffusionGenerator
from sktime_diffusion.datasets import data_path, load_stock_windows, make_sines
from sktime_diffusion.metrics import (
    autocorrelation_distance,
    discriminative_score,
    marginal_distance,
    nearest_neighbour_ratio,
    predictive_score,
)

LENGTH = 24
SEEDS = range(5)


def sines() -> np.ndarray:
    panel = make_sines(n_series=10_000, length=LENGTH, n_features=5, random_state=0)
    return panel.to_numpy().reshape(10_000, LENGTH, 5)


def stocks(data_dir: str | None) -> np.ndarray:
    return load_stock_windows(data_path("timegan/stock_data.csv", data_dir), LENGTH)


def mean_std(values: list[float]) -> str:
    return f"{np.mean(values):.3f} +- {np.std(values):.3f}"


def evaluate(
    name: str, real: np.ndarray, max_time: float | None, training_steps: int | None
) -> dict:
    """Train, sample and score one data set; ``real`` is (n, length, n_features).

    Stock windows overlap (one series, stride 1): for the nearest-neighbour ratio, real
    windows less than a window apart are not each other's neighbours.
    """
    started = time.perf_counter()
    generator = DiffusionGenerator(
        random_state=0, max_time=max_time, training_steps=training_steps
    )
    generator.fit(np.ascontiguousarray(real.transpose(0, 2, 1)))
    trained = time.perf_counter()
    synthetic = generator.sample(len(real)).transpose(0, 2, 1)
    sampled = time.perf_counter()
    discriminative = [discriminative_score(real, synthetic, random_state=s) for s in SEEDS]
    predictive = [predictive_score(real, synthetic, random_state=s) for s in SEEDS]
    floor = [predictive_score(real, real, random_state=s) for s in SEEDS]
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", default=None, help="folder holding timegan/")
    parser.add_argument("--datasets", default="sines,stocks")
    parser.add_argument("--max-time", type=float, default=None, help="training seconds")
    parser.add_argument(
        "--training-steps", type=int, default=None, help="optimiser steps (None: auto)"
    )
    parser.add_argument("--json", type=Path, default=None, help="also write rows here")
    args = parser.parse_args()
    print(environment_line())
    rows = []
    for name in args.datasets.split(","):
        real = sines() if name == "sines" else stocks(args.data_dir)
        rows.append(evaluate(name, real, args.max_time, args.training_steps))
        print(f"  {name} done", flush=True)
    columns = list(rows[0])
    print(markdown_table(rows, columns, {"train s": 0, "sample s": 0}))
    if args.json is not None:
        args.json.write_text(json.dumps(rows, indent=1))


if __name__ == "__main__":
    main()
