"""One pretrained backbone serving all four estimators, on sktime's airline data.

Run ``python examples/backbone_all_four.py [--output outputs/backbone_all_four.png]
[--fine-tune-steps N]``. It loads the backbone shipped with the package once
(``shipped_backbone()``, the object ``backbone="pretrained"`` stands for) and hands that
one object to a DiffusionForecaster (forecasts 1960 from 1949-1959), a
DiffusionImputer (fills 15% of the months and a 12-month gap), a
DiffusionAnomalyDetector (fitted on 1949-1955, scores 1956-1960 with three spikes
added) and a DiffusionGenerator (draws four new 144-month series). Each fine-tunes its
own copy for ``--fine-tune-steps`` steps (default: the estimators' default; 0 only
conditions on the data). It prints each task's seconds and a score next to a simple
peer, checks that the backbone's weights are the same before and after, and draws the
four results. Airline is one short series, a picture of the workflow: the backbone's
measured results are on the docs' model card (``docs/backbone.md``).
"""

from __future__ import annotations

import argparse
import hashlib
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
from sktime.datasets import load_airline
from sktime.forecasting.naive import NaiveForecaster

from sktime_diffusion import (
    DiffusionAnomalyDetector,
    DiffusionForecaster,
    DiffusionGenerator,
    DiffusionImputer,
)
from sktime_diffusion.backbone import shipped_backbone
from sktime_diffusion.metrics import crps_from_quantiles

LEVELS = [round(level, 2) for level in np.arange(0.05, 1.0, 0.05)]
SPIKES = {"1957-03": 1.4, "1958-11": 0.6, "1960-05": 1.35}  # month: factor applied


def weights_digest(backbone) -> str:
    """md5 of the backbone's weights: the same digest means the same weights."""
    digest = hashlib.md5()
    for name, tensor in sorted(backbone.model_.network.state_dict().items()):
        digest.update(name.encode())
        digest.update(tensor.detach().cpu().numpy().tobytes())
    return digest.hexdigest()


def timed(action):
    started = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = action()
    return result, time.perf_counter() - started


def forecast(backbone, params, y):
    y_train, y_test = y[:-12], y[-12:]
    forecaster = DiffusionForecaster(backbone=backbone, random_state=0, **params)
    _, seconds = timed(lambda: forecaster.fit(y_train, fh=list(range(1, 13))))
    quantiles = forecaster.predict_quantiles(alpha=LEVELS).to_numpy()
    naive = NaiveForecaster(strategy="last", sp=12).fit(y_train, fh=list(range(1, 13)))
    naive_quantiles = naive.predict_quantiles(alpha=LEVELS).to_numpy()
    truth = y_test.to_numpy()
    crps = crps_from_quantiles(quantiles, truth, LEVELS).mean()
    naive_crps = crps_from_quantiles(naive_quantiles, truth, LEVELS).mean()
    note = f"CRPS {crps:.1f} (seasonal naive {naive_crps:.1f})"
    return forecaster, seconds, note


def impute(backbone, params, y):
    y_train = y[:-12]
    rng = np.random.default_rng(0)
    holed = y_train.copy()
    holed.iloc[rng.choice(len(holed), size=int(0.15 * len(holed)), replace=False)] = np.nan
    holed.iloc[60:72] = np.nan
    imputer = DiffusionImputer(backbone=backbone, random_state=0, **params)
    filled, seconds = timed(lambda: imputer.fit_transform(holed))
    missing = holed.isna().to_numpy()
    error = np.abs(filled.to_numpy().ravel() - y_train.to_numpy())[missing].mean()
    linear = holed.interpolate(limit_direction="both").to_numpy()
    linear_error = np.abs(linear - y_train.to_numpy())[missing].mean()
    note = (
        f"MAE {error:.1f} on {missing.sum()} entries "
        f"(linear interpolation {linear_error:.1f})"
    )
    return (imputer, holed), seconds, note


