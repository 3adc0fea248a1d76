"""The model artifact: round trip, integrity, allow-listed types, typed metadata, atomic saves."""

import json
import os
import pickle
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import skops.io

from .. import artifact as artifact_module
from ..artifact import (
    METADATA_FILE,
    MODEL_FILE,
    latest_artifact,
    list_artifacts,
    load_artifact,
    read_metadata,
    save_artifact,
)
from ..data import file_sha256
from ..errors import ArtifactError
from ..metadata import FORMAT_VERSION, ArtifactMetadata
from ..train import train

PACKAGE = __package__.partition(".")[0]
SOURCE_ROOT = Path(__file__).resolve().parents[2]
MARKER = Path(os.environ.get("TMPDIR", "/tmp")) / f"{PACKAGE}-payload-ran"


class Payload:
    """Would leave a marker file if anything ever constructed it from a file."""

    def __reduce__(self):
        return (Path.touch, (MARKER,))

    def __setstate__(self, state):
        MARKER.touch()


@pytest.fixture
def copy_of(models, tmp_path):
    """A private copy of the binary task's artifact, free to break."""

    def copy():
        target = tmp_path / "artifact"
        shutil.copytree(models.artifact_dir("binary"), target)
        return target

    return copy


def edit_metadata(directory, change):
    path = directory / METADATA_FILE
    metadata = json.loads(path.read_text(encoding="utf-8"))
    metadata = change(metadata) or metadata
    path.write_text(json.dumps(metadata), encoding="utf-8")


def rewrite_model(directory, content: bytes):
    """Replace the model file and update the hash, as an attacker with write access could."""
    (directory / MODEL_FILE).write_bytes(content)
    edit_metadata(directory, lambda m: m.update(model_sha256=file_sha256(directory / MODEL_FILE)))


def test_round_trip_gives_identical_predictions(task_config, artifact, holdout_frame):
    trained = train(task_config)
    features = artifact.schema.validate_features(holdout_frame)
    np.testing.assert_array_equal(
        artifact.model.predict(features), trained.model.predict(features)
    )
    if artifact.task.is_classification:
        np.testing.assert_array_equal(
            artifact.model.predict_proba(features), trained.model.predict_proba(features)
        )
    assert artifact.schema == trained.schema
    assert artifact.task == trained.task


def test_metadata_records_provenance(artifact, task_config, task_name):
    metadata = artifact.metadata
    assert metadata.task == artifact.task.name == task_name
    assert metadata.training.sha256 == file_sha256(task_config.data.train)
    assert metadata.training.rows == 400
    assert metadata.model_sha256 == file_sha256(artifact.path / MODEL_FILE)
    assert set(metadata.versions) >= {"package", "scikit-learn", "python", "numpy", "skops"}
    assert metadata.schema.target.name == task_config.data.target
    assert metadata.created_at.endswith("+00:00") and metadata.created.tzinfo is not None
    assert type(artifact.model).__name__ == metadata.model_class
    assert metadata.hyperparameters["learner__max_iter"] == 50
    assert metadata.settings.quality == task_config.quality
    assert metadata.settings.slice_columns == ("contract", "region")
    assert set(metadata.metrics.holdout) == set(metadata.metrics.baseline)
    assert artifact.version == artifact.path.name


def test_metadata_survives_json(artifact):
    raw = json.loads(json.dumps(artifact.metadata.to_dict()))
    assert raw["format_version"] == FORMAT_VERSION
    assert ArtifactMetadata.from_dict(raw) == artifact.metadata


def test_tampered_model_file_is_refused(copy_of):
    directory = copy_of()
    with open(directory / MODEL_FILE, "ab") as handle:
        handle.write(b"\0")
    with pytest.raises(ArtifactError, match="does not match the SHA-256"):
        load_artifact(directory)


def test_pickle_payload_is_refused_without_running(copy_of):
    MARKER.unlink(missing_ok=True)
    directory = copy_of()
    rewrite_model(directory, pickle.dumps(Payload()))
    with pytest.raises(ArtifactError, match="not a loadable skops file"):
        load_artifact(directory)
    assert not MARKER.exists()


def test_types_outside_the_allow_list_are_refused_without_running(copy_of, binary):
    MARKER.unlink(missing_ok=True)
    directory = copy_of()
    smuggled = directory / "smuggled.skops"
    skops.io.dump({"model": binary.model, "extra": Payload()}, smuggled)
    rewrite_model(directory, smuggled.read_bytes())
    with pytest.raises(ArtifactError, match="types that are not allowed: .*Payload"):
        load_artifact(directory)
    assert not MARKER.exists()


def test_a_model_of_another_task_is_refused(copy_of):
    directory = copy_of()
    edit_metadata(directory, lambda m: m.update(task="regression"))
    with pytest.raises(ArtifactError, match="holds a TabularClassifier, not the TabularRegressor"):
        load_artifact(directory)


def test_other_scikit_learn_minor_version_is_refused_unless_allowed(copy_of):
    directory = copy_of()
    edit_metadata(directory, lambda m: m["versions"].update({"scikit-learn": "0.24.2"}))
    with pytest.raises(ArtifactError, match="saved with scikit-learn 0.24.2"):
        load_artifact(directory)
    with pytest.warns(UserWarning, match="scikit-learn 0.24.2"):
        assert load_artifact(directory, allow_version_mismatch=True).model is not None


