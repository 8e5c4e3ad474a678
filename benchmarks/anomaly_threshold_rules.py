"""Which threshold rule keeps ``contamination`` on new normal data? Rules side by side.

For each series (cut after its first 15% as in ``benchmarks/anomaly_threshold.py``),
two detectors are fitted on the first part: one on all of it (``threshold_fraction=0``)
and one with a quarter held out in blocks spread over it (``threshold_fraction=0.25``,
:func:`~sktime_diffusion.detection.threshold_blocks`). Their point scores of the fit
stretch and of the rest are computed once; every rule below is then a different
threshold on the same scores, so the rules compare without the noise of refitting:

- ``in-sample quantile`` (first detector): the ``1 - c`` quantile of the pooled scores
  of the data it trained on;
- ``held-out quantile``: the quantile of the pooled scores of the held-out points;
- ``held-out log-normal``: ``exp(mean + z * std)`` of the log pooled held-out scores;
- ``held-out rescaled`` (the detector's rule): the quantile of the training points'
  pooled scores times the ratio of the held-out to the training median;
- ``held-out pooled-all``: the quantile of the held-out pooled scores together with the
  training points' pooled scores times that ratio.

The flagged share is that of the held-out normal points (after the fit stretch, outside
NAB's label windows), to be set against ``c``; "far" is the share of the normal points
more than a window from every label.

Run ``OMP_NUM_THREADS=1 python benchmarks/anomaly_threshold_rules.py --data-dir
../shared/data`` (or set ``SKTIME_DIFFUSION_DATA``); ``--diffusion-params`` takes a JSON
object of detector parameters, e.g. ``'{"training_steps": 300}'``.
"""

from __future__ import annotations

import argparse
import json
import warnings
from statistics import NormalDist

import numpy as np
from _report import environment_line, markdown_table
from anomaly_threshold import PROBATION, SERIES, far_from_labels, load

from sktime_diffusion import DiffusionAnomalyDetector
from sktime_diffusion.anomaly_scores import pool_scores
from sktime_diffusion.detection import threshold_blocks

COLUMNS = ["series", "window", "rule", "threshold", "flagged share", "far", "share / c"]


def _values(frame) -> np.ndarray:
    return frame.to_frame().to_numpy(np.float64) if frame.ndim == 1 else frame.to_numpy()


def _pooled(points: np.ndarray, keep: np.ndarray, steps: int) -> np.ndarray:
    pooled = pool_scores(np.where(keep, points, np.nan), steps)[keep]
    return pooled[np.isfinite(pooled)]


def rules(in_sample, held_out, train) -> dict[str, float]:
    """Thresholds of every rule from the two fitted detectors' fit-stretch scores.

    The in-sample quantile and the rescaled rule are the detectors' own
    ``threshold_``; the others are computed from the held-out detector's scores.
    """
    c = float(held_out.contamination)
    held = held_out.threshold_scores_  # pooled scores of the held-out points
    ratio = held_out.held_out_ratio_
    blocks = threshold_blocks(len(train), held_out.window_length_, 0.25)
    points = held_out._point_scores(_values(train))
    trained = _pooled(points, ~blocks, held_out._smoothing_steps())
    logs = np.log(held)
    z = NormalDist().inv_cdf(1 - c)
    return {
        "in-sample quantile": in_sample.threshold_,
        "held-out quantile": float(np.quantile(held, 1 - c)),
        "held-out log-normal": float(np.exp(logs.mean() + z * logs.std(ddof=1))),
        "held-out rescaled": held_out.threshold_,
        "held-out pooled-all": float(
            np.quantile(np.concatenate([trained * ratio, held]), 1 - c)
        ),
    }


def measure(name: str, data_dir: str | None, params: dict) -> list[dict]:
    series, labels = load(name, data_dir)
    if not (series.index.is_monotonic_increasing and series.index.is_unique):
        series = series.reset_index(drop=True)
    n_train = int(PROBATION * len(series))
    train, test = series.iloc[:n_train], series.iloc[n_train:]
    base = {"random_state": 0, **params}
    in_sample = DiffusionAnomalyDetector(**{**base, "threshold_fraction": 0}).fit(train)
    held_out = DiffusionAnomalyDetector(**{**base, "threshold_fraction": 0.25}).fit(train)
    test_labels = labels[n_train:]
    rows = []
    for rule, threshold in rules(in_sample, held_out, train).items():
        detector = in_sample if rule.startswith("in-sample") else held_out
        scores = detector.transform_scores(test)["scores"].to_numpy()
        normal = ~test_labels & np.isfinite(scores)
        far = far_from_labels(test_labels, detector.window_length_) & normal
        share = float(np.mean(scores[normal] > threshold))
        rows.append(
            {
                "series": name.split("/")[-1].removesuffix(".csv"),
                "window": detector.window_length_,
                "rule": rule,
                "threshold": threshold,
                "flagged share": share,
                "far": float(np.mean(scores[far] > threshold)),
                "share / c": share / float(detector.contamination),
            }
        )
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", default=None, help="folder holding NAB/")
    parser.add_argument("--series", default=None, help="comma-separated subset")
    parser.add_argument("--diffusion-params", default="{}")
    args = parser.parse_args()
    params = json.loads(args.diffusion_params)
    names = args.series.split(",") if args.series else SERIES
    warnings.filterwarnings("ignore", category=UserWarning)
    rows = []
    for name in names:
        rows.extend(measure(name, args.data_dir, params))
        print(markdown_table(rows[-5:], COLUMNS), flush=True)
    print(environment_line())
    print(markdown_table(rows, COLUMNS))


if __name__ == "__main__":
    main()
