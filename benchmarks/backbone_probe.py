"""Probe a pretrained backbone: does its network use the given context?

Three checks, in seconds, of a checkpoint (the shipped one by default):

- **A clean seasonal series, zero-shot.** A monthly sine of amplitude 3 plus a trend
  and a little noise (156 points), forecast 12 months ahead by
  ``DiffusionForecaster(backbone=..., fine_tune_steps=0)``, against seasonal naive.
  A backbone that learned to continue what it is given beats seasonal naive here.
- **The network's estimate at high noise.** On one window of that sine (48 given
  steps, 12 to forecast, standardised by the given ones as the backbone is), the
  network's estimate of the clean forecast ``E[x0 | x_t, given]`` at diffusion times
  0.99, 0.7, 0.4 and 0.1: at 0.99 ``x_t`` is nearly pure noise, so the estimate shows
  what the network makes of the context alone (zeros: it ignores it). With
  ``--from-scratch``, the same for the network of ``DiffusionForecaster(random_state=0)``
  trained from nothing on the series (about a minute), which the backbone should match.
- **Loss against the zero predictor.** On windows of a fresh synthetic corpus with
  the backbone's masks and scaling, the per-window loss of the network and of a
  network that outputs zeros (for a backbone with a baseline: one that adds nothing
  to the baseline), at several diffusion times, and how heavy-tailed the
  standardised targets (differences from the baseline) are (per-window mean square
  of the target entries).

``--train-on-sine STEPS`` probes, instead of a saved checkpoint, a backbone (32
channels) pretrained for ``STEPS`` steps on the sine's own history alone: whether the
backbone's masks, scaling and schedule can learn to use a context at all.

Run ``OMP_NUM_THREADS=1 python benchmarks/backbone_probe.py [--backbone FILE]
[--from-scratch] [--train-on-sine STEPS]``.
"""

from __future__ import annotations

import argparse
import warnings

import numpy as np
import pandas as pd
import torch
from _report import environment_line

from sktime_diffusion import DiffusionBackbone, DiffusionForecaster, DilatedConvNetwork
from sktime_diffusion.backbone import BACKBONE_MASKS, backbone_windows, shipped_backbone
from sktime_diffusion.corpus import synthetic_corpus
from sktime_diffusion.engine.masks import draw_given_mask
from sktime_diffusion.engine.model import Condition, regression_target
from sktime_diffusion.engine.scaling import BACKBONE_WINDOW_FLOOR, standardise_by_given

HORIZON = 12
TIMES = (0.99, 0.7, 0.4, 0.1)


def seasonal_series(length: int = 156, seed: int = 0) -> pd.Series:
    """Monthly sine (period 12, amplitude 3) over a trend of 0.05 a month, noise 0.3."""
    steps = np.arange(length)
    noise = np.random.default_rng(seed).standard_normal(length)
    values = 10 + 3 * np.sin(2 * np.pi * steps / 12) + 0.05 * steps + 0.3 * noise
    return pd.Series(values, index=pd.period_range("2000-01", periods=length, freq="M"))


def zero_shot_forecast(backbone, y: pd.Series) -> tuple[float, float]:
    """MAE of the zero-shot median forecast and of seasonal naive, last 12 points."""
    train, test = y[:-HORIZON], y[-HORIZON:]
    forecaster = DiffusionForecaster(backbone=backbone, fine_tune_steps=0, random_state=0)
    forecaster.fit(train, fh=list(range(1, HORIZON + 1)))
    median = forecaster.predict().to_numpy()
    naive = train.to_numpy()[-12:]
    truth = test.to_numpy()
    return float(np.abs(median - truth).mean()), float(np.abs(naive - truth).mean())


def estimates_at_high_noise(model, y: pd.Series) -> dict:
    """A network's clean-forecast estimate of one sine window at several times."""
    window = torch.tensor(y.to_numpy()[-60:], dtype=torch.float32).reshape(1, 1, 60)
    given = torch.zeros_like(window, dtype=torch.bool)
    given[..., :48] = True
    observed = torch.ones_like(given)
    scaled = standardise_by_given(window, observed, given, BACKBONE_WINDOW_FLOOR)[0]
    condition = Condition(values=scaled, given=given)
    generator = torch.Generator().manual_seed(0)
    # a model with a baseline diffuses (and estimates) differences from it
    baseline = model.baseline_of(scaled, given)
    estimates = {"truth": scaled[0, 0, 48:].numpy()}
    if model.baseline != "none":
        estimates["baseline"] = baseline[0, 0, 48:].numpy()
    model.eval()
    with torch.no_grad():
        for time in TIMES:
            t = torch.tensor([time])
            alpha, sigma = (
                level.float() for level in model.schedule.alpha_sigma(t.double())
            )
            noise = torch.randn(scaled.shape, generator=generator)
            x_t = alpha * torch.where(given, 0.0, scaled - baseline) + sigma * noise
            estimate = model.predict_x0(x_t, t, condition, baseline) + baseline
            estimates[f"t={time}"] = estimate[0, 0, 48:].numpy()
    return estimates


