"""Train, evaluate and score a scikit-learn model of tabular data.

The data flows one way through the modules: a table (:mod:`.data`) is checked against the
data contract (:mod:`.schema`), encoded (:mod:`.features`) and learned (:mod:`.model`) as
its task says (:mod:`.tasks`); the fitted model is saved as an artifact (:mod:`.artifact`)
and scored, in batches by :mod:`.predict` and by any other entry point, through the one
scoring path in :mod:`.scoring`.
"""

from importlib.metadata import PackageNotFoundError, version

DISTRIBUTION = "{{ cookiecutter.project_slug }}"
"""The distribution (``pip install`` name) this package belongs to."""

try:
    __version__ = version(DISTRIBUTION)
except PackageNotFoundError:  # pragma: no cover - a source tree that is not installed
    __version__ = "0+unknown"

__all__ = ["DISTRIBUTION", "__version__"]
