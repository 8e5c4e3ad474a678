"""Pretrain once, then forecast short new series: what does fitting after pretrain add?

Run from the repository root::

    OMP_NUM_THREADS=1 python benchmarks/fine_tuning.py --data-dir ../shared/data

Protocol: ``DiffusionForecaster`` is pretrained on the seven columns of ETTh2 (the
first ``--pretrain-hours`` hours, a panel of seven series). The new series are columns
of ETTh1 (never seen in pretraining): at each origin a week of history (168 hours) is
given and the next 24 hours are forecast. Rows:

- ``from scratch``: a new forecaster fitted on the week alone (no pretraining);
- ``condition only``: the pretrained network with ``fine_tune_steps=0``;
- ``fine-tuned``: the pretrained network fine-tuned as by default (a copy, a tenth of
  the learning rate, an EMA that starts at the pretrained weights);
- ``fine-tuned at the full rate``: the same steps at the full learning rate with a
  warm-up EMA (the rule before the fine-tune change), only when named in ``--modes``.

Scores: mean CRPS (from the sample paths) and the coverage of the 50% and 90% intervals
over every origin, column and step, with the fit time per series.
"""

from __future__ import annotations

import argparse
import platform
import time
from contextlib import contextmanager

import numpy as np
import pandas as pd
import sktime
import torch

import sktime_diffusion
from sktime_diffusion import DiffusionForecaster
from sktime_diffusion._estimator_engine import DiffusionEngineMixin
from sktime_diffusion.datasets import load_ett
from sktime_diffusion.metrics import crps_from_samples

MODES = ("from scratch", "condition only", "fine-tuned", "fine-tuned at the full rate")
HISTORY, HORIZON = 168, 24


@contextmanager
def full_rate_fine_tunes():
    """Fine-tunes train like a fresh training (the rule before the change)."""
    original = DiffusionEngineMixin._train

    def train(self, *args, fine_tune=False, **kwargs):
        return original(self, *args, fine_tune=False, **kwargs)

    DiffusionEngineMixin._train = train
    try:
        yield
    finally:
        DiffusionEngineMixin._train = original


def pretrained_forecaster(data_dir, hours: int, seed: int) -> DiffusionForecaster:
    etth2 = load_ett("ETTh2", data_dir).iloc[:hours]
    panel = etth2.melt(ignore_index=False, var_name="series", value_name="value")
    panel = panel.set_index("series", append=True).swaplevel().sort_index()
    forecaster = DiffusionForecaster(random_state=seed)
    started = time.perf_counter()
    forecaster.pretrain(panel, fh=list(range(1, HORIZON + 1)))
    took = time.perf_counter() - started
    print(f"pretrained on {etth2.shape[1]} x {hours} hours in {took:.0f} s")
    return forecaster


def score(paths: pd.DataFrame, truth: np.ndarray) -> dict[str, np.ndarray]:
    samples = paths.to_numpy().reshape(-1, HORIZON)  # (n_samples, horizon)
    lower50, upper50 = np.quantile(samples, [0.25, 0.75], axis=0)
    lower90, upper90 = np.quantile(samples, [0.05, 0.95], axis=0)
    return {
        "crps": crps_from_samples(samples, truth),
        "cov50": (lower50 <= truth) & (truth <= upper50),
        "cov90": (lower90 <= truth) & (truth <= upper90),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", default=None)
    parser.add_argument("--pretrain-hours", type=int, default=2000)
    parser.add_argument("--columns", default="HUFL,MUFL,LUFL,OT")
    parser.add_argument("--origins", default="3000,6000")
    parser.add_argument("--modes", default="from scratch,condition only,fine-tuned")
    parser.add_argument("--random-state", type=int, default=0)
    args = parser.parse_args()
    modes = [mode.strip() for mode in args.modes.split(",")]
    unknown = set(modes) - set(MODES)
    if unknown:
        parser.error(f"unknown modes {sorted(unknown)}; choose from {MODES}")
    seed = args.random_state
    etth1 = load_ett("ETTh1", args.data_dir)
    fh = list(range(1, HORIZON + 1))
    pretrained = None
    if set(modes) - {"from scratch"}:
        pretrained = pretrained_forecaster(args.data_dir, args.pretrain_hours, seed)
    results = {mode: [] for mode in modes}
    seconds = {mode: [] for mode in modes}
    for column in args.columns.split(","):
        for origin in map(int, args.origins.split(",")):
            history = etth1[column].iloc[origin - HISTORY : origin]
            truth = etth1[column].iloc[origin : origin + HORIZON].to_numpy()
            for mode in modes:
                if mode == "from scratch":
                    forecaster = DiffusionForecaster(random_state=seed)
                else:
                    forecaster = pretrained.clone()
                    if mode == "condition only":
                        forecaster._set_params_at("pretrained", {"fine_tune_steps": 0})
                started = time.perf_counter()
                if mode == "fine-tuned at the full rate":
                    with full_rate_fine_tunes():
                        forecaster.fit(history, fh=fh)
                else:
                    forecaster.fit(history, fh=fh)
                seconds[mode].append(time.perf_counter() - started)
                results[mode].append(score(forecaster.predict_samples(), truth))
    print()
    print(
        f"sktime-diffusion {sktime_diffusion.__version__}, sktime {sktime.__version__}, "
        f"torch {torch.__version__}, Python {platform.python_version()}, "
        f"{platform.machine()}, {torch.get_num_threads()} torch thread(s), seed {seed}"
    )
    print("| mode | CRPS | cov. 50% | cov. 90% | fit s per series |")
    print("|---|---|---|---|---|")
    for mode in modes:
        parts = results[mode]
        crps = np.mean([p["crps"].mean() for p in parts])
        cov50 = np.mean([p["cov50"].mean() for p in parts])
        cov90 = np.mean([p["cov90"].mean() for p in parts])
        print(
            f"| {mode} | {crps:.3f} | {cov50:.3f} | {cov90:.3f} | "
            f"{np.mean(seconds[mode]):.1f} |"
        )


if __name__ == "__main__":
    main()
