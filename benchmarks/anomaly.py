"""Anomaly benchmark: DiffusionAnomalyDetector next to classical detectors on NAB.

Protocol (the detector issue): the 14 NAB series of ``<data-dir>/NAB`` that have label
windows in ``labels/combined_windows.json``. Each series is cut after its first 15%
(NAB's probationary period): detectors that learn fit on that part, and every method
scores the rest, one score per point. A point is anomalous when it lies in one of NAB's
label windows. Metrics per series: AUC-PR (scikit-learn's average precision), AUC-ROC,
the best F1 over all thresholds on point scores, and, labelled as such, the best
point-adjusted F1 (a whole window counts as found when one point of it is flagged),
which random scores inflate too. The mean over the series and the number of series
where DiffusionAnomalyDetector's AUC-PR beats IsolationForest's close the report.

Methods:

- ``diffusion``: ``DiffusionAnomalyDetector(random_state=0)``, all defaults (point scores
  pooled over a window at two scales, ``pool_scores``); from the same run, ``diffusion
  (raw points)`` is ``score_smoothing=1`` and ``diffusion (mean over a window)`` the
  plain moving average over a window (``smooth_scores``), without the point term
  (pooling is applied after sampling, by the detector's own functions, so the rows
  share one fit and one scoring);
- ``isolation forest``: scikit-learn's ``IsolationForest(random_state=0)`` on sliding
  windows of standardised values as long as the detector's window on that series (its
  default, or the ``window_length`` of ``--diffusion-params``); a point's score is that
  of the window ending at it; ``isolation forest (pooled like diffusion)`` is the same
  scores pooled as the detector's default pools its own (``pool_scores`` over a
  window), to show what the pooling alone is worth;
- ``ar residual z``: an AR(16) model fitted by least squares on the first 15%; the score
  is the absolute one-step residual in units of the training residuals' deviation;
- ``SubLOF``: sktime's ``SubLOF(n_neighbors=20, window_size=ceil(len(test) / 10),
  novelty=True)`` run on the scored part itself (it has no scores: its 0/1 labels are
  the scores);
- ``STRAY``: sktime's ``STRAY()`` run on the scored part itself (its ``score_``);
- ``random``: uniform random scores (seed 0), the floor.

Run ``python benchmarks/anomaly.py --data-dir ../shared/data`` (or set
``SKTIME_DIFFUSION_DATA``).
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
from sklearn.ensemble import IsolationForest
from sklearn.metrics import average_precision_score, roc_auc_score

from sktime_diffusion import DiffusionAnomalyDetector
from sktime_diffusion.anomaly_scores import pool_scores, smooth_scores
from sktime_diffusion.datasets import load_nab, load_nab_labels, nab_point_labels
from sktime_diffusion.detection import default_detector_window, default_score_smoothing
from sktime_diffusion.metrics import best_f1, point_adjusted_scores

SERIES = [
    "artificialWithAnomaly/art_daily_flatmiddle.csv",
    "artificialWithAnomaly/art_daily_jumpsup.csv",
    "artificialWithAnomaly/art_increase_spike_density.csv",
    "artificialWithAnomaly/art_load_balancer_spikes.csv",
    "realAWSCloudwatch/ec2_cpu_utilization_24ae8d.csv",
    "realAWSCloudwatch/ec2_cpu_utilization_53ea38.csv",
    "realAWSCloudwatch/grok_asg_anomaly.csv",
    "realAWSCloudwatch/rds_cpu_utilization_cc0c53.csv",
    "realKnownCause/ambient_temperature_system_failure.csv",
    "realKnownCause/cpu_utilization_asg_misconfiguration.csv",
    "realKnownCause/ec2_request_latency_system_failure.csv",
    "realKnownCause/machine_temperature_system_failure.csv",
    "realKnownCause/nyc_taxi.csv",
    "realKnownCause/rogue_agent_key_hold.csv",
]
METHODS = ["random", "ar residual z", "isolation forest", "SubLOF", "STRAY", "diffusion"]
DIFFUSION_ROWS = (
    "diffusion (raw points)",
    "diffusion",
    "diffusion (mean over a window)",
)
#: IsolationForest's scores as they are, and pooled like the detector's default
FOREST_ROWS = ("isolation forest", "isolation forest (pooled like diffusion)")
PROBATION = 0.15
AR_ORDER = 16


def standardise(values: np.ndarray, n_train: int) -> np.ndarray:
    train = values[:n_train]
    return (values - train.mean()) / max(train.std(), 1e-12)


def isolation_forest(values: np.ndarray, n_train: int, window: int) -> np.ndarray:
    z = standardise(values, n_train)
    windows = np.lib.stride_tricks.sliding_window_view(z, window)  # k ends at k+W-1
    forest = IsolationForest(random_state=0).fit(windows[: n_train - window + 1])
    scores = -forest.score_samples(windows[n_train - window + 1 :])
    return scores


def detector_view(series: pd.Series, n_train: int) -> tuple[pd.Series, pd.Series]:
    """The fit and scored parts as the detector is given them.

    A series whose timestamps are not increasing and unique (NAB's machine temperature
    file repeats some) is not an sktime series; it is passed with positions instead.
    """
    if not (series.index.is_monotonic_increasing and series.index.is_unique):
        series = series.reset_index(drop=True)
    return series.iloc[:n_train], series.iloc[n_train:]


def detector_window(series: pd.Series, n_train: int, params: dict | None) -> int:
    """The detector's window on this series (its default unless ``params`` set one)."""
    if (params or {}).get("window_length") is not None:
        return int(params["window_length"])
    train, _ = detector_view(series, n_train)
    return default_detector_window(train.index, len(train))


