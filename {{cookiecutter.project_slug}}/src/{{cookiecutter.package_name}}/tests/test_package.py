"""The installed distribution and the import package agree."""

from importlib.metadata import version

import {{ cookiecutter.package_name }}


def test_version_comes_from_the_installed_distribution():
    assert {{ cookiecutter.package_name }}.__version__ == version("{{ cookiecutter.project_slug }}")
