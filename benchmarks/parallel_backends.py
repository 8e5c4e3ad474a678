"""Backtests through sktime's parallel backends: time, and the same folds as sequential.

Run from the repository root::

    python benchmarks/parallel_backends.py
    python benchmarks/parallel_backends.py --backends None,loky --jobs 2 --folds 8

``sktime.forecasting.model_evaluation.evaluate`` of ``DiffusionForecaster`` (its
defaults, ``random_state=0``, ``--diffusion-params`` on top) on airline (sktime's
bundled data), expanding folds of 12 months ahead, once per backend: ``None``
(sequential), joblib's ``loky``, ``multiprocessing`` and ``threading`` with ``--jobs``
workers, and ``dask`` where it is installed. The main process runs torch on one thread,
as loky's workers do, so every backend can be checked against the sequential folds bit
for bit; one untimed fit runs first. The first backend listed (sequential by default)
is the reference of the speed-up and of the comparison. The threading backend (and
dask, whose default scheduler is threads) train one fold at a time: torch's global
generator, which new networks draw their weights from, is locked while a fit trains.
Per backend: seconds for the whole backtest, speed-up over the reference, the torch
threads a worker ran with, and whether the forecasts equal the reference's (largest
relative difference otherwise; for dask, whose folds come back as text in sktime 1.2,
the folds' scores are compared).
"""

from __future__ import annotations

import argparse
import importlib.util
import time
import warnings

import numpy as np
import torch
from _report import diffusion_parameters, environment_line, markdown_table

COLUMNS = ["backend", "workers", "seconds", "speed-up", "worker threads", "same folds"]


def _torch_threads(_, meta) -> int:
    """Torch's threads in the process (or thread) that runs this."""
    return torch.get_num_threads()


def _backend_options(backend: str, jobs: int) -> dict:
    """``evaluate``'s backend arguments (none for sequential; dask takes no n_jobs)."""
    if backend == "None":
        return {}
    return {
        "backend": backend,
        "backend_params": None if backend == "dask" else {"n_jobs": jobs},
    }


def _worker_threads(backend: str, jobs: int) -> int:
    """Most torch threads a worker of ``backend`` runs with (the main process for None)."""
    from sktime.utils.parallel import parallelize

    if backend == "None":
        return torch.get_num_threads()
    options = _backend_options(backend, jobs)
    counts = parallelize(
        _torch_threads,
        list(range(jobs)),
        meta={},
        backend=options["backend"],
        backend_params=options["backend_params"],
    )
    return max(counts)


def _forecasts(result) -> tuple[np.ndarray | None, np.ndarray]:
    """The folds' point forecasts (None where the backend gave text) and scores.

    sktime 1.2's ``evaluate(backend="dask")`` returns each fold's ``y_pred`` as its
    text; the folds' scores (the first column) are then what is compared.
    """
    scores = result.iloc[:, 0].to_numpy(dtype=float)
    if all(hasattr(pred, "to_numpy") for pred in result["y_pred"]):
        return np.concatenate([pred.to_numpy() for pred in result["y_pred"]]), scores
    return None, scores


def _largest_gap(values: np.ndarray, reference: np.ndarray) -> float:
    """Largest relative difference of ``values`` from ``reference``."""
    return float(np.max(np.abs(values - reference) / np.abs(reference)))


def main() -> None:
    from sktime.datasets import load_airline
    from sktime.forecasting.model_evaluation import evaluate
    from sktime.split import ExpandingWindowSplitter

    from sktime_diffusion import DiffusionForecaster

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--backends",
        default="None,loky,multiprocessing,threading,dask",
        help="comma-separated; the first is the reference (None: sequential)",
    )
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--folds", type=int, default=4)
    parser.add_argument("--diffusion-params", default="{}")
    args = parser.parse_args()
    warnings.filterwarnings("ignore")
    torch.set_num_threads(1)
    print(environment_line())

    y = load_airline()
    horizon = 12
    cv = ExpandingWindowSplitter(
        initial_window=len(y) - args.folds * horizon,
        step_length=horizon,
        fh=list(range(1, horizon + 1)),
    )
    forecaster = DiffusionForecaster(
        random_state=0, **diffusion_parameters(args.diffusion_params)
    )
    # one untimed fit first, so the sequential run does not pay the warm-up alone
    forecaster.clone().fit(y.iloc[: cv.initial_window], fh=cv.fh)
    rows, reference, reference_seconds = [], None, None
    for backend in args.backends.split(","):
        if backend == "dask" and importlib.util.find_spec("dask") is None:
            rows.append({"backend": backend, "same folds": "dask not installed"})
            continue
        options = _backend_options(backend, args.jobs)
        started = time.perf_counter()
        result = evaluate(forecaster, cv, y, return_data=True, **options)
        seconds = time.perf_counter() - started
        forecasts, scores = _forecasts(result)
        if reference is None:
            reference, reference_seconds = (forecasts, scores), seconds
        gap = (
            _largest_gap(scores, reference[1])
            if forecasts is None
            else _largest_gap(forecasts, reference[0])
        )
        rows.append(
            {
                "backend": backend,
                "workers": 1 if backend == "None" else args.jobs,
                "seconds": seconds,
                "speed-up": reference_seconds / seconds,
                "worker threads": _worker_threads(backend, args.jobs),
                "same folds": "yes" if gap == 0 else f"no, {gap:.1e} relative",
            }
        )
        print(f"  {backend}: {seconds:.1f} s", flush=True)
    print(markdown_table(rows, COLUMNS, {"seconds": 1, "speed-up": 2}))


if __name__ == "__main__":
    main()
