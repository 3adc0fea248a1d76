"""Sphinx configuration: build with ``make docs`` (warnings are errors)."""

from __future__ import annotations

import json
from datetime import date
from importlib import metadata

# -- Project information -----------------------------------------------------

# Free text read as JSON data: ``tojson`` escapes every quote and backslash inside the value,
# and writes ' as \u0027, so a single-quoted raw string holds any name.
project = json.loads(r'{{ cookiecutter.project_name | tojson }}')
author = json.loads(r'{{ cookiecutter.author_name | tojson }}')
copyright = f"{date.today().year}, {author}"

try:
    # The version of the installed distribution, so the docs never disagree with it.
    release = metadata.version("{{ cookiecutter.project_slug }}")
except metadata.PackageNotFoundError as error:  # pragma: no cover - only without an install
    raise RuntimeError(
        "Install the project before building the docs: make install (uv sync --all-groups)"
    ) from error
version = ".".join(release.split(".")[:2])

# -- General configuration ---------------------------------------------------

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.napoleon",
    "sphinx.ext.viewcode",
    "sphinx_click",
    "myst_parser",
]

source_suffix = {".md": "markdown"}
root_doc = "index"
# _generated/ holds pages written by `make docs` (the readiness table) for other pages
# to include; it is not a page of its own.
exclude_patterns = ["_build", "_generated", "Thumbs.db", ".DS_Store"]
nitpicky = False

# MyST: generate anchors for headings down to level 3 so pages can link to sections.
myst_heading_anchors = 3
myst_enable_extensions = ["colon_fence", "deflist"]

# autodoc + napoleon: NumPy-style docstrings, type hints rendered in the descriptions.
autodoc_typehints = "description"
autodoc_member_order = "bysource"
autodoc_preserve_defaults = True
napoleon_google_docstring = False
napoleon_numpy_docstring = True
napoleon_use_rtype = False

# -- HTML output -------------------------------------------------------------

html_theme = "furo"
html_title = f"{project} {release}"


def _skip_metadata_routing(app, what, name, obj, skip, options):
    """Leave out scikit-learn's generated ``set_*_request`` methods.

    scikit-learn adds them to every estimator; their docstrings link to scikit-learn's
    glossary, which these docs do not have, so they would fail the build.
    """
    if name.startswith("set_") and name.endswith("_request"):
        return True
    return None


def setup(app):
    app.connect("autodoc-skip-member", _skip_metadata_routing)
