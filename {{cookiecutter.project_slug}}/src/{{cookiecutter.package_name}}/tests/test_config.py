"""The configuration file: defaults, overrides and errors that name the key."""

import pytest

from ..config import (
    Config,
    ModelConfig,
    QualityConfig,
    RuntimeConfig,
    default_config_path,
    load_config,
    parse_config,
)
from ..errors import ConfigError
from ..sample_data import TARGETS

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
    assert config.data.target == TARGETS[config.model.task]
    assert config.model.params, "the bundled config sets hyperparameters"


def test_relative_paths_resolve_against_the_config_file(tmp_path):
    config = load_config(write(tmp_path, VALID))
    assert config.data.train == tmp_path / "train.csv"
    assert config.data.holdout is None
    assert config.data.numeric_features is None and config.data.categorical_features is None


def test_defaults_of_a_minimal_config(tmp_path):
    config = parse_config({"data": {"train": "/abs/train.csv", "target": "y"}}, tmp_path)
    assert config.data.train.as_posix() == "/abs/train.csv", "absolute paths are kept"
    assert config.model == ModelConfig(task="classification", random_state=0, params={})
    assert config.runtime == RuntimeConfig(threads=0)
    assert config.quality == QualityConfig()
    assert config.source is None


def test_every_section_is_read(tmp_path):
    text = VALID + (
        'holdout = "h.csv"\nnumeric_features = ["a"]\ncategorical_features = ["b"]\n'
        "[model]\ntask = 'regression'\nrandom_state = 3\n"
        "[model.params]\nmax_iter = 10\nearly_stopping = true\n"
        "[runtime]\nthreads = 2\n"
        "[quality]\nminimum = { r2 = 0.5 }\nmaximum = { rmse = 2 }\nbaseline_margin = 1\n"
    )
    config = load_config(write(tmp_path, text))
    assert config.data.holdout == tmp_path / "h.csv"
    assert config.data.numeric_features == ("a",) and config.data.categorical_features == ("b",)
    assert config.model == ModelConfig(
        task="regression", random_state=3, params={"max_iter": 10, "early_stopping": True}
    )
    assert config.runtime.threads == 2
    assert config.quality == QualityConfig(
        minimum={"r2": 0.5}, maximum={"rmse": 2.0}, baseline_margin=1.0
    )


@pytest.mark.parametrize(
    ("text", "named"),
    [
        (VALID + "bogus = 1\n", "data.bogus"),
        (VALID + "min_rows = 'ten'\n", "data.min_rows"),
        (VALID + "min_rows = true\n", "data.min_rows"),
        (VALID + "numeric_features = 'age'\n", "data.numeric_features"),
        (VALID + "categorical_features = [1]\n", "data.categorical_features"),
        (VALID + "[model]\nrandom_state = 1.5\n", "model.random_state"),
        (VALID + "[model]\nseed = 1\n", "model.seed"),
        (VALID + "[model]\ntask = 'ranking'\n", "model.task"),
        (VALID + "[model]\ntask = 1\n", "model.task"),
        (VALID + "[model]\nparams = 1\n", "model.params"),
        (VALID + "[runtime]\nthreads = -1\n", "runtime.threads"),
        (VALID + "[runtime]\nthreads = 'many'\n", "runtime.threads"),
        (VALID + "[runtime]\nthreads = true\n", "runtime.threads"),
        (VALID + "[runtime]\ncores = 2\n", "runtime.cores"),
        (VALID + "[quality]\nminimum = { roc_auc = 'high' }\n", "quality.minimum.roc_auc"),
        (VALID + "[quality]\nmaximum = 1\n", "quality.maximum"),
        (VALID + "[quality]\nbaseline_margin = 'x'\n", "quality.baseline_margin"),
        (VALID + "[extras]\n", "<top>.extras"),
        ("data = 1\n", "<top>.data"),
        ("[data]\ntarget = 'y'\n", "data.train"),
        ("[data]\ntrain = 'x.csv'\n", "data.target"),
    ],
)
def test_invalid_config_names_the_key(tmp_path, text, named):
    with pytest.raises(ConfigError, match=named.replace(".", r"\.")) as raised:
        load_config(write(tmp_path, text))
    assert "\n" not in str(raised.value)


def test_missing_file_and_invalid_toml(tmp_path):
    with pytest.raises(ConfigError, match="not found"):
        load_config(tmp_path / "absent.toml")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_config(write(tmp_path, "[data\n"))
    with pytest.raises(ConfigError, match="cannot read config file"):
        load_config(tmp_path)


def test_overrides_replace_values_and_skip_none(config):
    updated = config.with_overrides(
        data__target="other", data__holdout=None, model__task="regression", runtime__threads=3
    )
    assert updated.data.target == "other"
    assert updated.data.holdout == config.data.holdout
    assert updated.model.task == "regression" and updated.runtime.threads == 3
    assert updated.model.params == config.model.params
    assert config.data.target != "other", "the original config is left untouched"
    assert isinstance(updated, Config)
    for unknown in ("data__nope", "nope__train", "source__x"):
        with pytest.raises(ConfigError, match=unknown):
            config.with_overrides(**{unknown: 1})