def ar_residual_z(values: np.ndarray, n_train: int) -> np.ndarray:
    z = standardise(values, n_train)
    lagged = np.lib.stride_tricks.sliding_window_view(z[:-1], AR_ORDER)
    target = z[AR_ORDER:]  # target[k] = z[k + p], predicted from z[k : k + p]
    design = np.column_stack([lagged, np.ones(len(lagged))])
    n_fit = n_train - AR_ORDER
    coef, *_ = np.linalg.lstsq(design[:n_fit], target[:n_fit], rcond=None)
    residual = target - design @ coef
    spread = max(residual[:n_fit].std(), 1e-12)
    return np.abs(residual[n_fit:] - residual[:n_fit].mean()) / spread


def sub_lof(test: np.ndarray) -> np.ndarray:
    from sktime.detection.lof import SubLOF

    # ten equal intervals, rounded up so that the last one is not a sliver
    window = max(-(-len(test) // 10), 21)
    detector = SubLOF(n_neighbors=20, window_size=window, novelty=True)
    labels = detector.fit_transform(pd.DataFrame({"value": test}))
    return labels.to_numpy().ravel().astype(float)


def stray(test: np.ndarray) -> np.ndarray:
    from sktime.detection.stray import STRAY

    detector = STRAY().fit(test.reshape(-1, 1))
    return np.asarray(detector.score_, dtype=float)


def diffusion(
    train: pd.Series,
    test: pd.Series,
    saved: Path | None = None,
    params: dict | None = None,
) -> tuple[dict[str, np.ndarray], float, float]:
    """Scores of the three diffusion rows (see the module docstring) from one run.

    The raw point scores are read from ``saved`` when that file exists, and written to
    it after scoring otherwise. ``params``: detector parameters other than the defaults.
    """
    if saved is not None and saved.exists():
        stored = np.load(saved)
        raw, window = stored["raw"], int(stored["window"])
        fit_seconds, seconds = float(stored["fit_seconds"]), float(stored["score_seconds"])
    else:
        raw, window, fit_seconds, seconds = _raw_diffusion_scores(train, test, params)
        if saved is not None:
            np.savez(
                saved,
                raw=raw,
                window=window,
                fit_seconds=fit_seconds,
                score_seconds=seconds,
            )
    scores = {
        DIFFUSION_ROWS[0]: raw,
        DIFFUSION_ROWS[1]: pool_scores(raw, default_score_smoothing(window)),
        DIFFUSION_ROWS[2]: smooth_scores(raw, window),
    }
    return scores, fit_seconds, seconds


def _raw_diffusion_scores(
    train: pd.Series, test: pd.Series, params: dict | None = None
) -> tuple[np.ndarray, int, float, float]:
    """Raw point scores of the detector, its window, fit and scoring seconds."""
    started = time.perf_counter()
    detector = DiffusionAnomalyDetector(
        **{"random_state": 0, **(params or {}), "score_smoothing": 1}
    ).fit(train)
    fitted = time.perf_counter()
    raw = detector.transform_scores(test)["scores"].to_numpy()
    seconds = time.perf_counter() - fitted
    return raw, detector.window_length_, fitted - started, seconds


def run(
    method: str,
    series: pd.Series,
    n_train: int,
    saved: Path | None = None,
    params: dict | None = None,
) -> tuple[dict, float, float]:
    """Scores of the points after ``n_train`` per row name, fit and scoring seconds.

    ``saved``: file of the diffusion detector's raw scores (read when it exists,
    written otherwise); ``params``: the detector's parameters other than the defaults.
    """
    values = series.to_numpy(np.float64)
    if method == "diffusion":
        return diffusion(*detector_view(series, n_train), saved, params)
    started = time.perf_counter()
    if method == "random":
        scores = np.random.default_rng(0).random(len(values) - n_train)
    elif method == "isolation forest":
        window = detector_window(series, n_train, params)
        scores = isolation_forest(values, n_train, window)
        seconds = time.perf_counter() - started
        pooled = pool_scores(scores, default_score_smoothing(window))
        return dict(zip(FOREST_ROWS, (scores, pooled), strict=True)), 0.0, seconds
    elif method == "ar residual z":
        scores = ar_residual_z(values, n_train)
    elif method == "SubLOF":
        scores = sub_lof(values[n_train:])
    elif method == "STRAY":
        scores = stray(values[n_train:])
    else:
        raise ValueError(f"unknown method {method!r}")
    return {method: scores}, 0.0, time.perf_counter() - started


def evaluate(labels: np.ndarray, scores: np.ndarray) -> dict[str, float]:
    return {
        "AUC-PR": float(average_precision_score(labels, scores)),
        "AUC-ROC": float(roc_auc_score(labels, scores)),
        "best F1": best_f1(labels, scores),
        "PA-F1 (point-adjusted)": best_f1(labels, point_adjusted_scores(labels, scores)),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", default=None, help="folder holding NAB/")
    parser.add_argument("--methods", default=",".join(METHODS))
    parser.add_argument("--series", default=None, help="comma-separated subset")
    parser.add_argument("--json", type=Path, default=None, help="also write rows here")
    parser.add_argument(
        "--scores-dir",
        type=Path,
        default=None,
        help="folder for the diffusion detector's raw point scores: written after "
        "scoring, read instead of fitting when present (rows of other poolings then "
        "cost nothing)",
    )
    parser.add_argument(
        "--diffusion-params",
        default="{}",
        help="JSON object of DiffusionAnomalyDetector parameters other than the "
        "defaults, e.g. '{\"window_length\": 96}' (score_smoothing is always 1 for the "
        "raw scores; the rows pool them)",
    )
    parser.add_argument(
        "--from-json",
        default=None,
        help="comma-separated row files of earlier runs: print their tables (a later "
        "file's rows replace an earlier file's rows of the same series and method; "
        "rows of methods this version no longer reports are left out); FILE=LABEL "
        "names that file's diffusion rows 'diffusion, LABEL' (say, a run with a "
        "backbone), so runs of other parameters sit side by side",
    )
    args = parser.parse_args()
    if args.from_json is not None:
        rows = merged_rows(args.from_json.split(","))
        report(rows, sorted({row["method"] for row in rows}))
        return
    methods = [m.strip() for m in args.methods.split(",")]
    params = diffusion_parameters(args.diffusion_params)
    names = SERIES if args.series is None else args.series.split(",")
    warnings.filterwarnings("ignore")

    print(environment_line())
    if args.scores_dir is not None:
        args.scores_dir.mkdir(parents=True, exist_ok=True)
    rows = []
    for name in names:
        series = load_nab(name, args.data_dir)
        n_train = int(PROBATION * len(series))
        labels = nab_point_labels(series.index, load_nab_labels(name, args.data_dir))
        saved = None
        if args.scores_dir is not None:
            saved = args.scores_dir / f"{Path(name).stem}.npz"
        for method in methods:
            try:
                scores, fit_seconds, score_seconds = run(
                    method, series, n_train, saved, params
                )
            except Exception as error:  # a peer failing must not lose the other rows
                print(f"  {name}: {method} failed: {error!r}", flush=True)
                continue
            for row_name, row_scores in scores.items():
                row = {
                    "series": name.split("/")[-1].removesuffix(".csv"),
                    "method": row_name,
                }
                row.update(evaluate(labels[n_train:], row_scores))
                row.update({"fit s": fit_seconds, "score s": score_seconds})
                rows.append(row)
                print(
                    f"  {row['series']}: {row_name} AUC-PR {row['AUC-PR']:.3f}", flush=True
                )
        if args.json is not None:  # after every series, so a crash loses little
            args.json.write_text(json.dumps(rows, indent=1))
    report(rows, methods)


def merged_rows(entries: list[str]) -> list[dict]:
    """The rows of earlier runs' files, ``path`` or ``path=label`` each.

    A label renames the file's diffusion rows: ``diffusion`` becomes ``diffusion,
    label`` and ``diffusion (raw points)`` becomes ``diffusion, label (raw points)``.
    A later file's row replaces an earlier one of the same series and method; rows of
    methods this version no longer reports are left out.
    """
    merged = {}
    current = {*METHODS, *DIFFUSION_ROWS, *FOREST_ROWS}
    for entry in entries:
        path, _, label = entry.partition("=")
        for row in json.loads(Path(path).read_text()):
            if row["method"] not in current:
                continue
            if label and row["method"] in DIFFUSION_ROWS:
                method = row["method"].replace("diffusion", f"diffusion, {label}", 1)
                row = {**row, "method": method}
            merged[(row["series"], row["method"])] = row
    return list(merged.values())


def report(rows: list[dict], methods: list[str]) -> None:
    """The per-series table, the means per method and the wins over IsolationForest."""
    metrics = ["AUC-PR", "AUC-ROC", "best F1", "PA-F1 (point-adjusted)", "fit s", "score s"]
    table = pd.DataFrame(rows)
    print(markdown_table(rows, ["series", "method", *metrics], {"fit s": 1, "score s": 1}))
    means = table.groupby("method", sort=False)[metrics].mean().reset_index()
    print()
    print(
        markdown_table(
            means.to_dict("records"), ["method", *metrics], {"fit s": 1, "score s": 1}
        )
    )
    if {"diffusion", "isolation forest"} <= set(methods):
        pivot = table.pivot(index="series", columns="method", values="AUC-PR")
        for row_name in DIFFUSION_ROWS:
            wins = int((pivot[row_name] > pivot["isolation forest"]).sum())
            print(
                f"{row_name}: AUC-PR above IsolationForest on {wins} of {len(pivot)} series"
            )


if __name__ == "__main__":
    main()
