"""Flag anomalies in a series of the Numenta Anomaly Benchmark (NAB).

Run ``python examples/anomaly_nab.py path/to/NAB/data/realKnownCause/nyc_taxi.csv
[--output outputs/anomaly_nab.png] [--training-steps N]`` (a CSV of NAB's repository,
in its ``data/`` folder; ``../shared/data/NAB/data/...`` here). It fits
DiffusionAnomalyDetector (defaults, ``random_state=0``) on the first 15% of the series
(NAB's probationary period), scores the rest, prints the flagged stretches and,
when NAB's ``labels/combined_windows.json`` lies next to ``data/``, the share of points
outside the labelled windows that is flagged and the AUC-PR of the scores against the
windows, and plots the series over its scores. ``benchmarks/anomaly.py`` runs all 14
series next to classical detectors.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from sklearn.metrics import average_precision_score

from sktime_diffusion import DiffusionAnomalyDetector
from sktime_diffusion.datasets import load_nab, load_nab_labels, nab_point_labels
from sktime_diffusion.detection import flagged_segments

PROBATION = 0.15


def main(path: Path, output: Path, training_steps: int | None = None) -> None:
    path = path.resolve()
    name = f"{path.parent.name}/{path.name}"  # <category>/<file>.csv
    data_dir = path.parents[3]  # the folder holding NAB/
    series = load_nab(name, data_dir)
    n_train = int(PROBATION * len(series))
    train, test = series.iloc[:n_train], series.iloc[n_train:]

    started = time.perf_counter()
    detector = DiffusionAnomalyDetector(random_state=0, training_steps=training_steps)
    detector.fit(train)
    fit_seconds = time.perf_counter() - started
    started = time.perf_counter()
    score_table = detector.transform_scores(test)
    scores = score_table["scores"]
    segments = flagged_segments(scores.to_numpy(), detector.threshold_)
    score_seconds = time.perf_counter() - started

    source = (
        "the fit data, scored out of fold"
        if detector.threshold_source_ == "out-of-fold"
        else "the fit data the model trained on"
    )
    print(
        f"{name}: fitted on {len(train)} points in {fit_seconds:.1f} s, scored "
        f"{len(test)} in {score_seconds:.1f} s; window {detector.window_length_}, "
        f"{detector.training_history_.n_steps} training steps; "
        f"threshold {detector.threshold_:.2f} from the scores of {source}"
    )
    print(f"{len(segments)} flagged stretch(es):")
    for segment in segments:
        print(
            f"  {test.index[segment.left]} .. {test.index[segment.right - 1]}"
            f"  (max score {scores.iloc[segment.left : segment.right].max():.1f})"
        )

    windows = []
    try:
        windows = load_nab_labels(name, data_dir)
    except (FileNotFoundError, KeyError):
        print("no NAB label windows found next to the data")
    if windows:
        labels = nab_point_labels(test.index, windows)
        normal = scores.to_numpy()[~labels]
        print(
            f"flagged {(normal > detector.threshold_).mean():.3f} of the points outside "
            f"NAB's windows (contamination {detector.contamination})"
        )
        if labels.any():
            print(
                f"AUC-PR of the scores against NAB's windows: "
                f"{average_precision_score(labels, scores):.3f} "
                f"(share of labelled points, the random level: {labels.mean():.3f})"
            )

    try:
        from sktime_diffusion.plotting import plot_anomalies
    except ImportError:
        return
    axes = plot_anomalies(
        detector,
        test,
        true_windows=windows,
        title=f"DiffusionAnomalyDetector: {name}",
        scores=score_table,
    )
    output.parent.mkdir(parents=True, exist_ok=True)
    axes[0].figure.tight_layout()
    axes[0].figure.savefig(output, dpi=120)
    print(f"wrote {output}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("csv", type=Path, help="a NAB series, inside NAB/data/<category>/")
    parser.add_argument("--output", type=Path, default=Path("outputs/anomaly_nab.png"))
    parser.add_argument(
        "--training-steps",
        type=int,
        default=None,
        help="optimiser steps (default: the detector's automatic budget)",
    )
    arguments = parser.parse_args()
    main(arguments.csv, arguments.output, arguments.training_steps)
