"""Training configuration: one TOML file, validated key by key.

Relative paths in the file are resolved against the file's own directory, so the bundled
config works from any working directory and from an installed wheel.
"""

from __future__ import annotations

import dataclasses
import tomllib
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from .errors import ConfigError


def default_config_path() -> Path:
    """Return the path of the checked-in configuration shipped inside the package."""
    package_root = resources.files(__package__)
    return Path(str(package_root / "resources" / "config.toml"))


@dataclass(frozen=True)
class DataConfig:
    """Where the data lives, how to read it and which columns play which role.

    ``sep`` is the CSV separator of the training and holdout files (detected from each
    file's header line when omitted); ``coerce_to_missing`` lists numeric or date columns
    whose invalid cells are read as missing instead of refused; ``drop_text_columns``
    leaves free-text columns out with a warning instead of refusing them.
    """

    train: Path
    target: str
    holdout: Path | None = None
    numeric_features: tuple[str, ...] | None = None
    categorical_features: tuple[str, ...] | None = None
    ignore_columns: tuple[str, ...] = ()
    forbidden_features: tuple[str, ...] = ()
    slice_columns: tuple[str, ...] = ()
    min_rows: int = 20
    sep: str | None = None
    coerce_to_missing: tuple[str, ...] = ()
    drop_text_columns: bool = False
    holdout_fraction: float = 0.2


TASK_KINDS = ("classification", "regression")
LEARNERS = ("hist_gradient_boosting", "linear")
"""Learner families ``model.learner`` may name; the first is the default."""


@dataclass(frozen=True)
class ModelConfig:
    """What to learn and how.

    ``task`` is ``"classification"`` or ``"regression"`` (binary or multiclass is decided
    from the labels); ``params`` are hyperparameters of the learner
    (:class:`~sklearn.ensemble.HistGradientBoostingClassifier` or ``...Regressor``), any of
    them, such as ``class_weight`` or ``early_stopping``; ``random_state`` makes training
    reproducible. ``learner`` is the family (:data:`LEARNERS`): gradient boosting or a
    regularised linear model (:mod:`~.learners`); ``params`` belong to it.
    """

    task: str = "classification"
    random_state: int = 0
    params: dict[str, Any] = field(default_factory=dict)
    learner: str = LEARNERS[0]


@dataclass(frozen=True)
class RuntimeConfig:
    """How much of the machine to use.

    ``threads`` caps the native (OpenMP/BLAS) threads of training and batch prediction;
    0 chooses automatically (see :func:`~.threads.thread_count`).
    """

    threads: int = 0


@dataclass(frozen=True)
class SliceThresholds:
    """Thresholds the quality gate enforces on each slice (``[quality.slices]``).

    ``minimum`` and ``maximum`` apply to every slice of every slice column, like the
    global thresholds; ``max_gap`` bounds, for each column of ``sensitive_columns``, the
    difference of a metric between its best and worst slice. Slices with fewer than
    ``min_rows`` rows are reported as too small to judge, never failed.
    """

    min_rows: int = 30
    minimum: dict[str, float] = field(default_factory=dict)
    maximum: dict[str, float] = field(default_factory=dict)
    sensitive_columns: tuple[str, ...] = ()
    max_gap: dict[str, float] = field(default_factory=dict)

    @property
    def active(self) -> bool:
        """Whether any slice is judged at all."""
        return bool(self.minimum or self.maximum or (self.sensitive_columns and self.max_gap))


@dataclass(frozen=True)
class QualityConfig:
    """Thresholds the quality gate enforces on holdout metrics.

    ``minimum`` holds metrics that must be at least a value (higher is better),
    ``maximum`` metrics that must be at most a value (lower is better), and
    ``baseline_margin`` how far the task's primary metric must beat the dummy baseline
    (``None``: the task's default, see :attr:`~.tasks.Task.baseline_margin`);
    ``slices`` holds the per-slice thresholds.
    """

    minimum: dict[str, float] = field(default_factory=dict)
    maximum: dict[str, float] = field(default_factory=dict)
    baseline_margin: float | None = None
    slices: SliceThresholds = field(default_factory=SliceThresholds)


@dataclass(frozen=True)
class Range:
    """A search range of ``[tune.space]``: numbers from ``low`` to ``high``.

    Integers when both bounds are integers, else floats; ``log`` draws uniformly on a log
    scale (both bounds positive).
    """

    low: int | float
    high: int | float
    log: bool = False


