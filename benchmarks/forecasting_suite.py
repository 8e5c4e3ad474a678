"""Forecasting breadth suite: 41 real series, the same folds for every model.

Run from the repository root (``pip install -e ".[bench]"`` first)::

    python benchmarks/forecasting_suite.py --data-dir ../shared/data --jobs 2
    python benchmarks/forecasting_suite.py --data-dir ../shared/data --quick
    python benchmarks/forecasting_suite.py --data-dir ../shared/data --catalogue
    python benchmarks/forecasting_suite.py --data-dir ../shared/data \\
        --models DiffusionForecaster --json diffusion.json
    python benchmarks/forecasting_suite.py --from-json peers.json,diffusion.json

Series (``benchmarks/_forecasting_catalogue.py``, ``--catalogue`` prints them with their
lengths): annual to 10-minute data, 36 to 20,000 points; four are forecast as several
columns jointly (``uschange``, ``interest-inflation``, ``exchange-rate``, ``etth1``) and
two come with exogenous data whose values over the test window are given to
``predict`` (``uschange-consumption-x``: Consumption with Income, Production, Savings
and Unemployment; ``etth1-ot-x``: OT with the six load columns). Series longer than
20,000 points (ETTm1's 69,680, the weather file's 52,696) are cut to their last 20,000;
a series with missing values is cut to the stretch after its last one (co2 keeps its
856 weeks after 1985-08; ausbeer's trailing NaN is dropped); nothing is filled.

Sources and terms: sktime's bundled data (``sktime/datasets/data``; airline, lynx,
shampoo sales, uschange, PBS, seatbelts, the stored solar sample; sktime is
BSD-3-Clause), sktime's ``load_macroeconomic`` (statsmodels' macrodata, US public data),
statsmodels' bundled data sets (nile, sunspots, elnino, elec_equip, danish_data,
interest_inflation, co2; public domain as statsmodels states, except interest_inflation,
JMulTi's e6 data, for which it states nothing), pmdarima's bundled arrays (woolyrnq,
ausbeer, austres, wineind, sunspots monthly, taylor, heartrate; pmdarima is MIT, the
data come from R's datasets and forecast packages) and the shared data folder (see its
README.md and each folder's README.txt: ETT is CC BY-ND 4.0, kept unmodified; NAB is
MIT-style; the exchange-rate and the weather / ILI files state no licence). Nothing is
downloaded.

Protocol: per series a horizon from its frequency (annual 6, quarterly 8, monthly 18,
weekly 13, daily 14, hourly and 30-minute 48, 15- and 10-minute 96, at most a fifth of
the series) and a seasonal period (1, 4, 12, 52, 7, 24, 48, 96, 144; 1 for series
without a calendar period); three expanding-window folds one horizon apart whose last
test window ends on the last point (sktime's ``ExpandingWindowSplitter`` from ``n - 3 *
horizon``), the same for every model. Models: seasonal naive (sktime's
``NaiveForecaster(strategy="last", sp=sp)`` with its own predictive intervals),
``StatsForecastAutoETS`` / ``StatsForecastAutoTheta`` (``season_length=sp``),
``StatsForecastAutoARIMA`` (``sp=sp``), their median ensemble (the level-by-level median
of the three models' quantiles and point forecasts on the same fold, no refit; its times
are the three models' added up) and, when named, ``DiffusionForecaster``
(``random_state``, ``--diffusion-params``; not in the default ``--models``: its rows can
come from a separate run, merged with ``--from-json``). sktime vectorises the univariate
peers over the columns of a multivariate series; the naive, ETS and Theta models ignore
``X``.

Scores as in ``benchmarks/forecasting.py`` (quantiles at 0.01, ..., 0.99 and the
interval bounds; CRPS from them; MASE with the in-sample naive scale; coverage of the
50/80/90/95% central intervals), means over folds and columns (a multivariate series'
columns count in their own units). Relative CRPS is a model's CRPS over seasonal
naive's on the same series; the aggregate table gives, per group (short: fewer than 300
points; long) and model, the geometric mean over series of relative CRPS (as GIFT-Eval
aggregates) and of MASE over seasonal naive's MASE, mean coverages, the lowest 90%
coverage of a series, median fit and predict seconds (per fold) and the number of
series. A model that fails on a series is listed and the run goes on.

``--jobs N`` runs the series in N spawned processes of one thread each
(``OMP_NUM_THREADS=1``, ``torch.set_num_threads(1)``); ``--json`` is rewritten after
every series, so a stopped run keeps what it finished. ``--quick`` runs 9 series:
airline, lynx, shampoo, uschange (5 columns), uschange-consumption-x, macro-cpi, co2,
ili-weighted and exchange-australia.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
from _forecasting_catalogue import (
    CATALOGUE,
    ENTRIES,
    QUICK,
    horizon_and_sp,
    load_series,
)
from _report import (
    COVERAGE_COLUMNS,
    diffusion_parameters,
    environment_line,
    markdown_table,
)
from forecasting import _folds, _mean_row, _models, predict_forecast, score_quantiles

#: the reference of the relative scores
BASELINE = "seasonal naive"
#: models whose quantiles the median ensemble takes, level by level
ENSEMBLE_MEMBERS = (
    "StatsForecastAutoETS",
    "StatsForecastAutoTheta",
    "StatsForecastAutoARIMA",
)
ENSEMBLE = "median ensemble"
PEERS = (BASELINE, *ENSEMBLE_MEMBERS, ENSEMBLE)
MODELS = (*PEERS, "DiffusionForecaster")
#: series with fewer points than this are "short"
SHORT = 300
N_FOLDS = 3


def factories(sp: int, n_timepoints: int, random_state: int, diffusion_params: dict):
    """The suite's models as factories: ``benchmarks/forecasting.py``'s and Theta."""

    def theta():
        from sktime.forecasting.statsforecast import StatsForecastAutoTheta

        return StatsForecastAutoTheta(season_length=sp)

    models = _models(sp, n_timepoints, random_state, diffusion_params)
    models["StatsForecastAutoTheta"] = theta
    return {name: models[name] for name in MODELS if name in models}


def run_series(
    name: str, data_dir, model_names, random_state: int = 0, diffusion_params=None
) -> list[dict]:
    """Every asked model on the three folds of one series; rows of mean scores.

    The ensemble's members run whenever the ensemble is asked for. A model that fails
    gives a row with an ``"error"`` instead of scores.
    """
    entry = ENTRIES[name]
    y, X, cut = load_series(entry, data_dir)
    horizon, sp = horizon_and_sp(entry, len(y))
    fh = list(range(1, horizon + 1))
    folds = _folds(y, horizon, len(y) - N_FOLDS * horizon, horizon)
    info = {
        "group": "short" if len(y) < SHORT else "long",
        "n": len(y),
        "frequency": entry.frequency,
        "horizon": horizon,
        "sp": sp,
        "columns": 1 if isinstance(y, pd.Series) else y.shape[1],
        "exogenous": X is not None,
    }
    wanted = [m for m in MODELS if m in model_names]
    if ENSEMBLE in wanted:
        wanted = [m for m in MODELS if m in wanted or m in ENSEMBLE_MEMBERS]
    models = factories(sp, len(y), random_state, diffusion_params or {})
    outputs, rows = {}, []
    for model_name in (m for m in wanted if m != ENSEMBLE):
        try:
            outputs[model_name] = [
                _fit_predict(models[model_name], y, X, train, test, fh)
                for train, test in folds
            ]
        except Exception as error:  # noqa: BLE001 - a peer that fails is reported
            message = f"{type(error).__name__}: {error}"
            print(f"  {name}: {model_name} failed: {message}", flush=True)
            rows.append({"data": name, "model": model_name, **info, "error": message})
    if ENSEMBLE in wanted and all(m in outputs for m in ENSEMBLE_MEMBERS):
        outputs[ENSEMBLE] = _median_ensemble([outputs[m] for m in ENSEMBLE_MEMBERS])
    for model_name, per_fold in outputs.items():
        scores = [
            {
                **score_quantiles(point, quantiles, y.iloc[train], y.iloc[test]),
                "fit s": fit_seconds,
                "predict s": predict_seconds,
            }
            for (point, quantiles, fit_seconds, predict_seconds), (train, test) in zip(
                per_fold, folds, strict=True
            )
        ]
        rows.append({**_mean_row(name, model_name, scores), **info})
    print(f"  {name} ({len(y)} points{', ' + cut if cut else ''}): done", flush=True)
    return rows


def _fit_predict(factory, y, X, train, test, fh) -> tuple:
    """A new model fitted on the fold's training data; its forecasts and seconds.

    Returns the point forecast, the quantiles, fit seconds and predict seconds.
    """
    X_train = None if X is None else X.iloc[train]
    X_test = None if X is None else X.iloc[test]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = factory()
        started = time.perf_counter()
        model.fit(y.iloc[train], X=X_train, fh=fh)
        fit_seconds = time.perf_counter() - started
        point, quantiles, predict_seconds = predict_forecast(model, X_test)
    return point, quantiles, fit_seconds, predict_seconds


def _median_ensemble(members: list[list[tuple]]) -> list[tuple]:
    """Per fold: the members' point forecasts and quantiles, median level by level."""
    folds = []
    for outputs in zip(*members, strict=True):
        point = _median([output[0] for output in outputs])
        quantiles = _median([output[1] for output in outputs])
        folds.append(
            (
                point,
                quantiles,
                sum(output[2] for output in outputs),
                sum(output[3] for output in outputs),
            )
        )
    return folds


