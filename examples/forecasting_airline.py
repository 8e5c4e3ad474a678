"""Forecast the last year of sktime's airline data, next to classical forecasters.

Run ``python examples/forecasting_airline.py [--output outputs/forecast_airline.png]``.
It fits DiffusionForecaster (defaults, ``random_state=0``) on 1949-1959 and forecasts
1960 with 100 sample paths, fits sktime's classical forecasters on the same data (those
whose packages are installed), prints a side-by-side table of MAE, CRPS (from 99
quantiles) and 90%-interval coverage on the held-out year, and writes a fan chart.
One fold only: ``benchmarks/forecasting.py`` runs the 5-fold protocol.
"""

from __future__ import annotations

import argparse
import time
import warnings
from pathlib import Path

import numpy as np
from sktime.datasets import load_airline
from sktime.forecasting.naive import NaiveForecaster

from sktime_diffusion import DiffusionForecaster
from sktime_diffusion.metrics import crps_from_quantiles, interval_coverage

LEVELS = [round(level, 2) for level in np.arange(0.01, 1.0, 0.01)]


def classical_forecasters() -> dict:
    """Seasonal naive always; Theta, ETS and ARIMA where their packages are installed."""
    forecasters = {"seasonal naive": NaiveForecaster(strategy="last", sp=12)}
    try:
        from sktime.forecasting.theta import ThetaForecaster

        forecasters["Theta"] = ThetaForecaster(sp=12)
    except ImportError:
        pass
    try:
        from sktime.forecasting.statsforecast import (
            StatsForecastAutoARIMA,
            StatsForecastAutoETS,
        )

        forecasters["AutoETS (statsforecast)"] = StatsForecastAutoETS(season_length=12)
        forecasters["AutoARIMA (statsforecast)"] = StatsForecastAutoARIMA(sp=12)
    except ImportError:
        pass
    return forecasters


def score(forecaster, y_train, y_test) -> dict:
    fh = list(range(1, len(y_test) + 1))
    started = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        forecaster.fit(y_train, fh=fh)
        seconds = time.perf_counter() - started
        point = forecaster.predict().to_numpy()
        quantiles = forecaster.predict_quantiles(alpha=LEVELS).to_numpy()
    truth = y_test.to_numpy()
    return {
        "MAE": np.abs(point - truth).mean(),
        "CRPS": crps_from_quantiles(quantiles, truth, LEVELS).mean(),
        "90% coverage": interval_coverage(
            quantiles[:, LEVELS.index(0.05)], quantiles[:, LEVELS.index(0.95)], truth
        ),
        "fit s": seconds,
    }


def main(output: Path) -> None:
    y = load_airline()
    y_train, y_test = y[:-12], y[-12:]
    diffusion = DiffusionForecaster(random_state=0)
    rows = {"DiffusionForecaster": score(diffusion, y_train, y_test)}
    for name, forecaster in classical_forecasters().items():
        rows[name] = score(forecaster, y_train, y_test)
    print(f"Airline passengers, forecasting 1960 from 1949-1959 ({len(y_train)} months)")
    print(f"{'model':28s} {'MAE':>7s} {'CRPS':>7s} {'90% cov':>8s} {'fit s':>7s}")
    for name, row in rows.items():
        print(
            f"{name:28s} {row['MAE']:7.1f} {row['CRPS']:7.2f} "
            f"{row['90% coverage']:8.2f} {row['fit s']:7.1f}"
        )
    try:
        import matplotlib

        matplotlib.use("Agg")
        from sktime_diffusion.plotting import plot_fan_chart
    except ImportError:
        print("matplotlib is not installed: no plot (pip install 'sktime-diffusion[plot]')")
        return
    ax = plot_fan_chart(
        diffusion,
        y_history=y_train[-48:],
        y_true=y_test,
        title="DiffusionForecaster: 1960 forecast, 50/80/95% intervals",
    )
    output.parent.mkdir(parents=True, exist_ok=True)
    ax.figure.tight_layout()
    ax.figure.savefig(output, dpi=100)
    print(f"fan chart written to {output}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output", type=Path, default=Path("outputs/forecast_airline.png"))
    main(parser.parse_args().output)
