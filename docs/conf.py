"""Sphinx configuration of the sktime-diffusion documentation.

Build with ``bash docs/build.sh``. Everything works offline: the theme is Sphinx's own
``alabaster`` and there is no intersphinx. The results page and the decision log are
Markdown (``results.md``, ``decisions.md``), read by ``myst_parser``. Importing this
file draws the concepts figure (``figures/one_mask.png``), so the PNG need not be
committed.
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
    "myst_parser",  # results.md and decisions.md
]
templates_path = ["_templates"]
exclude_patterns = ["_build"]
source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
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

# -- Markdown pages ---------------------------------------------------------------------
myst_heading_anchors = 3  # links such as decisions.md#d5-... resolve on GitHub and here

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