def _median(frames: list) -> pd.Series | pd.DataFrame:
    """Element-wise median of same-shaped sktime outputs, as the first one's type."""
    values = np.median(np.stack([np.asarray(f, dtype=np.float64) for f in frames]), axis=0)
    first = frames[0]
    if isinstance(first, pd.Series):
        return pd.Series(values, index=first.index, name=first.name)
    return pd.DataFrame(values, index=first.index, columns=first.columns)


# -- report -------------------------------------------------------------------------


def relative_scores(rows: list[dict]) -> list[dict]:
    """Scored rows with CRPS and MASE relative to seasonal naive on the same series."""
    scored = [row for row in rows if "error" not in row]
    base = {row["data"]: row for row in scored if row["model"] == BASELINE}
    out = []
    for row in scored:
        reference = base.get(row["data"])
        relative = {
            "rel CRPS": _ratio(row["CRPS"], reference and reference["CRPS"]),
            "rel MASE": _ratio(row["MASE"], reference and reference["MASE"]),
        }
        out.append({**row, **relative})
    return out


def _ratio(value: float, reference: float | None) -> float:
    if reference is None or not reference > 0:
        return float("nan")
    return value / reference


def aggregate(rows: list[dict]) -> list[dict]:
    """Per group (short, long, all) and model: the suite's summary row."""
    rows = relative_scores(rows)
    models = [m for m in MODELS if any(row["model"] == m for row in rows)]
    models += sorted({row["model"] for row in rows} - set(models))
    summary = []
    for group in ("short", "long", "all"):
        for model in models:
            chosen = [
                row
                for row in rows
                if row["model"] == model and group in ("all", row["group"])
            ]
            if not chosen:
                continue
            line = {
                "group": group,
                "model": model,
                "series": len(chosen),
                "gmean rel CRPS": _geometric_mean([row["rel CRPS"] for row in chosen]),
                "gmean rel MASE": _geometric_mean([row["rel MASE"] for row in chosen]),
            }
            for column in COVERAGE_COLUMNS:
                line[column] = float(np.mean([row[column] for row in chosen]))
            line["min coverage 90%"] = float(min(row["coverage 90%"] for row in chosen))
            line["median fit s"] = float(np.median([row["fit s"] for row in chosen]))
            line["median predict s"] = float(
                np.median([row["predict s"] for row in chosen])
            )
            summary.append(line)
    return summary


