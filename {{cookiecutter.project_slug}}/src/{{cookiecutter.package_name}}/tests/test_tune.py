"""The hyperparameter search: families compared, seeded, its tuned.toml trains the winner."""

import dataclasses
import json
import tomllib
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner
from sklearn.datasets import make_regression

from ..artifact import load_artifact
from ..cli import main
from ..config import Config, Range, TuneConfig, load_config, parse_config
from ..errors import ConfigError
from ..learners import LinearRegressor
from ..tune import TABLE_FILE, TUNED_CONFIG_FILE, config_toml, tune, tuned_config

# Small searches: boosting stays cheap with few, shallow iterations.
SMALL = """\
[model]
task = "{task}"
random_state = 7

[model.params]
max_iter = 30

[runtime]
threads = 1

[tune]
n_iter = 2
cv = 3
"""


def _project(directory, frame, task, extra=""):
    """A data file and a small-search config for it in ``directory``; the config's path."""
    frame.to_csv(directory / "data.csv", index=False)
    text = SMALL.format(task=task).replace(
        "[model]", '[data]\ntrain = "data.csv"\ntarget = "y"\n\n[model]'
    )
    path = directory / "config.toml"
    path.write_text(text + extra, encoding="utf-8")
    return path


def _linear_rows(rows=150):
    X, y = make_regression(n_samples=rows, n_features=5, noise=10.0, random_state=0)
    return pd.DataFrame(X, columns=[f"x{i}" for i in range(5)]).assign(y=y)


def _checkerboard_rows(rows=300):
    """A class that depends on the product of signs: no linear model can separate it."""
    rng = np.random.default_rng(0)
    X = rng.uniform(-1, 1, size=(rows, 2))
    label = np.where(X[:, 0] * X[:, 1] > 0, "same", "opposite")
    return pd.DataFrame(X, columns=["a", "b"]).assign(y=label)


@pytest.fixture(scope="module")
def checkerboard(tmp_path_factory):
    directory = tmp_path_factory.mktemp("checkerboard")
    config = load_config(_project(directory, _checkerboard_rows(), "classification"))
    return config, tune(config)


def test_boosting_wins_where_no_line_separates_the_classes(checkerboard):
    config, result = checkerboard
    assert result.best_family == "hist_gradient_boosting"
    assert result.scoring == "balanced_accuracy", "the gate's metric by default"
    assert result.scores["hist_gradient_boosting"] > 0.85 > 0.65 > result.scores["linear"]
    assert result.n_rows == 240, "the 20% holdout train() splits off is not searched on"
    table = result.table
    assert list(table.columns) == [
        "rank",
        "family",
        "mean_score",
        "std_score",
        "n_samples",
        "fit_time_s",
        "params",
    ]
    assert table["rank"].tolist() == [1, 2, 3, 4]
    assert table["family"].value_counts().to_dict() == {"hist_gradient_boosting": 2, "linear": 2}
    assert table["mean_score"].iloc[0] == result.scores["hist_gradient_boosting"]
    best = json.loads(table["params"].iloc[0])
    assert result.best_params == {"max_iter": 30, **best}, "the config's params are the base"


def test_the_same_seed_gives_the_same_search(checkerboard):
    config, first = checkerboard
    second = tune(config)
    columns = ["family", "mean_score", "params"]
    pd.testing.assert_frame_equal(first.table[columns], second.table[columns])
    assert second.best_params == first.best_params


def test_linear_wins_on_a_linear_problem_and_train_trains_it(tmp_path, in_tmp_dir):
    config_path = _project(tmp_path, _linear_rows(), "regression")
    runner = CliRunner()
    tuned = runner.invoke(main, ["-q", "tune", "--config", str(config_path), "--n-iter", "3"])
    assert tuned.exit_code == 0, tuned.output
    lines = tuned.output.splitlines()
    assert lines[0] == "cross-validated r2 on 120 rows:"
    assert lines[1].split() == ["linear:", lines[1].split()[1], "(3", "candidates)", "<-", "best"]
    assert lines[-1] == str(Path("reports", "tune", TUNED_CONFIG_FILE))
    table = pd.read_csv(in_tmp_dir / "reports" / "tune" / TABLE_FILE)
    assert len(table) == 6 and table["family"].iloc[0] == "linear"
    assert table["mean_score"].iloc[0] > 0.9

    elsewhere = tmp_path / "elsewhere"  # a copy elsewhere still finds the data: paths are absolute
    elsewhere.mkdir()
    moved = elsewhere / "tuned.toml"
    moved.write_text((in_tmp_dir / lines[-1]).read_text(encoding="utf-8"), encoding="utf-8")
    trained = runner.invoke(main, ["-q", "train", "--config", str(moved), "--output", "models"])
    assert trained.exit_code == 0, trained.output
    model = load_artifact(trained.output.strip()).model
    assert isinstance(model.learner_, LinearRegressor)
    assert model.learner_.alpha == json.loads(table["params"].iloc[0])["alpha"]


def test_successive_halving_scores_survivors_on_all_rows(tmp_path):
    extra = 'method = "halving"\nfamilies = ["linear"]\n'
    config = load_config(_project(tmp_path, _checkerboard_rows(200), "classification", extra))
    result = tune(config, n_iter=4)
    table = result.table
    assert len(table) == 4 and set(table["family"]) == {"linear"}
    survivors = table["n_samples"].iloc[0]
    assert survivors == table["n_samples"].max() > table["n_samples"].iloc[-1]
    assert survivors > 150, "the last round uses (nearly) all 160 training rows"
    assert table["mean_score"].iloc[0] == result.scores["linear"]


