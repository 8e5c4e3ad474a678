"""GPU check: each estimator's defaults trained and sampled on CUDA and on the CPU.

Run from the repository root on a machine with a CUDA GPU (a few minutes)::

    python benchmarks/gpu_check.py [--training-steps 300] [--devices cpu,cuda,cuda-bf16]

For each estimator, with ``random_state=0`` and a short fixed budget (``training_steps``,
the same on both devices): the forecaster on the airline data (the last 12 months held
out: CRPS of 19 quantiles), the imputer on the airline data with 10% of the months
hidden (mean absolute error on them), the anomaly detector on the airline data with
three spikes added (the share of the spikes among the three highest scores) and the
generator on 500 sines of 24 steps (marginal distance to 500 other ones). CUDA draws
other random numbers than the CPU, so the devices cannot agree bit for bit; they agree
when each score on CUDA is within the stated tolerance of the CPU's. The table also
gives training windows per second (optimiser steps x batch / fit seconds) and
window-samples per second (samples drawn / sampling seconds) on each device.

"cuda-bf16" is CUDA with ``precision="bfloat16"`` (the network under bfloat16 autocast;
left out on a GPU without bfloat16 support).

Without a CUDA GPU the script says so and runs the CPU rows only (exit code 0); with
one, it exits with code 1 when a score is out of tolerance.
"""

from __future__ import annotations

import argparse
import sys
import time
import warnings

import numpy as np
import pandas as pd
import torch

from sktime_diffusion.engine.precision import has_bfloat16_units

#: a CUDA score agrees with the CPU's within this share (scores from short training on
#: small data move by this much between seeds on one device)
RELATIVE_TOLERANCE = 0.35
#: or within this much, for scores near zero
ABSOLUTE_TOLERANCE = 0.02


def _timed(function):
    if torch.cuda.is_available():
        torch.cuda.synchronize()
    started = time.perf_counter()
    result = function()
    if torch.cuda.is_available():
        torch.cuda.synchronize()
    return result, time.perf_counter() - started


def _rates(estimator, history, fit_s, n_window_samples, sample_s) -> dict:
    return {
        "training windows/s": history.n_steps * int(estimator.batch_size) / fit_s,
        "window-samples/s": n_window_samples / sample_s,
        "fit s": fit_s,
        "sample s": sample_s,
    }


def check_forecaster(device: str, steps: int, precision: str) -> dict:
    from sktime.datasets import load_airline

    from sktime_diffusion import DiffusionForecaster
    from sktime_diffusion.metrics import crps_from_quantiles

    y = load_airline()
    train, test = y.iloc[:-12], y.iloc[-12:]
    forecaster = DiffusionForecaster(
        training_steps=steps, device=device, precision=precision, random_state=0
    )
    _, fit_s = _timed(lambda: forecaster.fit(train, fh=list(range(1, 13))))
    levels = np.linspace(0.05, 0.95, 19)
    quantiles, sample_s = _timed(lambda: forecaster.predict_quantiles(alpha=list(levels)))
    score = float(crps_from_quantiles(quantiles.to_numpy(), test.to_numpy(), levels).mean())
    n = int(forecaster.n_samples)
    rates = _rates(forecaster, forecaster.training_history_, fit_s, n, sample_s)
    return {"estimator": "DiffusionForecaster", "score": "CRPS", "value": score} | rates


def check_imputer(device: str, steps: int, precision: str) -> dict:
    from sktime.datasets import load_airline

    from sktime_diffusion import DiffusionImputer

    y = load_airline().to_frame()
    hidden = np.random.default_rng(0).random(len(y)) < 0.1
    gappy = y.copy()
    gappy.iloc[hidden, 0] = np.nan
    imputer = DiffusionImputer(
        training_steps=steps, device=device, precision=precision, random_state=0
    )
    _, fit_s = _timed(lambda: imputer.fit(gappy))
    filled, sample_s = _timed(lambda: imputer.transform(gappy))
    error = float(np.abs(filled.to_numpy()[hidden] - y.to_numpy()[hidden]).mean())
    n = int(imputer.n_samples) * int(np.ceil(len(y) / imputer.window_length_))
    history = imputer.training_histories_[0]
    rates = _rates(imputer, history, fit_s, n, sample_s)
    return {"estimator": "DiffusionImputer", "score": "MAE", "value": error} | rates


