"""Forecasting benchmark: DiffusionForecaster next to classical forecasters, same folds.

Run from the repository root (``pip install -e ".[bench]"`` first)::

    python benchmarks/forecasting.py --data-dir ../shared/data
    python benchmarks/forecasting.py --datasets airline --models diffusion,autoarima

Protocols (as in the forecaster issue):

- ``airline``: sktime's bundled airline data, fh 1..12,
  ``ExpandingWindowSplitter(initial_window=84, step_length=12)``, 5 folds, sp = 12;
- ``etth1-ot``: ETTh1 ``OT`` (hourly), fh 1..24, ``initial_window=13936``,
  ``step_length=865``, 5 folds, sp = 24;
- ``etth1``: the same folds with all 7 columns forecast jointly.

Two more series with no goals of their own, to check that a default chosen on airline
carries over to other short series:

- ``lynx``: sktime's ``load_lynx`` (annual, 114 points, a cycle of about ten years
  that no calendar period names), fh 1..10, ``initial_window=64``,
  ``step_length=10``, 5 folds, sp = 1;
- ``ili``: the weekly influenza-like-illness rate (``% WEIGHTED ILI`` of the long-term
  forecasting papers' ``national_illness.csv``, 966 weeks), fh 1..24,
  ``initial_window=312``, ``step_length=156``, 5 folds (6 to 18 years of training
  data), sp = 52.

``--origins N`` replaces the five folds by N forecast origins one horizon apart from
the first fold's cutoff (e.g. 145 days of ETTh1 after row 13936): a check of the
intervals' calibration on more than five forecasts. DiffusionForecaster is fitted once
and then updated without training (``update(update_params=False)``); the classical
models are refitted at every origin. A second table splits the origins into thirds by
the naive forecast's MAE on each (calm, middle and hard days) and shows each model's
scores per third, with the naive MAE of the five folds' days for comparison.

``conformal DiffusionForecaster`` (only when named in ``--models``) is sktime's
``ConformalIntervals`` around the default DiffusionForecaster: the point forecast is the
forecaster's, the intervals come from the errors of refits from three quarters of each
fold's training data on, at a random half of those cutoffs (``sample_frac=0.5``; not
seeded by sktime, so its figures move a little between runs).

Every model is scored the same way from its quantile forecasts at the 99 levels
0.01, ..., 0.99: CRPS = twice the mean pinball loss over those levels
(:func:`sktime_diffusion.metrics.crps_from_quantiles`); the 50/80/90/95% intervals are
the central quantile pairs (0.25 / 0.75, ..., 0.025 / 0.975, the last two levels asked
for in the same call), and MAE / MASE use the point forecast (``predict``). MASE
divides by the in-sample MAE of the naive (last value) forecast on each fold's training
data, as sktime's ``MeanAbsoluteScaledError()`` does by default. Figures are means over
folds (and columns); times are seconds per fit and per predict call (all quantiles).
"""

from __future__ import annotations

import argparse
import json
import time
import warnings
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
from _pypots import CSDIForecaster
from _report import (
    COVERAGE_COLUMNS,
    coverage_scores,
    diffusion_parameters,
    environment_line,
    interval_levels,
    markdown_table,
)
from sktime.datasets import load_airline, load_lynx
from sktime.forecasting.naive import NaiveForecaster
from sktime.split import ExpandingWindowSplitter

from sktime_diffusion import DiffusionForecaster
from sktime_diffusion.datasets import load_ett, load_ili
from sktime_diffusion.metrics import crps_from_quantiles

LEVELS = [round(level, 2) for level in np.arange(0.01, 1.0, 0.01)]

#: ConformalIntervals around DiffusionForecaster: refits from three quarters of each
#: fold's training data on (shorter stretches are too short for the forecaster's
#: context and the rest of the fold as horizon), at half of the cutoffs (one fit each)
CONFORMAL_INITIAL, CONFORMAL_FRACTION = 0.75, 0.5
#: models run only when named in --models ("all" leaves them out: slow)
ON_REQUEST = {"conformal DiffusionForecaster"}

DATASETS = {
    # name: (loader, fh length, initial window, step, sp)
    "airline": (lambda data_dir: load_airline(), 12, 84, 12, 12),
    "etth1-ot": (lambda data_dir: load_ett("ETTh1", data_dir)["OT"], 24, 13936, 865, 24),
    "etth1": (lambda data_dir: load_ett("ETTh1", data_dir), 24, 13936, 865, 24),
    "lynx": (lambda data_dir: load_lynx(), 10, 64, 10, 1),
    "ili": (lambda data_dir: load_ili(data_dir)["% WEIGHTED ILI"], 24, 312, 156, 52),
}