def detect(backbone, params, y):
    spiked = y.copy()
    for month, factor in SPIKES.items():
        spiked[pd.Period(month, freq="M")] *= factor
    fit_part, scored = spiked[:84], spiked[84:]
    detector = DiffusionAnomalyDetector(backbone=backbone, random_state=0, **params)
    _, seconds = timed(lambda: detector.fit(fit_part))
    positions = detector.predict(scored).to_numpy().ravel()  # ilocs of flagged points
    found = [str(month) for month in scored.index[positions.astype(int)]]
    note = f"flagged {found or 'nothing'} (spikes at {', '.join(SPIKES)})"
    return (detector, scored), seconds, note


def generate(backbone, params, y):
    generator = DiffusionGenerator(backbone=backbone, random_state=0, **params)
    _, seconds = timed(lambda: generator.fit(y))
    samples = generator.sample(4, length=len(y))
    real_growth = float(np.log(y.iloc[-12:].mean() / y.iloc[:12].mean()))
    growths = [
        float(np.log(s.iloc[-12:].mean() / s.iloc[:12].mean()))
        for _, s in samples.iloc[:, 0].groupby(level=0)
    ]
    note = (
        f"log growth first to last year {np.round(growths, 2).tolist()} "
        f"(real {real_growth:.2f})"
    )
    return (generator, samples), seconds, note


def draw(results, y, output: Path) -> None:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        from sktime_diffusion.plotting import (
            plot_anomalies,
            plot_fan_chart,
            plot_imputation,
        )
    except ImportError:
        print("matplotlib is not installed: no plot (pip install 'sktime-diffusion[plot]')")
        return
    figure = plt.figure(figsize=(14, 8))
    grid = figure.add_gridspec(4, 2, height_ratios=[2, 1, 2, 1])
    forecaster = results["forecast"]
    plot_fan_chart(
        forecaster,
        y_history=y[-60:-12],
        y_true=y[-12:],
        ax=figure.add_subplot(grid[0:2, 0]),
        title="forecast of 1960",
    )
    imputer, holed = results["impute"]
    plot_imputation(
        imputer,
        holed,
        X_true=y[:-12],
        ax=figure.add_subplot(grid[0:2, 1]),
        title="imputation: 15% of the months and a 12-month gap",
    )
    detector, scored = results["detect"]
    series_ax = figure.add_subplot(grid[2, 0])
    plot_anomalies(
        detector,
        scored,
        axes=(series_ax, figure.add_subplot(grid[3, 0], sharex=series_ax)),
        title="anomaly scores, three spikes added",
    )
    generator, samples = results["generate"]
    ax = figure.add_subplot(grid[2:4, 1])
    ax.plot(np.arange(len(y)), y.to_numpy(), color="black", lw=1.5, label="airline")
    for number, (_, sample) in enumerate(samples.iloc[:, 0].groupby(level=0)):
        ax.plot(
            np.arange(len(sample)),
            sample.to_numpy(),
            lw=0.8,
            label="generated" if number == 0 else None,
        )
    ax.set_title("four generated series")
    ax.legend(loc="upper left")
    figure.suptitle(
        "One DiffusionBackbone (the shipped checkpoint) serving four estimators"
    )
    figure.tight_layout()
    output.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(output, dpi=90)
    print(f"figure written to {output}")


def main(output: Path, fine_tune_steps: int | None) -> None:
    y = load_airline()
    backbone, load_seconds = timed(shipped_backbone)
    before = weights_digest(backbone)
    params = {} if fine_tune_steps is None else {"fine_tune_steps": fine_tune_steps}
    print(f"shipped backbone loaded in {load_seconds:.2f} s; estimator parameters {params}")
    results = {}
    for task, run in (
        ("forecast", forecast),
        ("impute", impute),
        ("detect", detect),
        ("generate", generate),
    ):
        results[task], seconds, note = run(backbone, params, y)
        print(f"  {task:9s} fit {seconds:6.2f} s  {note}")
    after = weights_digest(backbone)
    print(f"backbone weights unchanged: {before == after} (md5 {after})")
    if before != after:
        raise SystemExit("the backbone's weights changed")
    draw(results, y, output)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--output", type=Path, default=Path("outputs/backbone_all_four.png")
    )
    parser.add_argument("--fine-tune-steps", type=int, default=None)
    args = parser.parse_args()
    main(args.output, args.fine_tune_steps)
