"""Writing outputs safely: atomically, with the umask's permissions, nothing partial left.

Every file and directory the project writes (model artifacts, reports, predictions) goes
through here:

- a regular file or a new path is written beside its destination and renamed over it only
  when complete, so a failure (disk full, read-only target, SIGTERM) leaves the old file or
  nothing, never a partial one and never a temporary file;
- a device or FIFO (``/dev/null``, ``/dev/stdout``, a named pipe) is written through, never
  replaced, and ``-`` means standard output;
- what is written gets the permissions of an ordinary file or directory under the current
  umask (temporary files and directories are created private, 0600 and 0700);
- a failed write is an :class:`OSError` naming the destination, not the temporary path.
"""

from __future__ import annotations

import os
import shutil
import stat
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TextIO

STDOUT = "-"
"""The output path meaning standard output."""


def current_umask() -> int:
    """The process's umask, read without changing it where the system allows.

    Linux reports it in ``/proc/self/status``; elsewhere it is read by setting and
    restoring it, which is not thread-safe (fine for a command-line run).
    """
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def file_mode() -> int:
    """Permissions of a new regular file: ``0o666`` less the umask."""
    return 0o666 & ~current_umask()


def directory_mode() -> int:
    """Permissions of a new directory: ``0o777`` less the umask."""
    return 0o777 & ~current_umask()


def same_file(first: str | Path, second: str | Path) -> bool:
    """Whether two paths name the same existing file (through symlinks and hard links)."""
    try:
        return os.path.samefile(first, second)
    except OSError:
        return False


def writes_through(path: str | Path) -> bool:
    """Whether ``path`` is written in place: ``-`` or an existing device, FIFO or socket."""
    if str(path) == STDOUT:
        return True
    try:
        mode = os.stat(path).st_mode
    except OSError:
        return False
    return not stat.S_ISREG(mode) and not stat.S_ISDIR(mode)


@contextmanager
def output_file(path: str | Path) -> Iterator[TextIO]:
    """Open a UTF-8 text output that appears complete or not at all.

    A regular file or a new path (its parent directories are created) is written to a
    temporary file beside it, given :func:`file_mode` permissions and renamed over it when
    the ``with`` block succeeds; on any failure, including ``KeyboardInterrupt`` and
    ``SystemExit``, the temporary file is removed and the destination left as it was. A
    symlink is followed: the file it points to is replaced, the link kept. ``-`` and
    existing devices or FIFOs are written through (what was written before a failure has
    already gone out).

    Raises
    ------
    IsADirectoryError
        When ``path`` is a directory.
    OSError
        When writing fails; the error names ``path``.
    """
    if str(path) == STDOUT:
        with _naming("<stdout>"):
            yield sys.stdout
            sys.stdout.flush()
        return
    target = Path(path)
    if writes_through(target):
        with _naming(target), open(target, "w", newline="", encoding="utf-8") as stream:
            yield stream
        return
    if target.is_dir():
        raise IsADirectoryError(21, "Is a directory", str(target))
    target = target.resolve()
    prefix = f".{target.name}."
    with _naming(target, target.parent / prefix):
        target.parent.mkdir(parents=True, exist_ok=True)
        descriptor, temporary = tempfile.mkstemp(dir=target.parent, prefix=prefix, suffix=".tmp")
        try:
            with os.fdopen(descriptor, "w", newline="", encoding="utf-8") as stream:
                yield stream
            os.chmod(temporary, file_mode())
            os.replace(temporary, target)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise


@contextmanager
def staging_directory(parent: str | Path, prefix: str, label: str | Path) -> Iterator[Path]:
    """A new hidden directory under ``parent`` that is removed when the block ends.

    Write files into it, then move them into place before the block ends. Errors without
    a file name (a full disk, say) are re-raised naming ``label``, the destination.
    """
    directory = Path(parent).absolute()
    with _naming(label, directory / prefix):
        directory.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(dir=directory, prefix=prefix))
        try:
            yield staging
        finally:
            shutil.rmtree(staging, ignore_errors=True)


@contextmanager
def output_directory(path: str | Path) -> Iterator[Path]:
    """A directory that appears at ``path``, complete, only if the ``with`` block succeeds.

    The block writes into the yielded staging directory beside ``path``; it is then given
    :func:`directory_mode` permissions and renamed to ``path``, which must not exist. On
    any failure the staging directory is removed.

    Raises
    ------
    FileExistsError
        When ``path`` exists by the time the directory is complete.
    OSError
        When writing fails; the error names ``path``.
    """
    target = Path(path)
    with staging_directory(target.parent, f".tmp-{target.name}-", target) as staging:
        yield staging
        os.chmod(staging, directory_mode())
        os.rename(staging, target)


@contextmanager
def _naming(destination: str | Path, temporary: Path | None = None) -> Iterator[None]:
    """Re-raise an error about no file, or about a temporary path, as one about ``destination``.

    ``temporary`` is the common prefix of the temporary paths used to write ``destination``.
    """
    try:
        yield
    except OSError as exc:
        name = None if exc.filename is None else os.fsdecode(exc.filename)
        if name is not None and (temporary is None or not name.startswith(str(temporary))):
            raise
        raise OSError(exc.errno, exc.strerror or str(exc), str(destination)) from exc