def loss_against_zero(backbone, n_windows: int = 512, seed: int = 123) -> list[dict]:
    """Per-window loss of the network and of zeros on corpus windows, by time."""
    model = backbone.model_
    series = synthetic_corpus(200, random_state=seed, max_length=1024)
    windows = backbone_windows(series, int(backbone.window_length))
    chosen = np.random.default_rng(seed).choice(len(windows), n_windows, replace=False)
    values, observed, _ = windows.take(torch.as_tensor(chosen), torch.device("cpu"))
    generator = torch.Generator().manual_seed(seed)
    given = draw_given_mask(observed, BACKBONE_MASKS, generator)
    scaled = standardise_by_given(values, observed, given, BACKBONE_WINDOW_FLOOR)[0]
    scaled = torch.where(observed, scaled, torch.zeros_like(scaled))
    shown = model._shown_values(scaled, given)
    if model.baseline != "none":  # the targets are differences from the baseline
        scaled = torch.where(observed, scaled - shown, torch.zeros_like(scaled))
    target_entries = (observed & ~given).float()
    counts = target_entries.sum((1, 2)).clamp_min(1.0)
    square = (scaled.square() * target_entries).sum((1, 2)) / counts
    rows = [
        {
            "what": "mean square of the standardised targets",
            "median": float(square.median()),
            "90%": float(square.quantile(0.9)),
            "99%": float(square.quantile(0.99)),
            "mean": float(square.mean()),
        }
    ]
    model.eval()
    with torch.no_grad():
        for time in TIMES:
            t = torch.full((n_windows,), time)
            alpha, sigma = (
                level.float() for level in model.schedule.alpha_sigma(t.double())
            )
            noise = torch.randn(scaled.shape, generator=generator)
            x_t = alpha[:, None, None] * scaled + sigma[:, None, None] * noise
            output = model._network_output(x_t, t, (alpha, sigma), shown, given, None)
            target = regression_target(model.parameterisation, scaled, noise, alpha, sigma)
            for name, guess in (("network", output), ("zeros", torch.zeros_like(target))):
                loss = ((guess - target).square() * target_entries).sum((1, 2)) / counts
                rows.append(
                    {
                        "what": f"loss of {name}, t={time}",
                        "median": float(loss.median()),
                        "90%": float(loss.quantile(0.9)),
                        "99%": float(loss.quantile(0.99)),
                        "mean": float(loss.mean()),
                    }
                )
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backbone", default=None, help="a saved DiffusionBackbone")
    parser.add_argument(
        "--from-scratch", action="store_true", help="also a network trained on the sine"
    )
    parser.add_argument(
        "--train-on-sine", type=int, default=None, help="pretrain on the sine, STEPS"
    )
    args = parser.parse_args()
    warnings.filterwarnings("ignore")
    y = seasonal_series()
    if args.train_on_sine is not None:
        name = f"pretrained on the sine's history alone, {args.train_on_sine} steps"
        loaded = DiffusionBackbone(
            network=DilatedConvNetwork(channels=32),
            training_steps=args.train_on_sine,
            random_state=0,
        ).pretrain(y[:-HORIZON].to_frame())
    elif args.backbone is None:
        name, loaded = "the shipped checkpoint", shipped_backbone()
    else:
        name, loaded = args.backbone, DiffusionBackbone.load(args.backbone)
    print(environment_line())
    print(f"backbone: {name}, {loaded.n_stages_} stage(s)")
    mae, naive = zero_shot_forecast(loaded, y)
    print(f"clean sine, zero-shot MAE {mae:.3f} (seasonal naive {naive:.3f})")
    print("estimate of the 12 standardised forecast steps from one window:")
    models = {"backbone": loaded.model_}
    if args.from_scratch:
        scratch = DiffusionForecaster(random_state=0)
        scratch.fit(y[:-HORIZON], fh=list(range(1, HORIZON + 1)))
        models["from scratch"] = scratch.model_
    for model_name, model in models.items():
        print(f"  {model_name}:")
        for name, values in estimates_at_high_noise(model, y).items():
            text = np.array2string(values, precision=2, max_line_width=200)
            print(f"    {name:7s} {text}")
    print("per-window figures on 512 corpus windows (backbone masks and scaling):")
    print(f"  {'':48s} {'median':>8s} {'90%':>8s} {'99%':>8s} {'mean':>8s}")
    for row in loss_against_zero(loaded):
        print(
            f"  {row['what']:48s} {row['median']:8.3f} {row['90%']:8.3f} "
            f"{row['99%']:8.3f} {row['mean']:8.3f}"
        )


if __name__ == "__main__":
    main()
