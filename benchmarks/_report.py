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


def interval_levels() -> list[float]:
    """Quantile levels of the :data:`COVERAGES` intervals' bounds, ascending."""
    bounds = {round((1 - c) / 2, 4) for c in COVERAGES} | {
        round((1 + c) / 2, 4) for c in COVERAGES
    }
    return sorted(bounds)


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
        ``{"coverage 50%": ..., "coverage 80%": ..., ...}``
    """
    from sktime_diffusion.metrics import interval_coverage

    return {
        f"coverage {round(100 * c)}%": interval_coverage(
            quantile(round((1 - c) / 2, 4)), quantile(round((1 + c) / 2, 4)), observed
        )
        for c in COVERAGES
    }


def diffusion_parameters(text: str) -> dict:
    """Estimator parameters from a ``--diffusion-params`` JSON object.

    ``"network"`` may be a JSON object of
    :class:`~sktime_diffusion.networks.DilatedConvNetwork` parameters, e.g.
    ``{"network": {"channels": 64}, "learning_rate": 0.003}``.
    """
    import json

    from sktime_diffusion.networks import DilatedConvNetwork

    params = json.loads(text)
    if isinstance(params.get("network"), dict):
        params["network"] = DilatedConvNetwork(**params["network"])
    return params
