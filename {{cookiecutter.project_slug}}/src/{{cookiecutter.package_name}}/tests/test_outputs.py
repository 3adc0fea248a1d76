"""What the project writes: where, with which permissions, and what a failure leaves behind.

Predictions, model artifacts and reports are replaced atomically when they are regular
files, written through when they are devices or FIFOs (or ``-``), never replace their own
input, get ordinary permissions under the umask, and a full disk, a read-only target or
SIGTERM leaves neither partial output nor temporary files.
"""

import errno
import io
import os
import signal
import stat
import subprocess
import sys
import threading
import time
from contextlib import contextmanager
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from .. import files
from .. import predict as predict_module
from ..artifact import METADATA_FILE, MODEL_FILE, save_artifact
from ..cli import main
from ..errors import DataError
from ..files import current_umask, output_directory, output_file
from ..predict import predict_csv, predict_frame
from ..report import MODEL_CARD_FILE
from ..workflows import HOLDOUT_FILE, evaluate_artifact

PACKAGE = __package__.partition(".")[0]


@contextmanager
def umask(mask):
    previous = os.umask(mask)
    try:
        yield
    finally:
        os.umask(previous)


def mode(path):
    return stat.S_IMODE(os.stat(path).st_mode)


def leftovers(directory):
    """Hidden temporary files or directories left in ``directory`` (recursively)."""
    return sorted(str(p) for p in Path(directory).rglob(".*") if p.name != ".")


pytestmark = pytest.mark.usefixtures("restore_logging")


def invoke(*args):
    """Run the CLI with errors as the only log lines (``-qq``)."""
    return CliRunner().invoke(main, ["-qq", *(str(arg) for arg in args)])


def one_line_error(result, *fragments):
    assert result.exit_code == 1, result.output
    assert result.stderr.startswith("Error: ") and "Traceback" not in result.output
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    for fragment in fragments:
        assert fragment in result.stderr


@pytest.fixture
def holdout_csv(binary_frames, write_csv):
    return write_csv(binary_frames[1], "input.csv")


@pytest.fixture
def no_replacing(monkeypatch):
    """Make any atomic replacement fail the test instead of replacing a device."""

    def forbidden(source, target, *args, **kwargs):
        raise AssertionError(f"{target} would have been replaced by {source}")

    monkeypatch.setattr(files.os, "replace", forbidden)


# --- Where predictions go -------------------------------------------------------------


@pytest.mark.parametrize("link", ["same", "symlink", "hardlink"])
def test_the_output_is_never_the_input(binary, holdout_csv, tmp_path, link):
    before = holdout_csv.read_bytes()
    output = holdout_csv if link == "same" else tmp_path / f"{link}.csv"
    if link == "symlink":
        output.symlink_to(holdout_csv)
    elif link == "hardlink":
        os.link(holdout_csv, output)
    with pytest.raises(DataError, match="is the input file"):
        predict_csv(binary, holdout_csv, output)
    assert holdout_csv.read_bytes() == before
    one_line_error(
        invoke("predict", "--model", binary.path, "--input", holdout_csv, "--output", output),
        "is the input file",
    )
    assert holdout_csv.read_bytes() == before


def test_dev_null_is_written_through_not_replaced(binary, holdout_csv, no_replacing):
    assert stat.S_ISCHR(os.stat(os.devnull).st_mode)
    assert predict_csv(binary, holdout_csv, os.devnull) == 200
    result = invoke(
        "predict", "--model", binary.path, "--input", holdout_csv, "--output", os.devnull
    )
    assert result.exit_code == 0, result.output
    assert stat.S_ISCHR(os.stat(os.devnull).st_mode)


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="named pipes need POSIX")
def test_a_fifo_is_written_through(binary, holdout_csv, tmp_path, no_replacing):
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    received = []
    reader = threading.Thread(target=lambda: received.append(fifo.read_bytes()), daemon=True)
    reader.start()
    predict_csv(binary, holdout_csv, fifo)
    reader.join(timeout=30)
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode)
    scored = pd.read_csv(io.BytesIO(received[0]))
    expected = predict_frame(binary, pd.read_csv(holdout_csv))
    pd.testing.assert_frame_equal(scored, expected, check_dtype=False)
    assert leftovers(tmp_path) == []


def test_dash_is_stdout_and_the_summary_goes_to_stderr(binary, holdout_csv, tmp_path):
    result = invoke("predict", "--model", binary.path, "--input", holdout_csv, "--output", "-")
    assert result.exit_code == 0, result.output
    assert result.stderr.strip().endswith("200 rows -> -")
    scored = pd.read_csv(io.StringIO(result.stdout))
    expected = predict_frame(binary, pd.read_csv(holdout_csv))
    pd.testing.assert_frame_equal(scored, expected, check_dtype=False)
    assert not (tmp_path / "-").exists()


