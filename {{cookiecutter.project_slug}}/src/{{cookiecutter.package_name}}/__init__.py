"""{{ cookiecutter.package_name }}: train, evaluate and {% if cookiecutter.include_api == "yes" %}serve{% else %}batch-score{% endif %} a scikit-learn model."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("{{ cookiecutter.project_slug }}")
except PackageNotFoundError:  # pragma: no cover - a source tree that is not installed
    __version__ = "0+unknown"

__all__ = ["__version__"]