def _models(
    sp: int, n_timepoints: int, random_state: int, diffusion_params: dict
) -> dict[str, Callable]:
    """Factories of the compared forecasters (imported lazily: optional packages)."""

    def theta():
        from sktime.forecasting.theta import ThetaForecaster

        return ThetaForecaster(sp=sp)

    def ets():
        from sktime.forecasting.statsforecast import StatsForecastAutoETS

        return StatsForecastAutoETS(season_length=sp)

    def autoarima():
        from sktime.forecasting.arima import AutoARIMA

        return AutoARIMA(sp=sp, suppress_warnings=True)

    def statsforecast_autoarima():
        from sktime.forecasting.statsforecast import StatsForecastAutoARIMA

        return StatsForecastAutoARIMA(sp=sp)

    def conformal():
        from sktime.forecasting.conformal import ConformalIntervals

        forecaster = DiffusionForecaster(random_state=random_state, **diffusion_params)
        return ConformalIntervals(
            forecaster, initial_window=CONFORMAL_INITIAL, sample_frac=CONFORMAL_FRACTION
        )

    models = {
        "naive": lambda: NaiveForecaster(strategy="last"),
        "seasonal naive": lambda: NaiveForecaster(strategy="last", sp=sp),
        "theta": theta,
        "StatsForecastAutoETS": ets,
        "AutoARIMA (pmdarima)": autoarima,
        "StatsForecastAutoARIMA": statsforecast_autoarima,
        "DiffusionForecaster": lambda: DiffusionForecaster(
            random_state=random_state, **diffusion_params
        ),
        # context as DiffusionForecaster's default (4 seasons; the horizons are <= sp)
        "PyPOTS CSDI": lambda: CSDIForecaster(context=4 * sp, random_state=random_state),
        "conformal DiffusionForecaster": conformal,
    }
    if n_timepoints > 5000:
        # pmdarima's seasonal search does not finish in reasonable time on ~14k points
        models.pop("AutoARIMA (pmdarima)")
    return models


def _naive_scale(y_train: pd.DataFrame) -> np.ndarray:
    values = y_train.to_numpy(dtype=np.float64)
    return np.nanmean(np.abs(values[1:] - values[:-1]), axis=0)


def run_fold(model, y_train, y_test, fh) -> dict[str, float]:
    """Fit, predict and score one model on one fold."""
    started = time.perf_counter()
    model.fit(y_train, fh=fh)
    fit_seconds = time.perf_counter() - started
    return {**score_forecast(model, y_train, y_test), "fit s": fit_seconds}


def quantile_levels() -> list[float]:
    """Levels every model is asked for: :data:`LEVELS` and the intervals' bounds."""
    return sorted(set(LEVELS) | set(interval_levels()))


def predict_forecast(model, X=None) -> tuple[pd.DataFrame, pd.DataFrame, float]:
    """Point forecast, quantiles at :func:`quantile_levels` and the seconds both took.

    From a fitted model (its ``fh``, its cutoff); ``X`` the exogenous data of the
    forecast window, if the model was fitted with some.
    """
    # no X keyword without X: the PyPOTS wrapper takes none
    given = {} if X is None else {"X": X}
    started = time.perf_counter()
    point = model.predict(**given)
    quantiles = model.predict_quantiles(alpha=quantile_levels(), **given)
    return point, quantiles, time.perf_counter() - started


def score_forecast(model, y_train, y_test) -> dict[str, float]:
    """Predict from a fitted model (its ``fh``, its cutoff) and score against ``y_test``.

    ``y_train`` is the history up to the cutoff (for MASE's scale).
    """
    point, quantiles, predict_seconds = predict_forecast(model)
    return {
        **score_quantiles(point, quantiles, y_train, y_test),
        "predict s": predict_seconds,
    }


