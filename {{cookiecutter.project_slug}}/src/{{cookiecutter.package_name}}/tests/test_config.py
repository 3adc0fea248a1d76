"""The configuration file: defaults, overrides and errors that name the key."""

import pytest

from {{ cookiecutter.package_name }}.config import default_config_path, load_config
from {{ cookiecutter.package_name }}.errors import ConfigError
from {{ cookiecutter.package_name }}.train import build_model

VALID = """
[data]
train = "train.csv"
target = "y"
"""


def write(tmp_path, text):
    path = tmp_path / "config.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_bundled_config_points_at_the_bundled_sample(config):
    assert config.source == default_config_path()
    assert config.data.train.is_file() and config.data.holdout.is_file()
    assert config.data.target in config.data.train.read_text(encoding="utf-8").splitlines()[0]


def test_relative_paths_resolve_against_the_config_file(tmp_path):
    config = load_config(write(tmp_path, VALID))
    assert config.data.train == tmp_path / "train.csv"
    assert config.data.numeric_features is None and config.data.categorical_features is None


@pytest.mark.parametrize(
    ("text", "named"),
    [
        (VALID + "bogus = 1\n", "data.bogus"),
        (VALID + "min_rows = 'ten'\n", "data.min_rows"),
        (VALID + "min_rows = true\n", "data.min_rows"),
        (VALID + "numeric_features = 'age'\n", "data.numeric_features"),
        (VALID + "[model]\nrandom_state = 1.5\n", "model.random_state"),
        (VALID + "[model]\nseed = 1\n", "model.seed"),
        (VALID + "[quality]\nminimum = { roc_auc = 'high' }\n", "quality.minimum.roc_auc"),
        (VALID + "[extras]\n", "<top>.extras"),
        ("[data]\ntarget = 'y'\n", "data.train"),
        ("[data]\ntrain = 'x.csv'\n", "data.target"),
    ],
)
def test_invalid_config_names_the_key(tmp_path, text, named):
    with pytest.raises(ConfigError, match=named.replace(".", r"\.")):
        load_config(write(tmp_path, text))


def test_missing_file_and_invalid_toml(tmp_path):
    with pytest.raises(ConfigError, match="not found"):
        load_config(tmp_path / "absent.toml")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_config(write(tmp_path, "[data\n"))


def test_overrides_replace_values_and_skip_none(config):
    updated = config.with_overrides(data__target="other", data__holdout=None)
    assert updated.data.target == "other"
    assert updated.data.holdout == config.data.holdout
    assert config.data.target != "other", "the original config is left untouched"
    with pytest.raises(ConfigError, match="data__nope"):
        config.with_overrides(data__nope=1)


def test_unknown_hyperparameter_is_refused(tmp_path, config, schema):
    broken = load_config(write(tmp_path, VALID + "[model.params]\nlearning_rat = 0.1\n"))
    with pytest.raises(ConfigError, match="model.params.learning_rat"):
        build_model(broken, schema)
    model = build_model(config, schema)
    assert model.learning_rate == config.model.params["learning_rate"]
    assert model.random_state == config.model.random_state
