"""Out-of-fold thresholds and running-median scores: does ``contamination`` hold then?

For each NAB series (cut after its first 15%, the fit stretch, as in
``benchmarks/anomaly.py``) three detectors are fitted, all with ``score_smoothing=1`` so
that the raw point scores are kept and pooled here exactly as the detector pools them:

- one on the whole fit stretch (the detector as users fit it), which scores the fit
  stretch itself (in-sample) and the rest of the series (the new data);
- two on the halves of the fit stretch, each scoring the other half: out-of-fold scores
  of the whole fit stretch, from models that did not train on them (two-fold
  cross-fitting; each half is pooled on its own).

Five thresholds for the new data's pooled scores, all but the midpoint the ``1 - c``
quantile of scores of the fit stretch:

- ``in-sample``: the full model's scores of its own training data (today's default);
- ``out-of-fold``: the halves' scores;
- ``midpoint``: the geometric mean of those two thresholds (the in-sample one errs
  low, as the model learnt its training windows; the out-of-fold one high, as a model
  of half the data scores the other half higher than the full model scores new data);
- ``in-sample / running median`` and ``out-of-fold / running median``: the same, with
  every pooled score divided by the median of the ``--span`` windows of pooled scores
  before it (the fit stretch's pooled scores, in-sample or out-of-fold as the rule's,
  lead the new data's, so the running median of the new data starts from the fit data;
  a stream would allow the same).

The flagged share is that of the new data's normal points (outside NAB's label windows),
to be set against ``c``; "far" counts only normal points more than a window from every
label. AUC-PR (average precision over the new data) says what dividing by the running
median costs the ranking.

Run ``OMP_NUM_THREADS=1 python benchmarks/anomaly_crossfit.py --data-dir ../shared/data``
(``--diffusion-params`` takes a JSON object of detector parameters, e.g.
``'{"training_steps": 300}'``; ``--series`` a comma-separated subset).
"""

from __future__ import annotations

import argparse
import json
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
from _report import environment_line, markdown_table
from anomaly import PROBATION, SERIES, detector_view
from anomaly_drift import flagged, running_median_ratio, summary
from anomaly_threshold import far_from_labels

from sktime_diffusion import DiffusionAnomalyDetector
from sktime_diffusion.anomaly_scores import pool_scores
from sktime_diffusion.datasets import load_nab, load_nab_labels, nab_point_labels
from sktime_diffusion.detection import default_score_smoothing

RULES = (
    "in-sample",
    "out-of-fold",
    "midpoint",
    "in-sample / running median",
    "out-of-fold / running median",
)
COLUMNS = [
    "series",
    "window",
    "rule",
    "threshold",
    "flagged share",
    "share / c",
    "far / c",
    "AUC-PR",
]


def raw_scores(detector: DiffusionAnomalyDetector, data: pd.Series) -> np.ndarray:
    """The detector's raw point scores of ``data`` (it was fitted with smoothing 1)."""
    return detector.transform_scores(data)["scores"].to_numpy()


def measure(name: str, data_dir: str | None, params: dict, c: float, span: float) -> list:
    started = time.perf_counter()
    series = load_nab(name, data_dir)
    n_train = int(PROBATION * len(series))
    labels = nab_point_labels(series.index, load_nab_labels(name, data_dir))[n_train:]
    train, test = detector_view(series, n_train)
    base = {"random_state": 0, **params, "score_smoothing": 1, "contamination": c}
    full = DiffusionAnomalyDetector(**base).fit(train)
    window = full.window_length_
    steps = default_score_smoothing(window)
    in_sample = pool_scores(raw_scores(full, train), steps)
    new = pool_scores(raw_scores(full, test), steps)
    half = len(train) // 2
    halves = [train.iloc[:half], train.iloc[half:]]
    out_of_fold = []
    for fitted_on, scored in ((halves[0], halves[1]), (halves[1], halves[0])):
        model = DiffusionAnomalyDetector(**{**base, "window_length": window}).fit(fitted_on)
        out_of_fold.append(pool_scores(raw_scores(model, scored), steps))
    out_of_fold = np.concatenate(out_of_fold[::-1])  # first half's scores first
    span_points = max(1, int(span * window))
    reference = {
        RULES[0]: (in_sample, new),
        RULES[1]: (out_of_fold, new),
        RULES[3]: (
            running_median_ratio(in_sample[:0], in_sample, span_points),
            running_median_ratio(in_sample, new, span_points),
        ),
        RULES[4]: (
            running_median_ratio(out_of_fold[:0], out_of_fold, span_points),
            running_median_ratio(out_of_fold, new, span_points),
        ),
    }
    finite_new = np.isfinite(new)
    normal = ~labels & finite_new
    far = normal & far_from_labels(labels, window)
    thresholds = {
        rule: float(np.nanquantile(fit_scores, 1 - c))
        for rule, (fit_scores, _) in reference.items()
    }
    thresholds[RULES[2]] = float(np.sqrt(thresholds[RULES[0]] * thresholds[RULES[1]]))
    rows = []
    for rule in RULES:
        new_scores = new if rule == RULES[2] else reference[rule][1]
        rows.append(
            {
                "series": Path(name).stem,
                "window": window,
                "rule": rule,
                "threshold": thresholds[rule],
                **flagged(new_scores, thresholds[rule], labels, normal, far, c),
                "seconds": time.perf_counter() - started,
            }
        )
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", default=None, help="folder holding NAB/")
    parser.add_argument("--series", default=None, help="comma-separated subset")
    parser.add_argument("--diffusion-params", default="{}")
    parser.add_argument("--contamination", type=float, default=0.01)
    parser.add_argument("--span", type=float, default=10.0, help="in windows")
    parser.add_argument("--json", type=Path, default=None, help="also write rows here")
    args = parser.parse_args()
    params = json.loads(args.diffusion_params)
    names = args.series.split(",") if args.series else SERIES
    warnings.filterwarnings("ignore", category=UserWarning)
    print(environment_line(), flush=True)
    rows = []
    for name in names:
        rows.extend(measure(name, args.data_dir, params, args.contamination, args.span))
        print(markdown_table(rows[-len(RULES) :], COLUMNS), flush=True)
        if args.json is not None:
            args.json.write_text(json.dumps(rows))
    print(f"contamination {args.contamination}, span {args.span} windows, {params}")
    totals = summary(rows, "rule", RULES, args.contamination, window="")
    print(markdown_table(rows + totals, COLUMNS))


if __name__ == "__main__":
    main()