def _geometric_mean(values: list[float]) -> float:
    """Over the finite positive values (NaN where seasonal naive had no score)."""
    values = np.asarray(values, dtype=np.float64)
    values = values[np.isfinite(values) & (values > 0)]
    return float(np.exp(np.log(values).mean())) if len(values) else float("nan")


def report(rows: list[dict]) -> str:
    """The per-series table, the failures and the aggregate table, as Markdown."""
    times = {"fit s": 2, "predict s": 2, "median fit s": 2, "median predict s": 2}
    per_series = ["data", "group", "n", "model", "MASE", "CRPS", "rel CRPS"]
    per_series += [*COVERAGE_COLUMNS, "fit s", "predict s"]
    parts = [markdown_table(relative_scores(rows), per_series, times)]
    failures = [row for row in rows if "error" in row]
    if failures:
        parts.append("failures:\n" + markdown_table(failures, ["data", "model", "error"]))
    summary = ["group", "model", "series", "gmean rel CRPS", "gmean rel MASE"]
    summary += [*COVERAGE_COLUMNS, "min coverage 90%", "median fit s", "median predict s"]
    parts.append(markdown_table(aggregate(rows), summary, times))
    return "\n\n".join(parts)


def catalogue_table(data_dir) -> str:
    """The series with their lengths, frequencies, horizons, periods and sources."""
    rows = []
    for entry in CATALOGUE:
        try:
            y, X, cut = load_series(entry, data_dir)
        except (OSError, ValueError) as error:
            rows.append({"series": entry.name, "note": f"left out: {error}"})
            continue
        horizon, sp = horizon_and_sp(entry, len(y))
        rows.append(
            {
                "series": entry.name,
                "n": len(y),
                "frequency": entry.frequency,
                "horizon": horizon,
                "sp": sp,
                "columns": 1 if isinstance(y, pd.Series) else y.shape[1],
                "X": "-" if X is None else X.shape[1],
                "source": entry.source,
                "note": "; ".join(n for n in (entry.note, cut) if n),
            }
        )
    return markdown_table(rows, list(rows[0]))


