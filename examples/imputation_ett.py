"""Fill gaps in the ETTh1 transformer-temperature data, next to sktime's Imputer.

Run ``python examples/imputation_ett.py path/to/ETTh1.csv [--output imputation.png]``
(the file of the ETDataset repository; ``../shared/data/ETT/ETTh1.csv`` here).
It fits DiffusionImputer (defaults, ``random_state=0``) on the first 60 days of the
seven hourly series, hides 10% of the entries and one 24-hour stretch of ``OT`` in the
following week, fills them with the imputer's median of 50 imputations and with
sktime's linear interpolation, prints MAE on the two kinds of hidden entries (one gap is
a small sample: its MAE varies much with the seed) and the 90% interval coverage of the
imputations, and plots ``OT`` with its imputed entries and their bands.
``benchmarks/imputation.py`` runs the full protocol.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import pandas as pd
from sktime.transformations.series.impute import Imputer

from sktime_diffusion import DiffusionImputer
from sktime_diffusion.metrics import interval_coverage

TRAIN_HOURS, TEST_HOURS = 60 * 24, 7 * 24


def read_ett(path: Path) -> pd.DataFrame:
    """The ETT csv as an hourly frame (``date`` column as the index)."""
    frame = pd.read_csv(path, parse_dates=["date"], index_col="date")
    return frame.asfreq("h")


def hide(test: pd.DataFrame, seed: int = 0) -> pd.DataFrame:
    """10% of the entries at random and hours 60-83 of ``OT``, as NaN."""
    rng = np.random.default_rng(seed)
    gappy = test.mask(rng.random(test.shape) < 0.1)
    gappy.iloc[60:84, gappy.columns.get_loc("OT")] = np.nan
    return gappy


def main(path: Path, output: Path) -> None:
    data = read_ett(path)
    train = data.iloc[:TRAIN_HOURS]
    test = data.iloc[TRAIN_HOURS : TRAIN_HOURS + TEST_HOURS]
    gappy = hide(test)
    hidden = gappy.isna().to_numpy()

    started = time.perf_counter()
    imputer = DiffusionImputer(random_state=0).fit(train)
    fit_seconds = time.perf_counter() - started
    started = time.perf_counter()
    filled = imputer.transform(gappy)
    intervals = imputer.transform_interval(gappy, coverage=0.9)
    impute_seconds = time.perf_counter() - started
    linear = Imputer(method="linear").fit_transform(gappy)

    gap = np.zeros_like(hidden)
    gap[60:84, gappy.columns.get_loc("OT")] = True
    truth = test.to_numpy()
    lower = intervals.xs("lower", axis=1, level=2).to_numpy()
    upper = intervals.xs("upper", axis=1, level=2).to_numpy()
    print(f"ETTh1: trained on {len(train)} hours, {hidden.sum()} entries hidden")
    print(f"{'MAE (data units)':24s} {'10% at random':>14s} {'24-hour OT gap':>15s}")
    for name, values in [("DiffusionImputer", filled), ("linear interpolation", linear)]:
        error = np.abs(values.to_numpy() - truth)
        print(f"{name:24s} {error[hidden & ~gap].mean():14.3f} {error[gap].mean():15.3f}")
    coverage = interval_coverage(lower[hidden], upper[hidden], truth[hidden])
    print(f"90% interval coverage of the imputations: {coverage:.2f}")
    print(f"fit {fit_seconds:.0f} s, imputation and intervals {impute_seconds:.0f} s")

    import matplotlib

    matplotlib.use("Agg")
    from sktime_diffusion.plotting import plot_imputation

    ax = plot_imputation(
        imputer, gappy, column="OT", X_true=test, title="ETTh1 OT: imputed entries"
    )
    output.parent.mkdir(parents=True, exist_ok=True)
    ax.figure.savefig(output, dpi=120, bbox_inches="tight")
    print(f"wrote {output}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("path", type=Path, help="ETTh1.csv")
    parser.add_argument("--output", type=Path, default=Path("outputs/imputation_ett.png"))
    arguments = parser.parse_args()
    main(arguments.path, arguments.output)