def score_quantiles(point, quantiles, y_train, y_test) -> dict[str, float]:
    """MAE, MASE, CRPS and interval coverages of one forecast, means over columns.

    Parameters
    ----------
    point : pd.Series or pd.DataFrame of shape (T,) or (T, F)
        The point forecast.
    quantiles : pd.DataFrame of shape (T, F * L)
        sktime's ``predict_quantiles`` output at the L levels of
        :func:`quantile_levels`, columns ordered by variable, then level.
    y_train : pd.Series or pd.DataFrame
        History up to the cutoff (for MASE's scale).
    y_test : pd.Series or pd.DataFrame of shape (T,) or (T, F)
        What happened.
    """
    levels = quantile_levels()
    truth = _frame(y_test).to_numpy(np.float64)  # (T, F)
    point = _frame(point).to_numpy(np.float64)
    n_columns = truth.shape[1]
    q = quantiles.to_numpy(np.float64).reshape(len(truth), n_columns, len(levels))
    absolute_error = np.abs(point - truth).mean(axis=0)
    scale = _naive_scale(_frame(y_train))
    grid = q[..., [levels.index(level) for level in LEVELS]]
    row = {
        "MAE": float(absolute_error.mean()),
        "MASE": float((absolute_error / scale).mean()),
        "CRPS": float(crps_from_quantiles(grid, truth, LEVELS).mean()),
    }
    row.update(coverage_scores(lambda level: q[..., levels.index(level)], truth))
    return row


def run_origins(
    name: str,
    data_dir,
    model_names,
    random_state: int,
    diffusion_params: dict,
    n_origins: int,
) -> list[dict]:
    """Many forecast origins after the first fold's cutoff, one horizon apart.

    DiffusionForecaster is fitted once on the first fold's training data and then only
    shown the new data (``update(update_params=False)``: a longer context, no
    training); the classical models are refitted at every origin. Rows of mean scores
    over the origins; "fit s" is the mean time per origin of fitting or updating.
    """
    loader, horizon, initial, step, sp = DATASETS[name]
    y = loader(data_dir)
    fh = list(range(1, horizon + 1))
    origins = [initial + k * horizon for k in range(n_origins)]
    if origins[-1] + horizon > len(y):
        raise ValueError(
            f"{name}: {n_origins} origins need {origins[-1] + horizon} points, "
            f"the data has {len(y)}"
        )
    rows, per_origin = [], {}
    models = _chosen_models(model_names, sp, len(y), random_state, diffusion_params)
    for model_name, factory in models:
        scores, model, refit = [], None, model_name != "DiffusionForecaster"
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            for number, origin in enumerate(origins):
                started = time.perf_counter()
                if refit or model is None:
                    model = factory().fit(y.iloc[:origin], fh=fh)
                else:
                    previous = origins[number - 1]
                    model.update(y.iloc[previous:origin], update_params=False)
                seconds = time.perf_counter() - started
                y_test = y.iloc[origin : origin + horizon]
                scores.append(
                    {**score_forecast(model, y.iloc[:origin], y_test), "fit s": seconds}
                )
        rows.append(_mean_row(name, model_name, scores))
        per_origin[model_name] = scores
        print(f"  {name}: {model_name} done ({len(scores)} origins)", flush=True)
    fold_origins = [int(test[0]) for _, test in _folds(y, horizon, initial, step)]
    print(difficulty_report(y, origins, horizon, fold_origins, per_origin))
    return rows


def _folds(y, horizon: int, initial: int, step: int) -> list[tuple]:
    """The benchmark's folds: (training, test) positions of the expanding window."""
    fh = list(range(1, horizon + 1))
    splitter = ExpandingWindowSplitter(initial_window=initial, step_length=step, fh=fh)
    return list(splitter.split(y))


def _naive_errors(y, origins: list[int], horizon: int) -> np.ndarray:
    """MAE of the last-value forecast from each origin over the next ``horizon`` steps."""
    values = _frame(y).to_numpy(np.float64)
    return np.array(
        [np.abs(values[o : o + horizon] - values[o - 1]).mean() for o in origins]
    )


