"""Synthetic stock-price windows, and how close they come to the real ones.

Run ``python examples/generation_stocks.py path/to/stock_data.csv [--output
outputs/generation_stocks.png]`` (TimeGAN's Google stock file; ``../shared/data/timegan/
stock_data.csv`` here). It min-max scales the six columns, cuts windows of 24 trading
days, fits DiffusionGenerator (defaults, ``random_state=0``), draws as many synthetic
windows, prints the discriminative and predictive scores (one seed; the predictive
score of the real windows is the floor) and the marginal and autocorrelation
distances, and plots real next to synthetic windows and both in the plane of the real
windows' first two principal components. ``benchmarks/generation.py`` runs the full
protocol with five seeds.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np

from sktime_diffusion import DiffusionGenerator
from sktime_diffusion.datasets import load_stock_windows
from sktime_diffusion.metrics import (
    autocorrelation_distance,
    discriminative_score,
    marginal_distance,
    predictive_score,
)

LENGTH = 24


def main(path: Path, output: Path) -> None:
    real = load_stock_windows(path, LENGTH)
    started = time.perf_counter()
    generator = DiffusionGenerator(random_state=0)
    generator.fit(np.ascontiguousarray(real.transpose(0, 2, 1)))  # numpy3D
    fit_seconds = time.perf_counter() - started
    started = time.perf_counter()
    synthetic = generator.sample(len(real)).transpose(0, 2, 1)
    sample_seconds = time.perf_counter() - started
    print(
        f"{len(real)} windows of {LENGTH} days x 6 columns; trained in "
        f"{fit_seconds:.0f} s, sampled {len(real)} windows in {sample_seconds:.0f} s"
    )
    print(f"discriminative score : {discriminative_score(real, synthetic):.3f} (0 is best)")
    print(
        f"predictive score     : {predictive_score(real, synthetic):.3f} "
        f"(real data: {predictive_score(real, real):.3f})"
    )
    print(f"marginal distance    : {marginal_distance(real, synthetic):.4f}")
    print(f"autocorrelation dist.: {autocorrelation_distance(real, synthetic):.4f}")

    try:
        import matplotlib.pyplot as plt

        from sktime_diffusion.plotting import plot_real_vs_synthetic, plot_window_embedding
    except ImportError:
        return
    figure = plt.figure(figsize=(14, 4))
    grid = figure.add_gridspec(1, 3)
    series_axes = [figure.add_subplot(grid[0, 0])]
    series_axes.append(figure.add_subplot(grid[0, 1], sharey=series_axes[0]))
    plot_real_vs_synthetic(real, synthetic, n_series=6, feature=3, axes=series_axes)
    plot_window_embedding(real, synthetic, ax=figure.add_subplot(grid[0, 2]))
    output.parent.mkdir(parents=True, exist_ok=True)
    figure.tight_layout()
    figure.savefig(output, dpi=120)
    print(f"wrote {output}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("csv", type=Path, help="TimeGAN's stock_data.csv")
    parser.add_argument(
        "--output", type=Path, default=Path("outputs/generation_stocks.png")
    )
    arguments = parser.parse_args()
    main(arguments.csv, arguments.output)