def test_a_symlinked_output_replaces_its_target_and_keeps_the_link(binary, holdout_csv, tmp_path):
    real = tmp_path / "real.csv"
    real.write_text("old\n", encoding="utf-8")
    link = tmp_path / "link.csv"
    link.symlink_to(real)
    predict_csv(binary, holdout_csv, link)
    assert link.is_symlink() and link.resolve() == real.resolve()
    assert len(pd.read_csv(real)) == 200
    assert leftovers(tmp_path) == []


def test_a_directory_is_refused(binary, holdout_csv, tmp_path):
    with pytest.raises(IsADirectoryError) as raised:
        predict_csv(binary, holdout_csv, tmp_path)
    assert raised.value.filename == str(tmp_path)
    result = invoke(
        "predict", "--model", binary.path, "--input", holdout_csv, "--output", tmp_path
    )
    assert result.exit_code == 2 and "is a directory" in result.stderr


# --- Permissions ----------------------------------------------------------------------


def test_the_umask_is_read_without_changing_it(monkeypatch):
    with umask(0o027):
        assert current_umask() == 0o027
        assert os.umask(0o027) == 0o027, "reading the umask changed it"

        def no_proc(*args, **kwargs):
            raise OSError(errno.ENOENT, "No such file or directory")

        monkeypatch.setattr(files, "open", no_proc, raising=False)
        assert current_umask() == 0o027
        assert os.umask(0o027) == 0o027


@pytest.mark.parametrize("mask", [0o022, 0o077])
def test_predictions_artifacts_and_reports_follow_the_umask(
    binary, binary_frames, holdout_csv, tmp_path, mask
):
    with umask(mask):
        output = tmp_path / "predictions.csv"
        predict_csv(binary, holdout_csv, output)
        artifact = save_artifact(
            binary.model,
            tmp_path / "models",
            schema=binary.schema,
            task=binary.task,
            training=binary.metadata.training,
            extra_files={HOLDOUT_FILE: lambda path: binary_frames[1].to_csv(path, index=False)},
        )
        report = tmp_path / "reports" / "v1"
        evaluate_artifact(binary, output_dir=report)
    assert mode(output) == 0o666 & ~mask
    assert mode(artifact) == 0o777 & ~mask
    for name in (MODEL_FILE, METADATA_FILE, HOLDOUT_FILE):
        assert mode(artifact / name) == 0o666 & ~mask, name
    assert mode(report) == 0o777 & ~mask
    assert {mode(path) for path in report.iterdir()} == {0o666 & ~mask}
    assert leftovers(tmp_path) == []


# --- Full disks and read-only targets -------------------------------------------------


def no_space(*args, **kwargs):
    raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))


@pytest.fixture
def chdir_tmp(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_a_full_disk_while_predicting(binary, holdout_csv, chdir_tmp, monkeypatch):
    written = pd.DataFrame.to_csv

    def fill_up(frame, target=None, *args, **kwargs):
        if isinstance(target, io.TextIOBase) and target.tell() > 0:
            no_space()
        return written(frame, target, *args, **kwargs)

    monkeypatch.setattr(pd.DataFrame, "to_csv", fill_up)
    out = chdir_tmp / "out" / "p.csv"
    result = invoke(
        "predict",
        "--model",
        binary.path,
        "--input",
        holdout_csv,
        "--output",
        out,
        "--chunksize",
        50,
    )
    one_line_error(result, f"No space left on device: {out}")
    assert not out.exists()
    assert leftovers(chdir_tmp) == []


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="needs /dev/full (Linux)")
def test_a_full_device_is_reported_not_replaced(binary, holdout_csv, no_replacing):
    result = invoke(
        "predict", "--model", binary.path, "--input", holdout_csv, "--output", "/dev/full"
    )
    one_line_error(result, "No space left on device: /dev/full")
    assert stat.S_ISCHR(os.stat("/dev/full").st_mode)


def test_a_full_disk_while_training(models, chdir_tmp, monkeypatch):
    from .. import artifact as artifact_module

    monkeypatch.setattr(artifact_module.skops.io, "dump", no_space)
    result = invoke("train", "--config", models.config_path("binary"), "--output", "models")
    one_line_error(result, f"No space left on device: {Path('models')}{os.sep}")
    assert list((chdir_tmp / "models").iterdir()) == []


def test_a_full_disk_while_evaluating(binary, chdir_tmp, monkeypatch):
    report = chdir_tmp / "reports" / "v1"
    report.mkdir(parents=True)
    (report / "metrics.json").write_text("{}\n", encoding="utf-8")
    write_text = Path.write_text

    def fill_up(path, *args, **kwargs):
        if path.name == MODEL_CARD_FILE:
            no_space()
        return write_text(path, *args, **kwargs)

    monkeypatch.setattr(Path, "write_text", fill_up)
    result = invoke("evaluate", "--model", binary.path, "--output", report)
    one_line_error(result, f"No space left on device: {report}")
    assert [p.name for p in report.iterdir()] == ["metrics.json"]
    assert (report / "metrics.json").read_text(encoding="utf-8") == "{}\n"
    assert leftovers(chdir_tmp) == []


def read_only(*args, **kwargs):
    """What creating a file or directory on a read-only file system raises."""
    prefix = kwargs.get("prefix", "")
    raise OSError(errno.EROFS, os.strerror(errno.EROFS), os.path.join(kwargs["dir"], prefix + "x"))