def check_detector(device: str, steps: int, precision: str) -> dict:
    from sktime.datasets import load_airline

    from sktime_diffusion import DiffusionAnomalyDetector

    y = load_airline().to_frame()
    spikes = [30, 70, 110]
    y.iloc[spikes, 0] += 150.0
    detector = DiffusionAnomalyDetector(
        training_steps=steps, device=device, precision=precision, random_state=0
    )
    _, fit_s = _timed(lambda: detector.fit(y))
    scores, sample_s = _timed(lambda: detector.transform_scores(y))
    top = np.argsort(scores.to_numpy().ravel())[-3:]
    found = len(set(top.tolist()) & set(spikes)) / 3
    n = int(detector.n_samples) * int(np.ceil(len(y) / detector.window_length_))
    rates = _rates(detector, detector.training_history_, fit_s, n, sample_s)
    return {
        "estimator": "DiffusionAnomalyDetector",
        "score": "spikes found",
        "value": found,
    } | rates


def check_generator(device: str, steps: int, precision: str) -> dict:
    from sktime_diffusion import DiffusionGenerator
    from sktime_diffusion.datasets import make_sines
    from sktime_diffusion.metrics import marginal_distance

    real = make_sines(n_series=500, length=24, n_features=3, random_state=0)
    other = make_sines(n_series=500, length=24, n_features=3, random_state=1)
    generator = DiffusionGenerator(
        training_steps=steps, device=device, precision=precision, random_state=0
    )
    _, fit_s = _timed(lambda: generator.fit(real))
    synthetic, sample_s = _timed(lambda: generator.sample(500))

    def windows(panel: pd.DataFrame) -> np.ndarray:
        return panel.to_numpy().reshape(500, 24, 3)

    distance = float(marginal_distance(windows(other), windows(synthetic)))
    rates = _rates(generator, generator.training_history_, fit_s, 500, sample_s)
    return {
        "estimator": "DiffusionGenerator",
        "score": "marginal distance",
        "value": distance,
    } | rates


CHECKS = [check_forecaster, check_imputer, check_detector, check_generator]

#: the rows a device name of ``--devices`` stands for: (device, precision)
DEVICE_ROWS = {
    "cpu": ("cpu", "float32"),
    "cuda": ("cuda", "float32"),
    "cuda-bf16": ("cuda", "bfloat16"),
}


def agrees(cpu: float, cuda: float) -> bool:
    """Whether a CUDA score is within the tolerances of the CPU's."""
    gap = abs(cuda - cpu)
    return gap <= ABSOLUTE_TOLERANCE or gap <= RELATIVE_TOLERANCE * abs(cpu)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--training-steps", type=int, default=300)
    parser.add_argument("--devices", default="cpu,cuda,cuda-bf16")
    args = parser.parse_args()
    warnings.filterwarnings("ignore")
    from _report import environment_line, markdown_table

    devices = args.devices.split(",")
    unknown = sorted(set(devices) - DEVICE_ROWS.keys())
    if unknown:
        parser.error(f"unknown devices {unknown}; choose from {sorted(DEVICE_ROWS)}")
    if not torch.cuda.is_available():
        if any(d.startswith("cuda") for d in devices):
            print("No CUDA GPU is visible to torch: only the CPU rows are run.")
        devices = [d for d in devices if not d.startswith("cuda")]
    elif "cuda-bf16" in devices and not has_bfloat16_units(torch.device("cuda")):
        print("This GPU has no bfloat16 support: the cuda-bf16 rows are left out.")
        devices = [d for d in devices if d != "cuda-bf16"]
    print(environment_line(",".join(devices)))
    if torch.cuda.is_available():
        print(f"GPU: {torch.cuda.get_device_name(0)}")
    rows, failed = [], False
    for check in CHECKS:
        by_device = {}
        for name in devices:
            device, precision = DEVICE_ROWS[name]
            by_device[name] = check(device, args.training_steps, precision) | {
                "device": name
            }
            rows.append(by_device[name])
        for name in by_device.keys() - {"cpu"}:
            if "cpu" in by_device:
                ok = agrees(by_device["cpu"]["value"], by_device[name]["value"])
                by_device[name]["agrees with CPU"] = "yes" if ok else "NO"
                failed |= not ok
        print(f"  {rows[-1]['estimator']}: done", flush=True)
    columns = ["estimator", "device", "score", "value", "agrees with CPU", "fit s"]
    columns += ["training windows/s", "sample s", "window-samples/s"]
    print(markdown_table(rows, columns, {"training windows/s": 0, "window-samples/s": 0}))
    print(
        f"Tolerance: within {RELATIVE_TOLERANCE:.0%} of the CPU's score or "
        f"{ABSOLUTE_TOLERANCE} of it."
    )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
