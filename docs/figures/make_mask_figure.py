"""Draw the "one mask, four tasks" figure of the concepts page.

Each panel is one window, features down and time across. A cell is *given* (the model is
shown it), *to generate* (the entries the task asks for) or *missing* (absent from the
data and not asked for). Run ``python docs/figures/make_mask_figure.py [output.png]``;
the docs build runs it from ``docs/conf.py``, so the PNG need not be committed.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.patches import Patch, Rectangle

N_FEATURES, LENGTH = 3, 16
GIVEN, GENERATE, MISSING = 0, 1, 2

# Okabe-Ito colours (readable with colour blindness); missing cells are also hatched
COLOURS = {GIVEN: "#0072B2", GENERATE: "#E69F00", MISSING: "#DDDDDD"}
LABELS = {
    GIVEN: "given (shown to the model)",
    GENERATE: "to generate",
    MISSING: "missing (not in the data, not asked for)",
}
HATCH = {MISSING: "////"}

DEFAULT_OUTPUT = Path(__file__).with_name("one_mask.png")


def _forecast() -> np.ndarray:
    """The context is given (but for a missing value); the horizon is generated."""
    cells = np.full((N_FEATURES, LENGTH), GIVEN)
    cells[:, -4:] = GENERATE
    cells[1, 5] = MISSING
    return cells


def _impute() -> np.ndarray:
    """Every observed entry is given; the missing entries are what is generated."""
    cells = np.full((N_FEATURES, LENGTH), GIVEN)
    for feature, step in [(0, 2), (0, 11), (1, 7), (2, 4), (2, 13)]:
        cells[feature, step] = GENERATE
    cells[1, 9:13] = GENERATE  # a gap, as when a sensor drops out
    return cells


def _detect() -> np.ndarray:
    """One grating: stripes of time are hidden and generated from the rest."""
    cells = np.full((N_FEATURES, LENGTH), GIVEN)
    for start in range(2, LENGTH, 6):
        cells[:, start : start + 2] = GENERATE
    cells[2, 6] = MISSING
    return cells


def _generate() -> np.ndarray:
    """Nothing is given: the whole window is generated."""
    return np.full((N_FEATURES, LENGTH), GENERATE)


PANELS = [
    ("forecast: given the context, generate the horizon", _forecast),
    ("impute: given what was observed, generate what is missing", _impute),
    ("detect anomalies: hide a grating of time slices, generate them", _detect),
    ("generate: nothing given, generate the whole window", _generate),
]


def _draw_window(ax, cells: np.ndarray, title: str) -> None:
    n_features, length = cells.shape
    for feature in range(n_features):
        for step in range(length):
            kind = int(cells[feature, step])
            ax.add_patch(
                Rectangle(
                    (step, n_features - 1 - feature),
                    1,
                    1,
                    facecolor=COLOURS[kind],
                    edgecolor="white",
                    hatch=HATCH.get(kind),
                    linewidth=1.5,
                )
            )
    ax.set_xlim(0, length)
    ax.set_ylim(0, n_features)
    ax.set_aspect("equal")
    ax.set_title(title, loc="left", fontsize=10)
    ax.set_xticks([])
    ax.set_yticks(np.arange(n_features) + 0.5)
    ax.set_yticklabels([f"feature {n_features - i}" for i in range(n_features)])
    ax.tick_params(length=0, labelsize=8)
    ax.set_xlabel("time \u2192", fontsize=8, loc="right", labelpad=2)
    for spine in ax.spines.values():
        spine.set_visible(False)


def make_figure() -> Figure:
    """Return the four-panel figure (no pyplot, so no global backend state)."""
    fig = Figure(figsize=(6.4, 6.2), layout="constrained")
    FigureCanvasAgg(fig)
    axes = fig.subplots(len(PANELS), 1)
    for ax, (title, cells) in zip(axes, PANELS, strict=True):
        _draw_window(ax, cells(), title)
    handles = [
        Patch(facecolor=COLOURS[kind], edgecolor="grey", hatch=HATCH.get(kind), label=label)
        for kind, label in LABELS.items()
    ]
    fig.legend(
        handles=handles, loc="outside lower center", ncols=3, fontsize=8, frameon=False
    )
    return fig


def main(output: str | Path = DEFAULT_OUTPUT) -> Path:
    """Draw the figure and save it as a PNG at ``output``."""
    output = Path(output)
    output.parent.mkdir(parents=True, exist_ok=True)
    make_figure().savefig(output, dpi=150, metadata={"Software": None})
    return output


if __name__ == "__main__":
    print(main(*sys.argv[1:2]))
