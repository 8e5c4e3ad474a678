"""Does a score relative to its running median keep ``contamination`` on new data?

Offline, from the raw point scores that ``benchmarks/anomaly.py --scores-dir DIR`` stores
(``DiffusionAnomalyDetector(random_state=0)`` fitted on each NAB series' first 15%, then
scoring the rest): no model is fitted here. The scored part of each series is split in
time: its first ``--calibration`` share (default 0.2) sets the threshold, the ``1 - c``
quantile of the calibration scores, from data the model never trained on; the flagged
share is measured on the normal points (outside NAB's label windows) of the rest. So
the in-sample optimism of a model is out of the picture and what remains is the drift of
the later data. "far" counts only the normal points more than a window from every label
(a pooled score reaches half a window to each side of an anomaly). Four versions of the
detector's default pooled scores are compared:

- ``pooled``: the scores as the detector returns them (``pool_scores``);
- ``/ centred median``: divided by their median over a centred span of ``--span``
  windows (``min_periods=1``), so a slow change of the score level cancels;
- ``/ trailing median``: the same over the trailing span (what a stream would allow);
- ``/ trailing median of unflagged``: over the median of the last span's scores that
  were not flagged themselves (``unflagged_median_ratio``), so that an anomaly does not
  raise its own reference; a point is flagged for the reference when its ratio is above
  ``--cut``, by default the ``/ trailing median`` threshold (what that version flags is
  left out).

The stored scores are those of the scored part only (``anomaly.py`` keeps no scores of
the fit stretch), so the in-sample threshold of the detector as users fit it cannot be
measured here; ``benchmarks/anomaly_crossfit.py`` measures it end to end.

AUC-PR (scikit-learn's average precision over the whole scored part) says what the
normalisation costs the ranking of anomalies.

Run ``python benchmarks/anomaly_drift.py --data-dir ../shared/data --scores-dir DIR``.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import pandas as pd
from _report import environment_line, markdown_table
from anomaly import PROBATION, SERIES
from anomaly_threshold import far_from_labels
from sklearn.metrics import average_precision_score

from sktime_diffusion.anomaly_scores import pool_scores
from sktime_diffusion.datasets import load_nab, load_nab_labels, nab_point_labels
from sktime_diffusion.detection import default_score_smoothing

VERSIONS = (
    "pooled",
    "/ centred median",
    "/ trailing median",
    "/ trailing median of unflagged",
)
COLUMNS = [
    "series",
    "version",
    "threshold",
    "flagged share",
    "share / c",
    "far / c",
    "AUC-PR",
]


def running_median_ratio(lead: np.ndarray, scores: np.ndarray, span: int) -> np.ndarray:
    """``scores`` over the trailing median of ``span`` points of ``lead`` then ``scores``.

    Parameters
    ----------
    lead, scores : np.ndarray of shape (n_lead,), (n_timepoints,)
        ``lead`` (may be empty) comes before ``scores`` in time.

    Returns
    -------
    np.ndarray of shape (n_timepoints,)
    """
    joined = pd.Series(np.concatenate([lead, scores]))
    median = joined.rolling(span, min_periods=1).median().to_numpy()[len(lead) :]
    return scores / median


def unflagged_median_ratio(
    lead: np.ndarray, scores: np.ndarray, span: int, cut: float
) -> np.ndarray:
    """``scores`` over the median of the last ``span`` scores before each not flagged.

    Causal, one point after the other over ``lead`` then ``scores``: the reference of
    point ``t`` is the median of those of the ``span`` points before ``t`` whose own
    ratio is at or below ``cut`` (not flagged), and the ratio of ``t`` is its score over
    that reference; then ``t`` is flagged or not for the points after it. An anomaly
    shorter than ``span`` thus stays out of the reference it is measured against (a plain
    trailing median, ``running_median_ratio``, takes it in, and so lowers its own ratio
    and those after it). When none of the last ``span`` points is unflagged, the
    reference is the median of all of them, so a change of level that lasts is taken in
    after ``span`` points instead of being flagged for ever (a plain trailing median
    takes it in after half of them). The first point, with nothing before it, is its own
    reference; NaN scores (unobserved) have NaN ratios and stay out of every reference.

    The cut is a ratio, not a score: the script's default is the threshold of the plain
    trailing median's ratios, so the points left out are those that rule would flag.

    Parameters
    ----------
    lead, scores : np.ndarray of shape (n_lead,), (n_timepoints,)
        ``lead`` (may be empty) comes before ``scores`` in time.
    span : int
        Number of points before each one that its reference looks at.
    cut : float
        A point whose ratio is above ``cut`` is left out of the later references.

    Returns
    -------
    np.ndarray of shape (n_timepoints,)
    """
    joined = np.concatenate([lead, scores])
    ratio = np.full(len(joined), np.nan)
    unflagged = np.zeros(len(joined), dtype=bool)
    for t, score in enumerate(joined):
        if not np.isfinite(score):
            continue
        past = joined[max(0, t - span) : t]
        kept = past[unflagged[max(0, t - span) : t]]
        if len(kept) == 0:
            kept = past[np.isfinite(past)]
        ratio[t] = score / (np.median(kept) if len(kept) else score)
        unflagged[t] = ratio[t] <= cut
    return ratio[len(lead) :]


def calibration_threshold(scores: np.ndarray, n_calibration: int, c: float) -> float:
    """The ``1 - c`` quantile of the finite scores of the first ``n_calibration``."""
    head = scores[:n_calibration]
    return float(np.quantile(head[np.isfinite(head)], 1 - c))


def versions(
    pooled: np.ndarray, span: int, n_calibration: int, c: float, cut: float | None
) -> dict[str, np.ndarray]:
    """The versions of one series' pooled scores (NaN kept where unobserved).

    ``cut``: that of ``unflagged_median_ratio``; None takes the calibration threshold
    of the plain trailing median's ratios.
    """
    centred = pd.Series(pooled).rolling(span, center=True, min_periods=1).median()
    trailing = running_median_ratio(pooled[:0], pooled, span)
    if cut is None:
        cut = calibration_threshold(trailing, n_calibration, c)
    return {
        VERSIONS[0]: pooled,
        VERSIONS[1]: pooled / centred.to_numpy(),
        VERSIONS[2]: trailing,
        VERSIONS[3]: unflagged_median_ratio(pooled[:0], pooled, span, cut),
    }


def measure(
    name: str,
    data_dir: str | None,
    scores_dir: Path,
    c: float,
    calibration: float,
    span: float,
    cut: float | None = None,
) -> list[dict]:
    series = load_nab(name, data_dir)
    n_train = int(PROBATION * len(series))
    labels = nab_point_labels(series.index, load_nab_labels(name, data_dir))[n_train:]
    stored = np.load(scores_dir / f"{Path(name).stem}.npz")
    raw, window = stored["raw"], int(stored["window"])
    pooled = pool_scores(raw, default_score_smoothing(window))
    n_calibration = int(calibration * len(pooled))
    later = np.arange(len(pooled)) >= n_calibration
    rows = []
    span_points = max(1, int(span * window))
    for version, scores in versions(pooled, span_points, n_calibration, c, cut).items():
        threshold = calibration_threshold(scores, n_calibration, c)
        normal = later & ~labels & np.isfinite(scores)
        far = normal & far_from_labels(labels, window)
        rows.append(
            {
                "series": Path(name).stem,
                "version": version,
                "threshold": threshold,
                **flagged(scores, threshold, labels, normal, far, c),
            }
        )
    return rows


def flagged(
    scores: np.ndarray,
    threshold: float,
    labels: np.ndarray,
    normal: np.ndarray,
    far: np.ndarray,
    c: float,
) -> dict[str, float]:
    """What a threshold flags: share of the normal points, over ``c``, far ones over ``c``.

    Parameters
    ----------
    scores, labels, normal, far : np.ndarray of shape (n_timepoints,)
        Scores of the new data (NaN where unscored), its labels, and which points count
        as normal and as far from every label.
    threshold, c : float

    Returns
    -------
    dict with "flagged share", "share / c", "far / c" and "AUC-PR" (of the finite
    scores against the labels).
    """
    share = float(np.mean(scores[normal] > threshold))
    finite = np.isfinite(scores)
    return {
        "flagged share": share,
        "share / c": share / c,
        "far / c": float(np.mean(scores[far] > threshold)) / c,
        "AUC-PR": float(average_precision_score(labels[finite], scores[finite])),
    }


def summary(
    rows: list[dict], key: str, labels: tuple[str, ...], c: float, **extra
) -> list[dict]:
    """One row per label of ``key``: geometric means of share / c and far / c, AUC-PR.

    Ratios are floored at 0.01 (a share of ``c / 100``) so that a series with nothing
    flagged does not send the geometric mean to 0; AUC-PR is the plain mean. ``extra``
    columns are put in every summary row as they are.
    """
    out = []
    for label in labels:
        mine = [row for row in rows if row[key] == label]
        if not mine:
            continue
        share = _floored_geometric_mean([row["share / c"] for row in mine])
        far = _floored_geometric_mean([row["far / c"] for row in mine])
        out.append(
            {
                "series": f"all {len(mine)}",
                key: label,
                **extra,
                "flagged share": share * c,
                "share / c": share,
                "far / c": far,
                "AUC-PR": float(np.mean([row["AUC-PR"] for row in mine])),
            }
        )
    return out


def _floored_geometric_mean(ratios: list[float]) -> float:
    return float(np.exp(np.mean(np.log(np.maximum(ratios, 0.01)))))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", default=None, help="folder holding NAB/")
    parser.add_argument("--scores-dir", type=Path, required=True)
    parser.add_argument("--contamination", type=float, default=0.01)
    parser.add_argument("--calibration", type=float, default=0.2)
    parser.add_argument("--span", type=float, default=10.0, help="in windows")
    parser.add_argument(
        "--cut",
        type=float,
        default=None,
        help="ratio above which a point is left out of the unflagged median (default: "
        "the calibration threshold of the plain trailing median's ratios)",
    )
    args = parser.parse_args()
    rows = []
    for name in SERIES:
        if (args.scores_dir / f"{Path(name).stem}.npz").exists():
            rows.extend(
                measure(
                    name,
                    args.data_dir,
                    args.scores_dir,
                    args.contamination,
                    args.calibration,
                    args.span,
                    args.cut,
                )
            )
    print(environment_line())
    print(
        f"contamination {args.contamination}, calibration share {args.calibration}, "
        f"span {args.span} windows, cut {args.cut or 'the trailing threshold'}"
    )
    totals = summary(rows, "version", VERSIONS, args.contamination, threshold=float("nan"))
    print(markdown_table(rows + totals, COLUMNS))


if __name__ == "__main__":
    main()
