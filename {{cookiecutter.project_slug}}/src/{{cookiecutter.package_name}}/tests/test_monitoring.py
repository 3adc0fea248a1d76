"""``monitor``: logged predictions joined with delayed labels, online next to offline metrics."""

import json

import numpy as np
import pytest
from click.testing import CliRunner

from ..cli import main
from ..errors import DataError
from ..monitoring import FEEDBACK, PREDICTIONS, JsonLinesLog, log_path, monitor
from ..monitoring import prediction_records
from ..scoring import score_rows
from ..tasks import Predictions

SCORED, LABELLED = 40, 30


@pytest.fixture
def logs(artifact, holdout_frame, tmp_path):
    """A log directory as the service writes it, with the true labels of the first rows.

    Also: two labels of unknown ids, one prediction of another model version, one
    unreadable line in each log. Returns the directory, the scored predictions and labels.
    """
    rows = holdout_frame.head(SCORED)
    predictions = score_rows(artifact, rows).predictions
    ids = [f"req-1:{row}" for row in range(SCORED)]
    predicted = JsonLinesLog(tmp_path, PREDICTIONS)
    predicted.write(prediction_records(ids, artifact.version, predictions))
    predicted.write(prediction_records(["old:0"], "an-older-version", predictions))
    truth = rows[artifact.schema.target.name].tolist()
    feedback = JsonLinesLog(tmp_path, FEEDBACK)
    feedback.write([{"id": ids[row], "label": truth[row]} for row in range(LABELLED)])
    feedback.write([{"id": "nobody:0", "label": truth[0]}, {"id": "nobody:1", "label": truth[1]}])
    with open(log_path(tmp_path, PREDICTIONS), "a", encoding="utf-8") as handle:
        handle.write('{"id": "cut-short:0", "model_ver\n')
    with open(log_path(tmp_path, FEEDBACK), "a", encoding="utf-8") as handle:
        handle.write('["not", "an", "object"]\n')
    return tmp_path, predictions, truth


def test_join_counts_and_online_metrics(artifact, artifact_dir, logs):
    directory, predictions, truth = logs
    report = monitor(directory, artifact_dir)
    assert report.model_version == artifact.version
    assert report.counts == {
        "predictions": SCORED,
        "labelled": LABELLED,
        "unlabelled": SCORED - LABELLED,
        "unmatched_feedback": 2,
        "other_versions": 1,
        "duplicate_predictions": 0,
        "duplicate_feedback": 0,
        "bad_predictions_lines": 1,
        "bad_feedback_lines": 1,
        "bad_labelled_rows": 0,
    }
    head = Predictions(
        labels=predictions.labels[:LABELLED],
        probabilities=(
            None if predictions.probabilities is None else predictions.probabilities[:LABELLED]
        ),
        classes=predictions.classes,
    )
    expected = artifact.task.metrics(np.asarray(truth[:LABELLED]), head)
    assert report.online.keys() == expected.keys()
    for name, value in expected.items():
        assert report.online[name] == pytest.approx(value, nan_ok=True), name
    assert report.offline == artifact.metadata.metrics.holdout


def test_the_last_label_of_an_id_wins_and_repeats_are_counted(binary, models, tmp_path):
    predictions = Predictions(
        labels=np.array([binary.schema.target.classes[0]]),
        probabilities=np.array([[0.8, 0.2]]),
        classes=tuple(binary.schema.target.classes),
    )
    JsonLinesLog(tmp_path, PREDICTIONS).write(
        prediction_records(["a:0"], binary.version, predictions)
    )
    first, second = binary.schema.target.classes
    JsonLinesLog(tmp_path, FEEDBACK).write(
        [{"id": "a:0", "label": second}, {"id": "a:0", "label": first}]
    )
    report = monitor(tmp_path, models.artifact_dir("binary"))
    assert report.counts["labelled"] == 1
    assert report.counts["duplicate_feedback"] == 1
    assert report.online["accuracy"] == 1.0


def test_no_feedback_gives_no_online_metrics(binary, models, tmp_path):
    report = monitor(tmp_path, models.artifact_dir("binary"))
    assert report.online == {}
    assert report.counts["predictions"] == report.counts["labelled"] == 0


def test_missing_directory_is_a_data_error(models, tmp_path):
    with pytest.raises(DataError, match="prediction log directory not found"):
        monitor(tmp_path / "absent", models.artifact_dir("binary"))


def test_cli_prints_offline_and_online_and_writes_json(artifact_dir, logs, tmp_path):
    directory, _, _ = logs
    output = tmp_path / "reports" / "online.json"
    args = ["monitor", "--predictions", str(directory), "--model", str(artifact_dir)]
    text = CliRunner().invoke(main, [*args, "--output", str(output)])
    assert text.exit_code == 0, text.output
    assert "offline" in text.stdout and "online" in text.stdout
    assert f"labelled: {LABELLED}" in text.stdout
    as_json = CliRunner().invoke(main, [*args, "--json"])
    assert as_json.exit_code == 0, as_json.output
    printed = json.loads(as_json.stdout)
    assert printed == json.loads(output.read_text(encoding="utf-8"))
    assert printed["counts"]["unmatched_feedback"] == 2


def test_cli_missing_directory_is_one_line(models, tmp_path):
    args = ["monitor", "--predictions", str(tmp_path / "absent")]
    result = CliRunner().invoke(main, [*args, "--model", str(models.artifact_dir("binary"))])
    assert result.exit_code == 1
    assert result.stderr.startswith("Error: ") and "not found" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