TUNE_METHODS = ("random", "halving")


@dataclass(frozen=True)
class TuneConfig:
    """How ``tune`` searches hyperparameters (``[tune]``).

    ``n_iter`` candidates per learner family, scored by ``cv``-fold cross-validation with
    ``scoring`` (a scikit-learn scorer name; ``None``: the task's primary metric), by
    randomized search or successive halving (``method``). ``families`` are compared;
    ``space`` maps a family to ``{hyperparameter: list of values or Range}`` (a family
    without one gets the defaults of :mod:`~.tune`).
    """

    n_iter: int = 10
    cv: int = 5
    scoring: str | None = None
    method: str = TUNE_METHODS[0]
    families: tuple[str, ...] = LEARNERS
    space: dict[str, dict[str, Any]] = field(default_factory=dict)


@dataclass(frozen=True)
class Config:
    """The whole training configuration."""

    data: DataConfig
    model: ModelConfig = field(default_factory=ModelConfig)
    quality: QualityConfig = field(default_factory=QualityConfig)
    runtime: RuntimeConfig = field(default_factory=RuntimeConfig)
    tune: TuneConfig = field(default_factory=TuneConfig)
    source: Path | None = None

    def with_overrides(self, **overrides: Any) -> Config:
        """Return a copy with ``section__key`` values replaced (``data__target="y"``).

        ``None`` values are skipped so that unset CLI flags keep the file's values.
        """
        sections: dict[str, dict[str, Any]] = {}
        for dotted, value in overrides.items():
            if value is None:
                continue
            section, _, key = dotted.partition("__")
            current = getattr(self, section, None)
            if not dataclasses.is_dataclass(current) or key not in {
                f.name for f in dataclasses.fields(current)
            }:
                raise ConfigError(f"unknown config override {dotted!r}")
            sections.setdefault(section, {})[key] = value
        updated = {
            section: dataclasses.replace(getattr(self, section), **values)
            for section, values in sections.items()
        }
        return dataclasses.replace(self, **updated)


def _check_keys(section: str, table: dict[str, Any], allowed: set[str]) -> None:
    unknown = sorted(set(table) - allowed)
    if unknown:
        raise ConfigError(
            f"unknown key {section}.{unknown[0]} in config (allowed: {', '.join(sorted(allowed))})"
        )


def _expect(section: str, key: str, value: Any, kind: type | tuple[type, ...]) -> Any:
    # bool is an int subclass; a number where a bool is expected (or vice versa) is a typo.
    kinds = kind if isinstance(kind, tuple) else (kind,)
    if isinstance(value, bool) and bool not in kinds:
        raise ConfigError(f"{section}.{key} must be {_describe(kinds)}, got {value!r}")
    if not isinstance(value, kinds):
        raise ConfigError(f"{section}.{key} must be {_describe(kinds)}, got {value!r}")
    return value


def _describe(kinds: tuple[type, ...]) -> str:
    names = {
        str: "a string",
        int: "an integer",
        float: "a number",
        list: "a list",
        dict: "a table",
    }
    return " or ".join(names.get(k, k.__name__) for k in kinds)


def _string_list(section: str, key: str, value: Any) -> tuple[str, ...]:
    _expect(section, key, value, list)
    if not all(isinstance(item, str) for item in value):
        raise ConfigError(f"{section}.{key} must be a list of column names (strings)")
    return tuple(value)


def _separator(value: Any) -> str:
    separator = _expect("data", "sep", value, str)
    if len(separator) != 1:
        raise ConfigError(f"data.sep must be one character such as ',' or ';', got {value!r}")
    return str(separator)


def _path(base: Path, section: str, key: str, value: Any) -> Path:
    path = Path(_expect(section, key, value, str))
    return path if path.is_absolute() else base / path


def _number_table(section: str, value: Any, parent: str = "quality") -> dict[str, float]:
    _expect(parent, section, value, dict)
    for key, number in value.items():
        _expect(f"{parent}.{section}", key, number, (int, float))
    return {key: float(number) for key, number in value.items()}