@pytest.mark.parametrize(
    ("breakage", "message"),
    [
        (lambda d: shutil.rmtree(d), "not found"),
        (lambda d: (d / METADATA_FILE).unlink(), "not a model artifact"),
        (lambda d: (d / MODEL_FILE).unlink(), "not a model artifact"),
        (lambda d: (d / METADATA_FILE).write_text("{", encoding="utf-8"), "not valid JSON"),
        (lambda d: (d / METADATA_FILE).write_bytes(b"\xff\xfe"), "not valid JSON"),
        (lambda d: (d / METADATA_FILE).write_text("{}", encoding="utf-8"), "is missing"),
    ],
)
def test_incomplete_artifacts_are_refused(copy_of, breakage, message):
    directory = copy_of()
    breakage(directory)
    with pytest.raises(ArtifactError, match=message):
        load_artifact(directory)


def _set(path, value):
    """A metadata edit that sets the value at ``path`` (keys and list positions)."""

    def change(metadata):
        *parents, last = path
        node = metadata
        for key in parents:
            node = node[key]
        node[last] = value

    return change


def _delete(key):
    def change(metadata):
        del metadata[key]

    return change


MALFORMED_METADATA = [
    (_delete("model_sha256"), "model_sha256 is missing"),
    (_delete("schema"), "schema is missing"),
    (_set(["training", "rows"], "many"), "training.rows must be an integer, got 'many'"),
    (_set(["training", "rows"], True), "training.rows must be an integer, got True"),
    (_set(["training", "path"], None), "training.path must be a string, got None"),
    (
        _set(["schema", "features", 0, "kind"], "text"),
        "schema.features[0].kind must be one of numeric, categorical, boolean, datetime, got 'text'",
    ),
    (_set(["schema", "features", 1], "age"), "schema.features[1] must be an object, got str"),
    (_set(["schema", "features", 2, "nullable"], "no"), "schema.features[2].nullable must be"),
    (_set(["schema", "features", 0, "minimum"], "low"), "schema.features[0].minimum must be"),
    (
        _set(["schema", "features", 4, "categories"], ["a", 1]),
        "schema.features[4].categories[1] must be a string",
    ),
    (_set(["schema", "target", "class_counts"], ["x", 1]), "must be a list of integers"),
    (_set(["schema", "target", "class_counts"], [1]), "one count per class"),
    (_set(["schema", "task"], "ranking"), "schema.task must be one of"),
    (_set(["format_version"], 1), "format_version 1 is not supported"),
    (_set(["format_version"], "2"), "format_version must be an integer"),
    (_set(["task"], "ranking"), "task must be one of binary, multiclass, regression"),
    (_set(["created_at"], "yesterday"), "created_at must be an ISO 8601 time"),
    (_set(["versions", "python"], 3), "versions.python must be a string"),
    (_set(["hyperparameters"], []), "hyperparameters must be an object, got []"),
    (_set(["metrics", "holdout", "roc_auc"], "high"), "metrics.holdout.roc_auc must be a number"),
    (_set(["settings", "slice_columns"], [1]), "settings.slice_columns[0] must be a string"),
    (_set(["settings", "quality"], None), "settings.quality must be an object, got None"),
    (lambda metadata: ["not", "an", "object"], "the document must be an object, got list"),
]


@pytest.mark.parametrize(
    ("change", "message"), MALFORMED_METADATA, ids=[message for _, message in MALFORMED_METADATA]
)
def test_malformed_metadata_is_refused_naming_the_field(copy_of, change, message):
    directory = copy_of()
    edit_metadata(directory, change)
    for read in (read_metadata, load_artifact):
        with pytest.raises(ArtifactError) as raised:
            read(directory)
        text = str(raised.value)
        assert message in text
        assert text.startswith(f"{directory / METADATA_FILE}: ")
        assert "\n" not in text


def test_optional_metadata_may_be_null(copy_of):
    directory = copy_of()
    edit_metadata(directory, lambda m: m.update(metrics=None, git_commit=None))
    metadata = load_artifact(directory).metadata
    assert metadata.metrics is None and metadata.git_commit is None


def test_loading_and_scoring_never_import_training_code(models):
    code = (
        "import sys\n"
        f"from {PACKAGE}.artifact import load_artifact\n"
        f"from {PACKAGE}.predict import predict_frame\n"
        "import pandas as pd\n"
        "artifact = load_artifact(sys.argv[1])\n"
        "rows = pd.DataFrame([artifact.schema.example_row()])\n"
        "assert len(predict_frame(artifact, rows)) == 1\n"
        f"loaded = set(sys.modules) & set(['{PACKAGE}.train', '{PACKAGE}.workflows'])\n"
        "print(sorted(loaded))\n"
    )
    env = {**os.environ, "PYTHONPATH": str(SOURCE_ROOT)}
    result = subprocess.run(
        [sys.executable, "-c", code, str(models.artifact_dir("binary"))],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "[]"


def _save(artifact, directory, **kwargs):
    return save_artifact(
        artifact.model,
        directory,
        schema=artifact.schema,
        task=artifact.task,
        training=artifact.metadata.training,
        **kwargs,
    )


def test_interrupted_save_leaves_nothing_behind(binary, tmp_path, monkeypatch):
    def crash(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(artifact_module.skops.io, "dump", crash)
    with pytest.raises(KeyboardInterrupt):
        _save(binary, tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_versions_are_ordered_and_the_latest_is_the_newest(binary, tmp_path):
    first = _save(binary, tmp_path)
    second = _save(binary, tmp_path)
    (tmp_path / ".tmp-leftover").mkdir()
    (tmp_path / "not-an-artifact").mkdir()
    assert list_artifacts(tmp_path) == [first, second]
    assert latest_artifact(tmp_path) == second
    assert read_metadata(first).model_version == first.name
    assert read_metadata(first).metrics is None, "no metrics were given"
    assert load_artifact(second).schema == binary.schema
    with pytest.raises(ArtifactError, match="already exists"):
        _save(binary, tmp_path, version=first.name)
    with pytest.raises(ArtifactError, match="no model artifacts"):
        latest_artifact(tmp_path / "empty")