def difficulty_report(y, origins, horizon, fold_origins, per_origin) -> str:
    """Scores by thirds of the origins, ranked by how far the naive forecast missed.

    Shows whether a model's intervals widen on hard days and narrow on calm ones, and
    where the folds' days fall (their naive MAE against the thirds' bounds).
    """
    difficulty = _naive_errors(y, origins, horizon)
    bounds = np.quantile(difficulty, [1 / 3, 2 / 3])
    third = np.digitize(difficulty, bounds)
    names = ("calm third", "middle third", "hard third")
    rows = []
    for model_name, scores in per_origin.items():
        for index, label in enumerate(names):
            chosen = [s for s, t in zip(scores, third, strict=True) if t == index]
            row = {
                "model": model_name,
                "days": label,
                "naive MAE": float(difficulty[third == index].mean()),
            }
            for key in ("MAE", "CRPS", "coverage 50%", "coverage 90%"):
                row[key] = float(np.mean([s[key] for s in chosen]))
            rows.append(row)
    folds = _naive_errors(y, fold_origins, horizon)
    return (
        f"by difficulty (naive MAE of the day; thirds split at {bounds[0]:.3f} and "
        f"{bounds[1]:.3f}; the {len(folds)} folds' days: "
        + ", ".join(f"{value:.3f}" for value in folds)
        + ")\n"
        + markdown_table(rows, list(rows[0]))
    )


def _frame(data) -> pd.DataFrame:
    return data.to_frame() if isinstance(data, pd.Series) else data


def run_dataset(
    name: str, data_dir, model_names, random_state: int, diffusion_params: dict
) -> list[dict]:
    """All models on all folds of one data set; rows of mean scores."""
    loader, horizon, initial, step, sp = DATASETS[name]
    y = loader(data_dir)
    fh = list(range(1, horizon + 1))
    folds = _folds(y, horizon, initial, step)
    rows = []
    models = _chosen_models(model_names, sp, len(y), random_state, diffusion_params)
    for model_name, factory in models:
        scores = []
        try:
            for train_index, test_index in folds:
                y_train, y_test = y.iloc[train_index], y.iloc[test_index]
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    scores.append(run_fold(factory(), y_train, y_test, fh))
        except Exception as error:  # noqa: BLE001 - a peer that fails is reported
            print(f"  {name}: {model_name} failed: {type(error).__name__}: {error}")
            continue
        rows.append(_mean_row(name, model_name, scores))
        print(f"  {name}: {model_name} done", flush=True)
    return rows


def _chosen_models(
    model_names, sp: int, n_timepoints: int, random_state: int, diffusion_params: dict
) -> list[tuple[str, Callable]]:
    """``(name, factory)`` of the models asked for (all of them for "all")."""
    models = _models(sp, n_timepoints, random_state, diffusion_params)
    return [
        (name, factory)
        for name, factory in models.items()
        if name in model_names or ("all" in model_names and name not in ON_REQUEST)
    ]


def _mean_row(data: str, model: str, scores: list[dict]) -> dict:
    """A report row: each score's mean over the folds (or origins)."""
    row = {"data": data, "model": model, "folds": len(scores)}
    row.update({key: float(np.mean([s[key] for s in scores])) for key in scores[0]})
    return row


def markdown(rows: list[dict]) -> str:
    """Rows as a Markdown table."""
    columns = ["data", "model", "MAE", "MASE", "CRPS", *COVERAGE_COLUMNS]
    columns += ["fit s", "predict s"]
    return markdown_table(rows, columns, {"fit s": 1, "predict s": 1})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", default=None, help="folder with ETT/ (or env var)")
    parser.add_argument("--datasets", default="airline,etth1-ot,etth1")
    parser.add_argument("--models", default="all", help="comma-separated model names")
    parser.add_argument("--random-state", type=int, default=0)
    parser.add_argument(
        "--diffusion-params",
        default="{}",
        help="JSON of DiffusionForecaster parameters other than the defaults, e.g. "
        "'{\"learning_rate\": 0.01}'",
    )
    parser.add_argument(
        "--origins",
        type=int,
        default=None,
        help="instead of the folds: this many forecast origins one horizon apart from "
        "the first fold's cutoff; DiffusionForecaster is fitted once and updated "
        "without training, the other models are refitted at every origin",
    )
    parser.add_argument("--json", type=Path, default=None, help="also write rows here")
    args = parser.parse_args()
    # sktime 1.2 warns at every forecaster's construction of a coming config change
    warnings.filterwarnings("ignore", message=".*remember_data.*")
    print(environment_line())
    rows = []
    for name in args.datasets.split(","):
        common = (
            name,
            args.data_dir,
            args.models.split(","),
            args.random_state,
            diffusion_parameters(args.diffusion_params),
        )
        if args.origins is None:
            rows.extend(run_dataset(*common))
        else:
            rows.extend(run_origins(*common, args.origins))
    print(markdown(rows))
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2))


if __name__ == "__main__":
    main()
