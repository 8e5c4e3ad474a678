"""Does ``contamination`` hold on new normal data? The detector's flagged share measured.

``DiffusionAnomalyDetector(contamination=c)`` promises to flag about a share ``c`` of
normal points. This script checks the promise where it matters, on data the detector
did not see: each series is cut after its first 15% (NAB's probationary period, as in
``benchmarks/anomaly.py``), the detector is fitted on that part, and the rest is scored.
The *held-out normal* points are the points after the fit stretch outside NAB's label
windows (``labels/combined_windows.json``); their share scoring above ``threshold_`` is
set against ``c``. Labels are only used to leave the anomalies out of that share, never
by the detector.

Next to the NAB series, ``synthetic_hourly`` is normal data from one process (hourly, a
daily and a weekly cycle with random day-to-day amplitude and AR(1) noise, 4,000 points,
no anomalies): fitted on its first 15%, every point after it counts.

Columns: the window in use, ``threshold_`` and where it came from
(``threshold_source_``: in-sample by default, out-of-fold with ``threshold_folds``),
the median score over the fit stretch and over the held-out normal points (a model
reconstructs its own training windows better, so the first is lower when it learnt them
by heart), the share of held-out normal points flagged and that share over ``c``, the
flagged share of the normal points more than a window from every labelled point (the
pooled score of an anomaly reaches half a window to each side, and NAB's windows are
narrow), and the fit and scoring seconds.

Run ``OMP_NUM_THREADS=1 python benchmarks/anomaly_threshold.py --data-dir
../shared/data`` (or set ``SKTIME_DIFFUSION_DATA``); ``--diffusion-params`` takes a JSON
object of detector parameters other than the defaults, e.g. ``'{"training_steps": 300}'``.
"""

from __future__ import annotations

import argparse
import json
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
from _report import diffusion_parameters, environment_line, markdown_table

from sktime_diffusion import DiffusionAnomalyDetector
from sktime_diffusion.datasets import load_nab, load_nab_labels, nab_point_labels

SERIES = [
    "realKnownCause/nyc_taxi.csv",
    "realKnownCause/ambient_temperature_system_failure.csv",
    "realAWSCloudwatch/ec2_cpu_utilization_53ea38.csv",
    "realAWSCloudwatch/rds_cpu_utilization_cc0c53.csv",
    "artificialWithAnomaly/art_daily_jumpsup.csv",
    "synthetic_hourly",
]
PROBATION = 0.15
COLUMNS = [
    "series",
    "window",
    "contamination",
    "threshold",
    "threshold from",
    "median score, fit stretch",
    "median score, held-out normal",
    "flagged share, held-out normal",
    "share / contamination",
    "flagged share, a window from labels",
    "fit s",
    "score s",
]


def synthetic_hourly(n: int = 4000, seed: int = 0) -> pd.Series:
    """Normal data of one process: daily and weekly cycles, varying amplitude, AR(1)."""
    rng = np.random.default_rng(seed)
    t = np.arange(n)
    amplitude = np.repeat(1 + 0.2 * rng.standard_normal(n // 24 + 1), 24)[:n]
    weekend = ((t // 24) % 7 >= 5).astype(float)
    noise = np.zeros(n)
    shocks = 0.2 * rng.standard_normal(n)
    for k in range(1, n):
        noise[k] = 0.7 * noise[k - 1] + shocks[k]
    values = amplitude * np.sin(2 * np.pi * t / 24) * (1 - 0.5 * weekend) + noise
    index = pd.date_range("2021-01-04", periods=n, freq="h")
    return pd.Series(values, index=index, name="value")


def far_from_labels(labels: np.ndarray, window: int) -> np.ndarray:
    """Points more than ``window`` steps from every labelled point."""
    reach = pd.Series(labels.astype(float)).rolling(
        2 * window + 1, center=True, min_periods=1
    )
    return reach.max().to_numpy() == 0


def load(name: str, data_dir: str | None) -> tuple[pd.Series, np.ndarray]:
    """A series and its point labels (all False for the synthetic series)."""
    if name == "synthetic_hourly":
        series = synthetic_hourly()
        return series, np.zeros(len(series), dtype=bool)
    series = load_nab(name, data_dir)
    labels = nab_point_labels(series.index, load_nab_labels(name, data_dir))
    return series, labels


def measure(name: str, data_dir: str | None, params: dict) -> dict:
    """Fit on the first 15%, score everything, compare the flagged share with c."""
    series, labels = load(name, data_dir)
    if not (series.index.is_monotonic_increasing and series.index.is_unique):
        series = series.reset_index(drop=True)  # as benchmarks/anomaly.py passes it
    n_train = int(PROBATION * len(series))
    train, test = series.iloc[:n_train], series.iloc[n_train:]
    detector = DiffusionAnomalyDetector(**{"random_state": 0, **params})
    started = time.perf_counter()
    detector.fit(train)
    fit_seconds = time.perf_counter() - started
    started = time.perf_counter()
    test_scores = detector.transform_scores(test)["scores"].to_numpy()
    score_seconds = time.perf_counter() - started
    fit_scores = detector.transform_scores(train)["scores"].to_numpy()
    test_labels = labels[n_train:]
    normal = test_scores[~test_labels & np.isfinite(test_scores)]
    share = float(np.mean(normal > detector.threshold_))
    near = far_from_labels(test_labels, detector.window_length_)
    far = test_scores[near & np.isfinite(test_scores)]
    contamination = float(detector.contamination)
    return {
        "series": name.split("/")[-1].removesuffix(".csv"),
        "window": detector.window_length_,
        "contamination": contamination,
        "threshold": detector.threshold_,
        "threshold from": detector.threshold_source_,
        "median score, fit stretch": float(np.nanmedian(fit_scores)),
        "median score, held-out normal": float(np.median(normal)),
        "flagged share, held-out normal": share,
        "share / contamination": share / contamination,
        "flagged share, a window from labels": float(np.mean(far > detector.threshold_)),
        "fit s": fit_seconds,
        "score s": score_seconds,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", default=None, help="folder holding NAB/")
    parser.add_argument("--series", default=None, help="comma-separated subset")
    parser.add_argument("--diffusion-params", default="{}")
    parser.add_argument("--json", type=Path, default=None, help="also write rows here")
    parser.add_argument("--label", default="", help="name of this run in the rows")
    parser.add_argument(
        "--from-json", default=None, help="comma-separated row files: print them"
    )
    args = parser.parse_args()
    decimals = {"fit s": 1, "score s": 1, "share / contamination": 2, "contamination": 3}
    if args.from_json is not None:
        files = args.from_json.split(",")
        rows = [row for path in files for row in json.loads(Path(path).read_text())]
        print(markdown_table(rows, ["run", *COLUMNS], decimals))
        return
    params = diffusion_parameters(args.diffusion_params)
    names = SERIES if args.series is None else args.series.split(",")
    warnings.filterwarnings("ignore")
    print(environment_line())
    print(f"detector parameters other than the defaults: {params}")
    rows = []
    for name in names:
        row = {"run": args.label, **measure(name, args.data_dir, params)}
        rows.append(row)
        print(
            f"  {row['series']}: flagged {row['flagged share, held-out normal']:.3f} "
            f"of held-out normal points (contamination {row['contamination']})",
            flush=True,
        )
        if args.json is not None:
            args.json.write_text(json.dumps(rows, indent=1))
    print(markdown_table(rows, COLUMNS, decimals))


if __name__ == "__main__":
    main()