def test_tuned_toml_round_trips_through_load_config(task_config, tmp_path):
    space = {
        "hist_gradient_boosting": {
            "learning_rate": Range(0.01, 0.3, log=True),
            "max_leaf_nodes": (7, 15),
            "max_depth": Range(2, 8),
        },
        "linear": {"C": Range(1e-3, 100.0, log=True), "class_weight": ("balanced",)},
    }
    config = dataclasses.replace(
        task_config,
        model=dataclasses.replace(task_config.model, learner="linear", params={"C": 0.5}),
        tune=TuneConfig(n_iter=3, cv=4, scoring="roc_auc", method="halving", space=space),
    )
    config = config.with_overrides(data__target='odd "name" \\ tab\t\x7f é 😀', data__sep=";")
    path = tmp_path / "copy" / "tuned.toml"
    path.parent.mkdir()
    path.write_text(config_toml(config), encoding="utf-8")
    loaded = load_config(path)
    assert dataclasses.replace(loaded, source=None) == dataclasses.replace(config, source=None)
    assert loaded.data.train.is_absolute() and loaded.data.train == config.data.train


def test_tuned_config_sets_the_winning_family_only(checkerboard):
    config, result = checkerboard
    tuned = tuned_config(config, result)
    assert tuned.model.learner == result.best_family
    assert tuned.model.params == result.best_params
    assert dataclasses.replace(tuned, model=config.model) == config


@pytest.mark.parametrize(
    "text, message",
    [
        ("[model]\nlearner = 'forest'", "model.learner must be one of hist_gradient_boosting, "),
        ("[tune]\nmethod = 'grid'", "tune.method must be one of random, halving, got 'grid'"),
        ("[tune]\ncv = 1", "tune.cv must be at least 2"),
        ("[tune]\nn_iter = 0", "tune.n_iter must be at least 1"),
        ("[tune]\nfamilies = ['linear', 'svm']", "tune.families[1] must be one of "),
        ("[tune.space.forest]\nx = [1]", "unknown key tune.space.forest in config"),
        ("[tune.space.linear]\nC = []", "tune.space.linear.C must be a non-empty list"),
        ("[tune.space.linear]\nC = 'big'", "tune.space.linear.C must be a list or a table"),
        ("[tune.space.linear]\nC = {low = 1}", "missing required key tune.space.linear.C.high"),
        ("[tune.space.linear]\nC = {low = 2, high = 1}", "low must be below high, got 2 and 1"),
        ("[tune.space.linear]\nC = {low = 0, high = 1, log = true}", "log range needs low > 0"),
        ("[tune.space.linear]\nC = {low = 0, high = 1, step = 1}", "unknown key tune.space.lin"),
    ],
)
def test_bad_tune_settings_are_one_line_config_errors(tmp_path, text, message):
    raw = f"[data]\ntrain = 'x.csv'\ntarget = 'y'\n{text}\n"
    with pytest.raises(ConfigError, match="^[^\n]*$") as error:
        parse_config(tomllib.loads(raw), tmp_path)
    assert message in str(error.value)


@pytest.mark.parametrize(
    "extra, message",
    [
        ("[tune.space.linear]\ngamma = [1]", "tune.space.linear.gamma is not a hyperparameter of"),
        ("scoring = 'best'", "tune.scoring must be a scikit-learn scorer name such as 'r2'"),
        (
            "[tune.space.hist_gradient_boosting]\nmax_leaf_nodes = [1]",
            "tune.space.hist_gradient_boosting: The 'max_leaf_nodes' parameter",
        ),
    ],
)
def test_what_only_the_learner_knows_fails_the_search_in_one_line(tmp_path, extra, message):
    config = load_config(_project(tmp_path, _linear_rows(60), "regression", extra))
    with pytest.raises(ConfigError, match="^[^\n]*$") as error:
        tune(config)
    assert message in str(error.value)


def test_a_config_without_tune_gets_the_defaults():
    assert Config.__dataclass_fields__["tune"].default_factory() == TuneConfig()
    assert load_config().tune == TuneConfig()
    assert load_config().model.learner == "hist_gradient_boosting"


@pytest.mark.parametrize(
    "values, expected",
    [
        (Range(2, 8), set(range(2, 9))),
        (Range(1, 1000, log=True), set(range(1, 1001))),
        (Range(0.5, 1.5), None),
        (Range(1e-3, 1e2, log=True), None),
        (("a", "b"), {"a", "b"}),
    ],
)
def test_search_ranges_draw_within_their_bounds(values, expected):
    from ..tune import _distribution

    distribution = _distribution(values)
    rng = np.random.default_rng(0)
    if isinstance(distribution, list):
        draws = distribution
    else:
        draws = [distribution.rvs(random_state=rng) for _ in range(300)]
    if expected is None:
        assert all(values.low <= draw <= values.high for draw in draws)
    else:
        assert set(np.asarray(draws).tolist()) <= expected
    if isinstance(values, Range) and values.log and expected is not None:
        assert np.median(draws) < 100, "a log scale draws small values as often as large ones"


def test_toml_values_the_writer_knows_and_refuses():
    from ..tune import _value

    assert _value([1.5, float("inf"), float("-inf"), True]) == "[1.5, inf, -inf, true]"
    assert _value({"a b": 1, "c": {}}) == '{ "a b" = 1, c = {} }'
    assert tomllib.loads(f"x = {_value(float('nan'))}")["x"] != 0
    with pytest.raises(TypeError, match="cannot write object value"):
        _value(object())
