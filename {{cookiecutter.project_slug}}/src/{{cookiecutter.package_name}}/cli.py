"""Command-line interface: the ``main`` group and the commands it gathers.

The commands live in :mod:`.commands`, one module per stage; optional subpackages add
their own (see :data:`OPTIONAL_COMMANDS`). Only click and the standard library are
imported at start-up; pandas, scikit-learn and friends are imported inside the commands
that need them, so ``--help`` stays fast.
Expected failures (bad config, data or model files) print one line on stderr and exit 1;
``--log-level debug`` adds the traceback.
"""

from __future__ import annotations

import contextlib
import importlib
import importlib.util
import logging
import signal
import threading
import traceback
from collections.abc import Iterator
from typing import Any

import click

from . import DISTRIBUTION, __version__
from .commands import operations, scoring, training
from .errors import ProjectError
from .logging_config import FORMAT_ENV, FORMATS, LEVEL_ENV, LEVELS
from .options import add_run_observer

logger = logging.getLogger(__name__)

_VERBOSITY = ("error", "warning", "info", "debug")
OPTIONAL_COMMANDS = (".service.cli", ".tracking.cli")
"""Modules of optional subpackages whose ``COMMANDS`` join the CLI when the subpackage exists.

A module with a ``run_observer()`` function also gets the runs of ``train`` and
``evaluate`` reported to the observer it returns (see :mod:`.runs`).
"""


class Terminated(BaseException):
    """SIGTERM arrived: unwind, so that every cleanup runs, and exit 143."""


class Group(click.Group):
    """A click group that turns expected errors into a one-line message and exit code 1.

    While a command runs, SIGTERM (``docker stop``, ``kill``) raises :class:`Terminated` in
    it, so temporary files and directories are removed before the exit (code 143, 128 plus
    the signal number) instead of being left behind by an abrupt death.
    """

    def invoke(self, ctx: click.Context) -> Any:
        try:
            with _terminate_on_sigterm():
                return super().invoke(ctx)
        except (ProjectError, OSError) as exc:
            if logging.getLogger().isEnabledFor(logging.DEBUG):
                traceback.print_exc()
            click.echo(f"Error: {_one_line(exc)}", err=True)
            ctx.exit(1)
        except Terminated:
            click.echo("Error: terminated by SIGTERM", err=True)
            ctx.exit(128 + signal.SIGTERM)


@contextlib.contextmanager
def _terminate_on_sigterm() -> Iterator[None]:
    """Raise :class:`Terminated` on SIGTERM within the block (main thread only)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def terminate(signum: int, frame: object) -> None:
        signal.signal(signal.SIGTERM, signal.SIG_IGN)  # a second one must not cut the cleanup
        raise Terminated

    previous = signal.signal(signal.SIGTERM, terminate)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, signal.SIG_DFL if previous is None else previous)


def _one_line(exc: BaseException) -> str:
    if isinstance(exc, OSError) and exc.filename:
        return f"{exc.strerror}: {exc.filename}"
    return " ".join(str(exc).split())


@click.group(cls=Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name=DISTRIBUTION)
@click.option(
    "--log-level",
    type=click.Choice(LEVELS, case_sensitive=False),
    default=None,
    help=f"Logging level [env: {LEVEL_ENV}; default: info]. 'debug' also shows tracebacks.",
)
@click.option(
    "--log-format",
    type=click.Choice(FORMATS, case_sensitive=False),
    default=None,
    help=f"Log line format [env: {FORMAT_ENV}; default: text].",
)
@click.option("-v", "--verbose", count=True, help="More logging (repeatable).")
@click.option("-q", "--quiet", count=True, help="Less logging (repeatable).")
def main(log_level: str | None, log_format: str | None, verbose: int, quiet: int) -> None:
    """Train, evaluate, validate and score the model."""
    from .logging_config import configure_logging, resolve

    try:
        level, fmt = resolve(log_level, log_format)
    except ValueError as exc:
        raise click.UsageError(str(exc)) from None
    if verbose or quiet:
        index = _VERBOSITY.index(level) + verbose - quiet
        level = _VERBOSITY[max(0, min(index, len(_VERBOSITY) - 1))]
    configure_logging(level, fmt)


def _add_commands(group: click.Group) -> None:
    """Add the commands of :mod:`.commands` and of the optional subpackages present."""
    for module in (training, scoring, operations):
        for command in module.COMMANDS:
            group.add_command(command)
    for name in OPTIONAL_COMMANDS:
        parent = importlib.util.resolve_name(name, __package__).rpartition(".")[0]
        if importlib.util.find_spec(parent) is None:
            continue
        optional = importlib.import_module(name, __package__)
        for command in optional.COMMANDS:
            group.add_command(command)
        if hasattr(optional, "run_observer"):
            add_run_observer(optional.run_observer)


_add_commands(main)


if __name__ == "__main__":  # pragma: no cover
    main()