def test_a_read_only_file_system(binary, holdout_csv, chdir_tmp, monkeypatch):
    """Simulated, so that it also runs as root (whom a read-only mode does not stop)."""
    monkeypatch.setattr(files.tempfile, "mkstemp", read_only)
    monkeypatch.setattr(files.tempfile, "mkdtemp", read_only)
    out = chdir_tmp / "p.csv"
    result = invoke("predict", "--model", binary.path, "--input", holdout_csv, "--output", out)
    one_line_error(result, f"Read-only file system: {out}")
    result = invoke("evaluate", "--model", binary.path, "--output", "report")
    one_line_error(result, f"Read-only file system: {Path('report')}")
    with pytest.raises(OSError, match="Read-only file system") as raised:
        with output_directory(chdir_tmp / "artifact"):
            pass
    assert raised.value.filename == str(chdir_tmp / "artifact")
    assert sorted(p.name for p in chdir_tmp.iterdir()) == ["input.csv"]


@pytest.fixture
def locked_dir(tmp_path):
    """A directory without write permission (mode 0o555)."""
    target = tmp_path / "locked"
    target.mkdir()
    target.chmod(0o555)
    try:
        (target / "probe").touch()
    except PermissionError:
        writable = False
    else:
        writable = True
        target.chmod(0o755)
    if writable:
        pytest.skip("this user writes into read-only directories (root); see the test above")
    yield target
    target.chmod(0o755)


def test_a_read_only_directory(binary, holdout_csv, locked_dir):
    out = locked_dir / "p.csv"
    result = invoke("predict", "--model", binary.path, "--input", holdout_csv, "--output", out)
    one_line_error(result, f"Permission denied: {out}")
    result = invoke("evaluate", "--model", binary.path, "--output", locked_dir / "report")
    one_line_error(result, f"Permission denied: {locked_dir / 'report'}")
    assert list(locked_dir.iterdir()) == []


def test_an_interrupted_output_leaves_the_old_file(tmp_path):
    target = tmp_path / "kept.csv"
    target.write_text("old\n", encoding="utf-8")
    with pytest.raises(KeyboardInterrupt):
        with output_file(target) as stream:
            stream.write("half")
            raise KeyboardInterrupt
    assert target.read_text(encoding="utf-8") == "old\n"
    assert leftovers(tmp_path) == []


# --- SIGTERM --------------------------------------------------------------------------


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")
def test_sigterm_during_a_command_unwinds_it_and_exits_143(binary, holdout_csv, tmp_path):
    out = tmp_path / "p.csv"
    unwound = []

    def terminated_mid_write(*args, **kwargs):
        with output_file(out) as stream:
            stream.write("prediction\n")
            try:
                os.kill(os.getpid(), signal.SIGTERM)
                time.sleep(2)  # the CLI's handler raises before this ends
            finally:
                unwound.append(True)

    def ignore(signum, frame):
        """Keep the test session alive should the CLI not handle SIGTERM."""

    previous = signal.signal(signal.SIGTERM, ignore)
    try:
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(predict_module, "predict_csv", terminated_mid_write)
            result = invoke(
                "predict", "--model", binary.path, "--input", holdout_csv, "--output", out
            )
        assert signal.getsignal(signal.SIGTERM) is ignore, "the CLI kept its SIGTERM handler"
    finally:
        signal.signal(signal.SIGTERM, previous)
    assert result.exit_code == 128 + signal.SIGTERM, result.output
    assert result.stderr.strip() == "Error: terminated by SIGTERM"
    assert unwound == [True]
    assert not out.exists() and leftovers(tmp_path) == []


def started_writing(directory):
    """Whether a temporary output with some rows in it exists in ``directory``."""
    try:
        return any(path.stat().st_size > 0 for path in directory.glob(".*.tmp"))
    except FileNotFoundError:  # renamed or removed while looking
        return False


@pytest.mark.slow
@pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")
def test_sigterm_mid_write_leaves_no_temporary_file(binary, binary_frames, tmp_path):
    big = tmp_path / "big.csv"
    pd.concat([binary_frames[1]] * 150).to_csv(big, index=False)  # 30,000 rows
    out = tmp_path / "out" / "p.csv"
    command = [sys.executable, "-m", PACKAGE, "-q", "predict", "--model", binary.path]
    command += ["--input", big, "--output", out, "--chunksize", "20"]
    process = subprocess.Popen(
        [str(part) for part in command], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        deadline = time.monotonic() + 120
        while not started_writing(out.parent):
            assert process.poll() is None, "finished before SIGTERM: " + process.stderr.read()
            assert time.monotonic() < deadline, "no temporary output appeared"
            time.sleep(0.05)
        process.send_signal(signal.SIGTERM)
        _, stderr = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert process.returncode == 128 + signal.SIGTERM, stderr
    assert stderr.strip().splitlines()[-1] == "Error: terminated by SIGTERM"
    assert not out.exists()
    assert leftovers(tmp_path) == []
