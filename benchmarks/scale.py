"""Scale: memory and throughput of the forecaster and the imputer on big data shapes.

Run from the repository root::

    python benchmarks/scale.py [--cases a,b,c] [--tasks forecast,impute]
        [--fractions 0.01,0.1,1] [--training-steps 30] [--n-samples 10]

Synthetic data of the scale issue's shapes, made in the script (random walks, float32):
(a) one series of 1,000,000 hourly points x 8 columns; (b) a panel of 10,000 series x
500 hourly points, one column; (c) 26,304 hourly points x 321 columns (the shape of the
electricity data). Each case runs at each fraction of its size (of the time points for
a and c, of the series for b) in a process of its own, so its peak resident memory
(``ru_maxrss``) is its own:

- ``forecast``: ``DiffusionForecaster(training_steps=..., n_samples=...)`` fits with
  ``fh=1..24`` and predicts;
- ``impute``: 5% of the entries are hidden at random, ``DiffusionImputer(
  training_steps=..., n_samples=..., n_models=1)`` fits and transforms.

Columns: the data's size as float32, peak RSS, RSS before the fit (Python, torch and
the data), fit and predict / transform seconds, training windows per second
(optimiser steps x batch / fit seconds), window-samples per second (windows handed to
the sampler x samples / predict seconds, counted by wrapping the engine's ``generate``)
and the ratio of each to the smallest fraction's. The training budget is tiny: the
benchmark measures what grows with the data, not the quality of the forecasts.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
import warnings

import numpy as np
import pandas as pd

CASES = {
    "a": {"what": "1 series x 1,000,000 points x 8 columns", "shape": (1, 1_000_000, 8)},
    "b": {"what": "10,000 series x 500 points x 1 column", "shape": (10_000, 500, 1)},
    "c": {"what": "1 series x 26,304 points x 321 columns", "shape": (1, 26_304, 321)},
}
HORIZON = 24


def make_data(case: str, fraction: float, seed: int = 0) -> pd.DataFrame:
    """Random walks of a case's shape, ``fraction`` of its series (b) or points (a, c)."""
    n_series, n_points, n_columns = CASES[case]["shape"]
    if n_series > 1:
        n_series = max(1, round(n_series * fraction))
    else:
        n_points = max(4 * HORIZON * 4, round(n_points * fraction))
    rng = np.random.default_rng(seed)
    values = rng.normal(size=(n_series * n_points, n_columns)).astype(np.float32)
    values = values.reshape(n_series, n_points, n_columns).cumsum(axis=1)
    columns = [f"c{i}" for i in range(n_columns)]
    times = pd.date_range("2000-01-01", periods=n_points, freq="h")
    if n_series == 1:
        return pd.DataFrame(values[0], index=times, columns=columns)
    index = pd.MultiIndex.from_product([range(n_series), times], names=["series", "time"])
    return pd.DataFrame(values.reshape(-1, n_columns), index=index, columns=columns)


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def measure(case: str, task: str, fraction: float, steps: int, n_samples: int) -> dict:
    """One run of ``task`` on ``case`` at ``fraction``, in this process."""
    import sktime_diffusion._estimator_engine as estimator_engine
    import sktime_diffusion.engine.outpainting as outpainting
    from sktime_diffusion import DiffusionForecaster, DiffusionImputer

    warnings.filterwarnings("ignore")
    data = make_data(case, fraction)
    sampled = {"windows": 0}
    original_generate = estimator_engine.generate

    def counting_generate(model, condition, n_samples=1, **options):
        sampled["windows"] += condition.shape[0] * n_samples
        return original_generate(model, condition, n_samples, **options)

    estimator_engine.generate = outpainting.generate = counting_generate
    before = _peak_mb()
    started = time.perf_counter()
    if task == "forecast":
        estimator = DiffusionForecaster(
            training_steps=steps, n_samples=n_samples, random_state=0
        )
        estimator.fit(data, fh=list(range(1, HORIZON + 1)))
        fitted = time.perf_counter()
        estimator.predict()
        history = estimator.training_history_
    else:
        hidden = data.copy()
        mask = np.random.default_rng(1).random(hidden.shape) < 0.05
        hidden = hidden.mask(mask)
        estimator = DiffusionImputer(
            training_steps=steps, n_samples=n_samples, n_models=1, random_state=0
        )
        estimator.fit(hidden)
        fitted = time.perf_counter()
        estimator.transform(hidden)
        history = estimator.training_histories_[0]
    done = time.perf_counter()
    batch = int(estimator.batch_size)
    return {
        "case": case,
        "task": task,
        "fraction": fraction,
        "rows": len(data),
        "columns": data.shape[1],
        "data MB": data.to_numpy(np.float32).nbytes / 2**20,
        "RSS before fit MB": before,
        "peak RSS MB": _peak_mb(),
        "fit s": fitted - started,
        "use s": done - fitted,
        "training windows/s": history.n_steps * batch / (fitted - started),
        "window-samples": sampled["windows"],
        "window-samples/s": sampled["windows"] / (done - fitted),
    }


