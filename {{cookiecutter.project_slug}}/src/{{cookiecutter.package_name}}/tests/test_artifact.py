"""The model artifact: round trip, integrity, allow-listed types, versions, atomic saves."""

import json
import os
import pickle
import shutil
from pathlib import Path

import numpy as np
import pytest
import skops.io

from {{ cookiecutter.package_name }} import artifact as artifact_module
from {{ cookiecutter.package_name }}.artifact import (
    METADATA_FILE,
    MODEL_FILE,
    latest_artifact,
    list_artifacts,
    load_artifact,
    read_metadata,
    save_artifact,
)
from {{ cookiecutter.package_name }}.data import file_sha256
from {{ cookiecutter.package_name }}.errors import ArtifactError
from {{ cookiecutter.package_name }}.train import train

MARKER = Path(os.environ.get("TMPDIR", "/tmp")) / "{{ cookiecutter.package_name }}-payload-ran"


class Payload:
    """Would leave a marker file if anything ever constructed it from a file."""

    def __reduce__(self):
        return (Path.touch, (MARKER,))

    def __setstate__(self, state):
        MARKER.touch()


@pytest.fixture
def copy_of(artifact_dir, tmp_path):
    def copy():
        target = tmp_path / "artifact"
        shutil.copytree(artifact_dir, target)
        return target

    return copy


def rewrite_model(directory, content: bytes):
    """Replace the model file and update the hash, as an attacker with write access could."""
    (directory / MODEL_FILE).write_bytes(content)
    metadata = json.loads((directory / METADATA_FILE).read_text(encoding="utf-8"))
    metadata["model_sha256"] = file_sha256(directory / MODEL_FILE)
    (directory / METADATA_FILE).write_text(json.dumps(metadata), encoding="utf-8")


def test_round_trip_gives_identical_predictions(config, artifact, holdout_frame):
    trained = train(config)
    features = artifact.schema.validate_features(holdout_frame)
    np.testing.assert_array_equal(
        artifact.model.predict(features), trained.model.predict(features)
    )
    assert artifact.schema == trained.schema


def test_metadata_records_provenance(artifact, config):
    metadata = artifact.metadata
    assert metadata["training_data_sha256"] == file_sha256(config.data.train)
    assert metadata["model_sha256"] == file_sha256(artifact.path / MODEL_FILE)
    assert set(metadata["versions"]) >= {"package", "scikit-learn", "python", "numpy", "skops"}
    assert metadata["schema"]["target"]["name"] == config.data.target
    assert metadata["created_at"].endswith("+00:00")
    assert artifact.version == artifact.path.name


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


def test_types_outside_the_allow_list_are_refused_without_running(copy_of, artifact):
    MARKER.unlink(missing_ok=True)
    directory = copy_of()
    smuggled = directory / "smuggled.skops"
    skops.io.dump({"model": artifact.model, "extra": Payload()}, smuggled)
    rewrite_model(directory, smuggled.read_bytes())
    with pytest.raises(ArtifactError, match="types that are not allowed: .*Payload"):
        load_artifact(directory)
    assert not MARKER.exists()


def test_other_scikit_learn_minor_version_is_refused_unless_allowed(copy_of):
    directory = copy_of()
    metadata = json.loads((directory / METADATA_FILE).read_text(encoding="utf-8"))
    metadata["versions"]["scikit-learn"] = "0.24.2"
    (directory / METADATA_FILE).write_text(json.dumps(metadata), encoding="utf-8")
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
        (lambda d: (d / METADATA_FILE).write_text("{}", encoding="utf-8"), "lacks required keys"),
    ],
)
def test_incomplete_artifacts_are_refused(copy_of, breakage, message):
    directory = copy_of()
    breakage(directory)
    with pytest.raises(ArtifactError, match=message):
        load_artifact(directory)


def test_interrupted_save_leaves_nothing_behind(config, tmp_path, monkeypatch):
    trained = train(config)

    def crash(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(artifact_module.skops.io, "dump", crash)
    with pytest.raises(KeyboardInterrupt):
        save_artifact(trained, tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_versions_are_ordered_and_the_latest_is_the_newest(config, tmp_path):
    trained = train(config)
    first = save_artifact(trained, tmp_path)
    second = save_artifact(trained, tmp_path)
    (tmp_path / ".tmp-leftover").mkdir()
    assert list_artifacts(tmp_path) == [first, second]
    assert latest_artifact(tmp_path) == second
    assert read_metadata(first)["model_version"] == first.name
    with pytest.raises(ArtifactError, match="already exists"):
        save_artifact(trained, tmp_path, version=first.name)
    with pytest.raises(ArtifactError, match="no model artifacts"):
        latest_artifact(tmp_path / "empty")