def _slice_thresholds(value: Any) -> SliceThresholds:
    """``[quality.slices]``: per-slice thresholds and the sensitive columns' maximum gaps."""
    section = "quality.slices"
    table = _expect("quality", "slices", value, dict)
    _check_keys(section, table, {f.name for f in dataclasses.fields(SliceThresholds)})
    min_rows = _expect(section, "min_rows", table.get("min_rows", 30), int)
    if min_rows < 1:
        raise ConfigError(f"{section}.min_rows must be at least 1, got {min_rows}")
    max_gap = _number_table("max_gap", table.get("max_gap", {}), section)
    sensitive = _string_list(section, "sensitive_columns", table.get("sensitive_columns", []))
    if max_gap and not sensitive:
        raise ConfigError(f"{section}.max_gap needs {section}.sensitive_columns (the columns)")
    return SliceThresholds(
        min_rows=min_rows,
        minimum=_number_table("minimum", table.get("minimum", {}), section),
        maximum=_number_table("maximum", table.get("maximum", {}), section),
        sensitive_columns=sensitive,
        max_gap=max_gap,
    )


def _learner(section: str, key: str, value: Any) -> str:
    name = _expect(section, key, value, str)
    if name not in LEARNERS:
        raise ConfigError(f"{section}.{key} must be one of {', '.join(LEARNERS)}, got {name!r}")
    return str(name)


def _search_values(section: str, key: str, value: Any) -> tuple[Any, ...] | Range:
    """One entry of ``[tune.space.<family>]``: a non-empty list, or ``{low, high, log}``."""
    if isinstance(value, list):
        if not value or not all(isinstance(item, (str, int, float)) for item in value):
            raise ConfigError(
                f"{section}.{key} must be a non-empty list of numbers, strings or booleans"
            )
        return tuple(value)
    table = _expect(section, key, value, (list, dict))
    name = f"{section}.{key}"
    _check_keys(name, table, {"low", "high", "log"})
    for bound in ("low", "high"):
        if bound not in table:
            raise ConfigError(f"missing required key {name}.{bound}")
        _expect(name, bound, table[bound], (int, float))
    low, high = table["low"], table["high"]
    log = _expect(name, "log", table.get("log", False), bool)
    if not low < high:
        raise ConfigError(f"{name}: low must be below high, got {low!r} and {high!r}")
    if log and low <= 0:
        raise ConfigError(f"{name}: a log range needs low > 0, got {low!r}")
    return Range(low=low, high=high, log=log)


def _tune_config(value: Any) -> TuneConfig:
    """``[tune]``: the hyperparameter search of the ``tune`` command."""
    table = _expect("<top>", "tune", value, dict)
    _check_keys("tune", table, {f.name for f in dataclasses.fields(TuneConfig)})
    n_iter = _expect("tune", "n_iter", table.get("n_iter", TuneConfig.n_iter), int)
    cv = _expect("tune", "cv", table.get("cv", TuneConfig.cv), int)
    if n_iter < 1:
        raise ConfigError(f"tune.n_iter must be at least 1, got {n_iter}")
    if cv < 2:
        raise ConfigError(f"tune.cv must be at least 2 (folds), got {cv}")
    method = _expect("tune", "method", table.get("method", TuneConfig.method), str)
    if method not in TUNE_METHODS:
        raise ConfigError(f"tune.method must be one of {', '.join(TUNE_METHODS)}, got {method!r}")
    families = _string_list("tune", "families", table.get("families", list(LEARNERS)))
    for position, family in enumerate(families):
        _learner("tune", f"families[{position}]", family)
    if not families:
        raise ConfigError("tune.families must name at least one learner family")
    space = _expect("tune", "space", table.get("space", {}), dict)
    _check_keys("tune.space", space, set(LEARNERS))
    parsed: dict[str, dict[str, Any]] = {}
    for family, entries in space.items():
        section = f"tune.space.{family}"
        _expect("tune.space", family, entries, dict)
        parsed[family] = {key: _search_values(section, key, item) for key, item in entries.items()}
    scoring = table.get("scoring")
    return TuneConfig(
        n_iter=n_iter,
        cv=cv,
        scoring=None if scoring is None else _expect("tune", "scoring", scoring, str),
        method=method,
        families=tuple(dict.fromkeys(families)),
        space=parsed,
    )