# -- running ------------------------------------------------------------------------


def _single_thread() -> None:
    """Worker initializer: one thread (``OMP_NUM_THREADS`` is set before the spawn)."""
    import torch

    torch.set_num_threads(1)
    warnings.filterwarnings("ignore")


def _run_one(arguments: tuple) -> list[dict]:
    started = time.perf_counter()
    try:
        rows = run_series(*arguments)
    except Exception as error:  # noqa: BLE001 - a series that cannot load is reported
        message = f"{type(error).__name__}: {error}"
        print(f"  {arguments[0]}: failed: {message}", flush=True)
        rows = [{"data": arguments[0], "model": "-", "group": "-", "error": message}]
    for row in rows:
        row["series s"] = time.perf_counter() - started
    return rows


def run(names, data_dir, model_names, random_state, diffusion_params, jobs, json_path):
    """All series, ``jobs`` processes at a time; the rows, written as they come."""
    arguments = [(n, data_dir, model_names, random_state, diffusion_params) for n in names]
    rows = []

    def collect(new_rows):
        rows.extend(new_rows)
        if json_path is not None:
            json_path.write_text(json.dumps(rows, indent=2))

    if jobs == 1:
        for item in arguments:
            collect(_run_one(item))
        return rows
    os.environ["OMP_NUM_THREADS"] = "1"
    context = multiprocessing.get_context("spawn")
    with context.Pool(jobs, initializer=_single_thread) as pool:
        for new_rows in pool.imap_unordered(_run_one, arguments):
            collect(new_rows)
    return rows


def merged_rows(files: list[str], series: list[str] | None = None) -> list[dict]:
    """The rows of earlier runs' JSON files, merged (see ``--from-json``).

    Parameters
    ----------
    files : list of str
        ``path`` or ``path=label``; a label renames the file's ``DiffusionForecaster``
        rows to ``DiffusionForecaster (label)``. A later file's row replaces an
        earlier one of the same series and model.
    series : list of str or None
        Only these series; None: all.

    Returns
    -------
    list of dict
    """
    merged = {}
    for entry in files:
        path, _, label = entry.partition("=")
        for row in json.loads(Path(path).read_text()):
            if series is not None and row["data"] not in series:
                continue
            if label and row["model"] == "DiffusionForecaster":
                row = {**row, "model": f"DiffusionForecaster ({label})"}
            merged[(row["data"], row["model"])] = row
    return list(merged.values())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", default=None, help="shared data folder (or env var)")
    parser.add_argument("--series", default=None, help="comma-separated series names")
    parser.add_argument("--quick", action="store_true", help=f"only {', '.join(QUICK)}")
    parser.add_argument(
        "--models",
        default=",".join(PEERS),
        help=f"comma-separated, of: {', '.join(MODELS)} (default: all but the last)",
    )
    parser.add_argument("--random-state", type=int, default=0)
    parser.add_argument(
        "--diffusion-params",
        default="{}",
        help="JSON of DiffusionForecaster parameters, e.g. '{\"training_steps\": 20}'",
    )
    parser.add_argument("--jobs", type=int, default=1, help="series run in parallel")
    parser.add_argument("--json", type=Path, default=None, help="write all rows here")
    parser.add_argument(
        "--from-json",
        default=None,
        help="comma-separated row files of earlier runs: print their tables (a later "
        "file's rows replace an earlier file's rows of the same series and model); "
        "FILE=LABEL names that file's DiffusionForecaster rows 'DiffusionForecaster "
        "(LABEL)', so runs of other parameters sit side by side; --series or --quick "
        "keep only those series",
    )
    parser.add_argument(
        "--catalogue", action="store_true", help="print the series table and stop"
    )
    args = parser.parse_args()
    warnings.filterwarnings("ignore")
    selected = QUICK if args.quick else None
    selected = args.series.split(",") if args.series is not None else selected
    if args.from_json is not None:
        print(report(merged_rows(args.from_json.split(","), selected)))
        return
    if args.catalogue:
        print(catalogue_table(args.data_dir))
        return
    names = [entry.name for entry in CATALOGUE] if selected is None else list(selected)
    unknown = sorted(set(names) - set(ENTRIES))
    models = [m.strip() for m in args.models.split(",")]
    if unknown or set(models) - set(MODELS):
        parser.error(
            f"unknown series {unknown} or models {sorted(set(models) - set(MODELS))}"
        )
    print(environment_line())
    started = time.perf_counter()
    rows = run(
        names,
        args.data_dir,
        models,
        args.random_state,
        diffusion_parameters(args.diffusion_params),
        args.jobs,
        args.json,
    )
    print(report(rows))
    print(f"{len(names)} series, {args.jobs} job(s): {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
