"""What every benchmark prints: the environment line and Markdown tables."""

from __future__ import annotations

import platform
from collections.abc import Callable, Sequence
from datetime import date

import numpy as np


def cpu_name() -> str:
    """The CPU model from /proc/cpuinfo, or what the platform module knows."""
    try:
        with open("/proc/cpuinfo") as handle:
            for line in handle:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def environment_line(device: str = "cpu") -> str:
    """Date, package versions, CPU and torch threads: the first line of every report."""
    import sktime
    import torch

    from sktime_diffusion import __version__

    return (
        f"{date.today()}  sktime-diffusion {__version__}, sktime {sktime.__version__}, "
        f"torch {torch.__version__}, python {platform.python_version()}; {cpu_name()}; "
        f"{torch.get_num_threads()} torch threads; device {device}"
    )


def format_cell(value, decimals: int = 3) -> str:
    """Floats with ``decimals`` places ("-" for NaN), anything else as text."""
    if isinstance(value, float) and np.isnan(value):
        return "-"
    if isinstance(value, float):
        return f"{value:.{decimals}f}"
    return str(value)


def markdown_table(
    rows: Sequence[dict],
    columns: Sequence[str],
    decimals: dict[str, int] | None = None,
) -> str:
    """Rows as a Markdown table; ``decimals`` per column (default 3)."""
    decimals = decimals or {}
    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    for row in rows:
        cells = [format_cell(row.get(c, ""), decimals.get(c, 3)) for c in columns]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


#: nominal coverages of the central intervals every probabilistic benchmark reports
COVERAGES = (0.5, 0.8, 0.9, 0.95)
#: the report column of each of :data:`COVERAGES`, in the same order
COVERAGE_COLUMNS = tuple(f"coverage {round(100 * c)}%" for c in COVERAGES)


def _interval_bounds(coverage: float) -> tuple[float, float]:
    """Quantile levels of the central interval of ``coverage``."""
    return round((1 - coverage) / 2, 4), round((1 + coverage) / 2, 4)


def interval_levels() -> list[float]:
    """Quantile levels of the :data:`COVERAGES` intervals' bounds, ascending."""
    return sorted({level for c in COVERAGES for level in _interval_bounds(c)})


def coverage_scores(quantile: Callable[[float], np.ndarray], observed: np.ndarray) -> dict:
    """Share of ``observed`` inside each central interval of :data:`COVERAGES`.

    Parameters
    ----------
    quantile : callable
        ``quantile(level)`` returns the forecast quantile at ``level``, shaped like
        ``observed``.
    observed : np.ndarray

    Returns
    -------
    dict
        ``{"coverage 50%": ..., "coverage 80%": ..., ...}`` (:data:`COVERAGE_COLUMNS`)
    """
    from sktime_diffusion.metrics import interval_coverage

    scores = {}
    for column, coverage in zip(COVERAGE_COLUMNS, COVERAGES, strict=True):
        lower, upper = _interval_bounds(coverage)
        scores[column] = interval_coverage(quantile(lower), quantile(upper), observed)
    return scores


def diffusion_parameters(text: str) -> dict:
    """Estimator parameters from a ``--diffusion-params`` JSON object.

    ``"network"`` may be a JSON object of
    :class:`~sktime_diffusion.networks.DilatedConvNetwork` parameters, e.g.
    ``{"network": {"channels": 64}, "learning_rate": 0.003}``, or of
    :class:`~sktime_diffusion.networks.CSDINetwork` ones with ``"kind": "csdi"``, e.g.
    ``{"network": {"kind": "csdi", "n_layers": 4}}``; ``"backbone"`` the
    path of a file :meth:`~sktime_diffusion.DiffusionBackbone.save` wrote, e.g.
    ``{"backbone": "backbone.pt", "fine_tune_steps": 0}``, or ``"pretrained"``, the
    shipped checkpoint (passed on as it is).
    """
    import json

    from sktime_diffusion import DiffusionBackbone
    from sktime_diffusion.networks import CSDINetwork, DilatedConvNetwork

    params = json.loads(text)
    if isinstance(params.get("network"), dict):
        network = dict(params["network"])
        kind = network.pop("kind", "dilated")
        networks = {"dilated": DilatedConvNetwork, "csdi": CSDINetwork}
        if kind not in networks:
            raise ValueError(
                f"network kind must be one of {sorted(networks)}, got {kind!r}"
            )
        params["network"] = networks[kind](**network)
    if isinstance(params.get("backbone"), str) and params["backbone"] != "pretrained":
        params["backbone"] = DiffusionBackbone.load(params["backbone"])
    return params