def parse_config(raw: dict[str, Any], base_dir: Path, source: Path | None = None) -> Config:
    """Build a :class:`Config` from a parsed TOML document.

    Parameters
    ----------
    raw : dict
        The parsed TOML document.
    base_dir : Path
        Directory that relative data paths are resolved against.
    source : Path, optional
        The file the document came from, kept for messages and the model card.

    Raises
    ------
    ConfigError
        On an unknown key, a missing required key or a value of the wrong type.
    """
    _check_keys("<top>", raw, {"data", "model", "quality", "runtime", "tune"})
    data = _expect("<top>", "data", raw.get("data", {}), dict)
    _check_keys(
        "data",
        data,
        {f.name for f in dataclasses.fields(DataConfig)},
    )
    for required in ("train", "target"):
        if required not in data:
            raise ConfigError(f"missing required key data.{required}")
    data_config = DataConfig(
        train=_path(base_dir, "data", "train", data["train"]),
        target=_expect("data", "target", data["target"], str),
        holdout=(
            _path(base_dir, "data", "holdout", data["holdout"]) if "holdout" in data else None
        ),
        numeric_features=(
            _string_list("data", "numeric_features", data["numeric_features"])
            if "numeric_features" in data
            else None
        ),
        categorical_features=(
            _string_list("data", "categorical_features", data["categorical_features"])
            if "categorical_features" in data
            else None
        ),
        ignore_columns=_string_list("data", "ignore_columns", data.get("ignore_columns", [])),
        forbidden_features=_string_list(
            "data", "forbidden_features", data.get("forbidden_features", [])
        ),
        slice_columns=_string_list("data", "slice_columns", data.get("slice_columns", [])),
        min_rows=_expect("data", "min_rows", data.get("min_rows", 20), int),
        sep=_separator(data["sep"]) if "sep" in data else None,
        coerce_to_missing=_string_list(
            "data", "coerce_to_missing", data.get("coerce_to_missing", [])
        ),
        drop_text_columns=_expect(
            "data", "drop_text_columns", data.get("drop_text_columns", False), bool
        ),
        holdout_fraction=float(
            _expect("data", "holdout_fraction", data.get("holdout_fraction", 0.2), (int, float))
        ),
    )
    if not 0 <= data_config.holdout_fraction < 1:
        raise ConfigError(
            "data.holdout_fraction must be at least 0 (no holdout) and below 1, "
            f"got {data_config.holdout_fraction:g}"
        )
    model = _expect("<top>", "model", raw.get("model", {}), dict)
    _check_keys("model", model, {"task", "random_state", "params", "learner"})
    task = _expect("model", "task", model.get("task", "classification"), str)
    if task not in TASK_KINDS:
        raise ConfigError(f"model.task must be one of {', '.join(TASK_KINDS)}, got {task!r}")
    model_config = ModelConfig(
        task=task,
        random_state=_expect("model", "random_state", model.get("random_state", 0), int),
        params=dict(_expect("model", "params", model.get("params", {}), dict)),
        learner=_learner("model", "learner", model.get("learner", LEARNERS[0])),
    )
    quality = _expect("<top>", "quality", raw.get("quality", {}), dict)
    _check_keys("quality", quality, {"minimum", "maximum", "baseline_margin", "slices"})
    quality_config = QualityConfig(
        minimum=_number_table("minimum", quality.get("minimum", {})),
        maximum=_number_table("maximum", quality.get("maximum", {})),
        baseline_margin=(
            float(_expect("quality", "baseline_margin", quality["baseline_margin"], (int, float)))
            if "baseline_margin" in quality
            else None
        ),
        slices=_slice_thresholds(quality.get("slices", {})),
    )
    runtime = _expect("<top>", "runtime", raw.get("runtime", {}), dict)
    _check_keys("runtime", runtime, {"threads"})
    threads = _expect("runtime", "threads", runtime.get("threads", 0), int)
    if threads < 0:
        raise ConfigError(f"runtime.threads must be 0 (automatic) or more, got {threads}")
    return Config(
        data=data_config,
        model=model_config,
        quality=quality_config,
        runtime=RuntimeConfig(threads=threads),
        tune=_tune_config(raw.get("tune", {})),
        source=source,
    )


def load_config(path: str | Path | None = None) -> Config:
    """Read and validate a TOML configuration file.

    Parameters
    ----------
    path : str or Path, optional
        The file to read; the configuration bundled with the package when omitted.

    Raises
    ------
    ConfigError
        When the file is missing, is not valid TOML or holds an invalid value.
    """
    config_path = Path(path) if path is not None else default_config_path()
    try:
        text = config_path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"config file not found: {config_path}") from None
    except OSError as exc:
        raise ConfigError(f"cannot read config file {config_path}: {exc.strerror}") from None
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"config file {config_path} is not valid TOML: {exc}") from None
    return parse_config(raw, config_path.resolve().parent, source=config_path)
