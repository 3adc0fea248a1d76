"""Command-line interface."""

from __future__ import annotations

import click

from {{ cookiecutter.package_name }} import __version__


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="{{ cookiecutter.project_slug }}")
def main() -> None:
    """{{ cookiecutter.project_slug }}: train, evaluate and score a scikit-learn model."""
