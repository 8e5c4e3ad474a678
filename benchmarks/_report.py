"""What every benchmark prints: the environment line and Markdown tables."""

from __future__ import annotations

import platform
from collections.abc import Sequence
from datetime import date


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
    """Floats with ``decimals`` places, anything else as text."""
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
