"""Sphinx configuration of the sktime-diffusion documentation.

Build with ``bash docs/build.sh``. Everything works offline: the theme is Sphinx's own
``alabaster`` and there is no intersphinx. Importing this file draws the concepts figure
(``figures/one_mask.png``), so the PNG need not be committed.
"""

from __future__ import annotations

import runpy
import sys
from pathlib import Path

DOCS = Path(__file__).resolve().parent
ROOT = DOCS.parent
sys.path.insert(0, str(ROOT))

import sktime_diffusion  # noqa: E402

# -- project ----------------------------------------------------------------------------
project = "sktime-diffusion"
author = "sktime-diffusion developers"
copyright = "sktime-diffusion developers, BSD-3-Clause"
release = sktime_diffusion.__version__
version = release

# -- general ----------------------------------------------------------------------------
extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "numpydoc",
    "sphinx.ext.mathjax",
    "sphinx.ext.viewcode",
]
templates_path = ["_templates"]
exclude_patterns = ["_build", "benchmarks.md"]  # benchmarks.md is shown by benchmarks.rst
nitpicky = False
default_role = "literal"

# -- autodoc / autosummary / numpydoc ---------------------------------------------------
autosummary_generate = True  # stubs go where the directives say: api/generated/
autosummary_ignore_module_all = False  # document what each module lists in __all__
autodoc_member_order = "bysource"
autodoc_inherit_docstrings = False  # no torch docstrings on our nn.Module subclasses
autodoc_typehints = "signature"
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False

# -- HTML -------------------------------------------------------------------------------
html_theme = "alabaster"
html_title = f"sktime-diffusion {release}"
html_static_path: list[str] = []
html_theme_options = {
    "description": "Diffusion models for time series as sktime estimators",
    "page_width": "1100px",
    "sidebar_width": "240px",
}

# -- the concepts figure ----------------------------------------------------------------
runpy.run_path(str(DOCS / "figures" / "make_mask_figure.py"))["main"](
    DOCS / "figures" / "one_mask.png"
)

# -- the benchmarks page ----------------------------------------------------------------
# benchmarks.md is written by the benchmark scripts and may not exist yet; the page
# shows it when it does and says so when it does not, so the build never fails on it.
BENCHMARKS = DOCS / "benchmarks.md"
_BENCHMARKS_PRESENT = """
.. literalinclude:: benchmarks.md
   :language: markdown
"""
_BENCHMARKS_ABSENT = """
.. note::

   There is no ``docs/benchmarks.md`` in this checkout yet; run the scripts in
   ``benchmarks/`` to produce it.
"""


def _add_benchmarks(app, docname: str, source: list[str]) -> None:
    if docname == "benchmarks":
        source[0] += _BENCHMARKS_PRESENT if BENCHMARKS.exists() else _BENCHMARKS_ABSENT


def _always_reread_benchmarks(app, env, added, changed, removed) -> list[str]:
    # whether benchmarks.md exists decides the page's content: read it on every build
    return ["benchmarks"] if "benchmarks" in env.found_docs else []


def setup(app) -> dict[str, bool]:
    app.connect("source-read", _add_benchmarks)
    app.connect("env-get-outdated", _always_reread_benchmarks)
    return {"parallel_read_safe": True}
