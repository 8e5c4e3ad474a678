"""Engine demo: a small denoiser learns the airline series and forecasts its last year.

Run ``python examples/engine_demo.py [--output outputs/engine_demo.png]``. It trains a
dilated-convolution denoiser on windows of sktime's airline data (log scale, standardised)
with forecast-style and random training masks, then hides the last 12 months and draws
100 sample paths for them with DPM-Solver++ (20 steps). It prints the median and the 80%
interval next to the truth and saves a fan chart. Everything is seeded.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import torch
from sktime.datasets import load_airline

from sktime_diffusion.engine import (
    Condition,
    DiffusionModel,
    MaskStrategy,
    TrainingConfig,
    WindowData,
    generate,
    make_schedule,
    train_model,
)

CONTEXT, HORIZON = 36, 12


def main(output: Path) -> None:
    y = load_airline()
    log_y = np.log(y.to_numpy())
    train = log_y[:-HORIZON]
    mean, std = train.mean(), train.std()
    scaled = torch.tensor((train - mean) / std, dtype=torch.float32)
    length = CONTEXT + HORIZON
    windows = scaled.unfold(0, length, 1)[:, None, :]  # (n_windows, 1, length)
    data = WindowData(windows, torch.ones_like(windows, dtype=torch.bool))

    with torch.random.fork_rng():
        torch.manual_seed(0)
        model = DiffusionModel(
            {
                "kind": "dilated_conv",
                "n_features": 1,
                "n_side": 0,
                "channels": 32,
                "n_layers": 6,
                "dilation_cycle": 4,
                "kernel_size": 3,
                "time_embedding_dim": 128,
            },
            make_schedule("cosine", n_steps=100),
            "v",
        )
    started = time.perf_counter()
    history = train_model(
        model,
        data,
        MaskStrategy(random=0.3, suffix=0.7, suffix_length=HORIZON),
        TrainingConfig(epochs=300, batch_size=32, learning_rate=2e-3, seed=0),
    )
    print(
        f"trained on {len(data)} windows of {length} months in "
        f"{time.perf_counter() - started:.1f} s; loss {history.train_loss[0]:.3f} -> "
        f"{history.train_loss[-1]:.3f}"
    )

    context = torch.tensor((log_y[-length:] - mean) / std, dtype=torch.float32)
    given = torch.ones(1, 1, length, dtype=torch.bool)
    given[..., -HORIZON:] = False
    condition = Condition(context.reshape(1, 1, length), given)
    samples = generate(
        model,
        condition,
        100,
        sampler="dpm_solver",
        n_steps=20,
        generator=torch.Generator().manual_seed(0),
    )
    paths = np.exp(samples[0, :, 0, -HORIZON:].numpy() * std + mean)
    median = np.median(paths, axis=0)
    low, high = np.quantile(paths, [0.1, 0.9], axis=0)
    truth = y.to_numpy()[-HORIZON:]
    print(f"{'month':>8} {'truth':>7} {'median':>7} {'80% interval':>17}")
    for month, t, m, lo, hi in zip(
        y.index[-HORIZON:], truth, median, low, high, strict=True
    ):
        print(f"{month!s:>8} {t:7.0f} {m:7.0f} {lo:8.0f} - {hi:6.0f}")
    mae = np.abs(median - truth).mean()
    seasonal_naive = y.to_numpy()[-2 * HORIZON : -HORIZON]
    print(
        f"MAE of the median: {mae:.1f} (seasonal naive: "
        f"{np.abs(seasonal_naive - truth).mean():.1f}); "
        f"80% interval covers {np.mean((truth >= low) & (truth <= high)):.0%} of months"
    )
    _plot(y, paths, output)


def _plot(y, paths: np.ndarray, output: Path) -> None:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("matplotlib is not installed: no plot (pip install 'sktime-diffusion[plot]')")
        return
    x = y.index.to_timestamp()
    future = x[-HORIZON:]
    fig, ax = plt.subplots(figsize=(9, 4))
    ax.plot(x, y.to_numpy(), color="black", lw=1, label="airline passengers")
    for level, alpha in ((0.95, 0.15), (0.8, 0.25), (0.5, 0.35)):
        low, high = np.quantile(paths, [(1 - level) / 2, (1 + level) / 2], axis=0)
        ax.fill_between(
            future, low, high, color="tab:blue", alpha=alpha, label=f"{level:.0%} interval"
        )
    ax.plot(future, np.median(paths, axis=0), color="tab:blue", label="median")
    ax.set_title("Engine demo: 100 diffusion sample paths for the last 12 months")
    ax.legend(loc="upper left")
    output.parent.mkdir(parents=True, exist_ok=True)
    fig.tight_layout()
    fig.savefig(output, dpi=100)
    print(f"fan chart written to {output}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output", type=Path, default=Path("outputs/engine_demo.png"))
    main(parser.parse_args().output)