def run_in_own_process(case, task, fraction, steps, n_samples) -> dict:
    """:func:`measure` in a fresh interpreter, so the peak memory is that run's."""
    command = [
        sys.executable,
        __file__,
        "--worker",
        json.dumps([case, task, fraction, steps, n_samples]),
    ]
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        return {
            "case": case,
            "task": task,
            "fraction": fraction,
            "error": (result.stderr.strip().splitlines() or ["killed"])[-1],
        }
    return json.loads(result.stdout.strip().splitlines()[-1])


COLUMNS = [
    "case",
    "task",
    "fraction",
    "rows",
    "columns",
    "data MB",
    "RSS before fit MB",
    "peak RSS MB",
    "fit s",
    "use s",
    "training windows/s",
    "window-samples",
    "window-samples/s",
    "throughput vs smallest",
    "sampling s per window-sample vs smallest",
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", default="a,b,c")
    parser.add_argument("--tasks", default="forecast,impute")
    parser.add_argument("--fractions", default="0.01,0.1,1")
    parser.add_argument("--training-steps", type=int, default=30)
    parser.add_argument("--n-samples", type=int, default=10)
    parser.add_argument("--json", default=None, help="also write the rows here")
    parser.add_argument("--worker", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker is not None:
        print(json.dumps(measure(*json.loads(args.worker))))
        return

    from _report import environment_line, markdown_table

    print(environment_line())
    fractions = [float(f) for f in args.fractions.split(",")]
    rows = []
    for case in args.cases.split(","):
        for task in args.tasks.split(","):
            smallest = None
            for fraction in fractions:
                row = run_in_own_process(
                    case, task, fraction, args.training_steps, args.n_samples
                )
                if "error" not in row:
                    smallest = smallest or row
                    row["throughput vs smallest"] = (
                        row["training windows/s"] / smallest["training windows/s"]
                    )
                    per_sample = row["use s"] / max(row["window-samples"], 1)
                    first = smallest["use s"] / max(smallest["window-samples"], 1)
                    row["sampling s per window-sample vs smallest"] = per_sample / first
                rows.append(row)
                print(f"  {case} {task} {fraction}: {row.get('error', 'done')}", flush=True)
    for case in args.cases.split(","):
        print(f"({case}) {CASES[case]['what']}")
    decimals = {"fraction": 3, "data MB": 1, "RSS before fit MB": 0, "peak RSS MB": 0}
    decimals |= {"fit s": 1, "use s": 1, "training windows/s": 0, "window-samples/s": 0}
    print(markdown_table(rows, COLUMNS + ["error"], decimals))
    if args.json:
        with open(args.json, "w") as handle:
            json.dump(rows, handle, indent=1)


if __name__ == "__main__":
    main()
