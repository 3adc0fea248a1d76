"""The quality gate: does a model's holdout performance justify shipping it?

By default a model must beat the dummy baseline (the training class priors, or the training
mean) on its task's primary metric by a margin; that metric sees every class, so a model
that only ever predicts the majority class fails however high its accuracy. Absolute
minimums and maximums apply only when the user's config sets them.

Slices (``[quality.slices]``) are judged the same way, each on its own line: per-slice
minimums and maximums, and a maximum gap of a metric between the slices of each sensitive
column. A slice with fewer than ``min_rows`` rows, or a metric undefined on a slice (one
class only), is reported in a ``NOTE`` line and neither passes nor fails.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from .config import QualityConfig, SliceThresholds

SliceMetrics = Mapping[str, Sequence[Mapping[str, Any]]]
"""Per-slice metrics as :class:`~.evaluate.Evaluation` holds them: ``{column: [{"value",
"rows", "metrics"}, ...]}``."""


@dataclass(frozen=True)
class GateResult:
    """Outcome of the quality gate: ``passed`` plus one line per check.

    ``checks`` starts each line with ``PASS``, ``FAIL`` or ``NOTE`` (not judged: a slice
    too small or a metric undefined on it); ``failures`` and ``notes`` repeat the ``FAIL``
    and ``NOTE`` lines without the word.
    """

    passed: bool
    checks: tuple[str, ...]
    failures: tuple[str, ...]
    notes: tuple[str, ...] = ()


def quality_gate(
    metrics: dict[str, Any],
    baseline: dict[str, Any],
    thresholds: QualityConfig,
    primary_metric: str,
    default_margin: float = 0.0,
    slices: SliceMetrics | None = None,
) -> GateResult:
    """Compare holdout metrics with the configured thresholds and the dummy baseline.

    Parameters
    ----------
    metrics : dict
        The model's holdout metrics.
    baseline : dict
        The dummy baseline's metrics on the same holdout.
    thresholds : QualityConfig
        Minimums, maximums and the margin the primary metric must beat the baseline by.
    primary_metric : str
        The task's primary metric (higher is better), compared with the baseline.
    default_margin : float
        The margin when ``thresholds.baseline_margin`` is not set (the task's default).
    slices : mapping, optional
        Per-slice metrics (:attr:`~.evaluate.Evaluation.slices`), judged by
        ``thresholds.slices``.

    Returns
    -------
    GateResult
        ``passed`` is True only if every check holds; a metric a threshold names but the
        report lacks is a failure, never silently skipped, and so is a sensitive column
        with no slices.
    """
    checks: list[str] = []
    failures: list[str] = []
    notes: list[str] = []

    def record(ok: bool | None, line: str) -> None:
        """``ok`` None: a note, neither passed nor failed."""
        checks.append(("NOTE " if ok is None else "PASS " if ok else "FAIL ") + line)
        if ok is None:
            notes.append(line)
        elif not ok:
            failures.append(line)

    for name, minimum in sorted(thresholds.minimum.items()):
        value = metrics.get(name)
        if value is None:
            record(False, f"{name}: not reported, required >= {minimum:g}")
        else:
            record(value >= minimum, f"{name} = {value:.4f}, required >= {minimum:g}")
    for name, maximum in sorted(thresholds.maximum.items()):
        value = metrics.get(name)
        if value is None:
            record(False, f"{name}: not reported, required <= {maximum:g}")
        else:
            record(value <= maximum, f"{name} = {value:.4f}, required <= {maximum:g}")
    model_value, baseline_value = metrics.get(primary_metric), baseline.get(primary_metric)
    if model_value is None or baseline_value is None:
        record(False, f"{primary_metric}: missing for the model or the baseline")
    else:
        configured = thresholds.baseline_margin
        margin = default_margin if configured is None else configured
        required = baseline_value + margin
        record(
            model_value >= required,
            f"{primary_metric} = {model_value:.4f} vs dummy baseline {baseline_value:.4f}, "
            f"required >= {required:.4f} "
            f"(margin {margin:g}{', the default' if configured is None else ''})",
        )
    if thresholds.slices.active:
        _slice_checks(slices, set(metrics), thresholds.slices, record)
    return GateResult(
        passed=not failures, checks=tuple(checks), failures=tuple(failures), notes=tuple(notes)
    )


def _slice_checks(
    slices: SliceMetrics | None,
    reported: set[str],
    rules: SliceThresholds,
    record: Callable[[bool | None, str], None],
) -> None:
    """Judge each slice against ``rules``: bounds per slice, gaps per sensitive column."""
    slices = slices or {}
    bounds = [
        *((name, bound, ">=") for name, bound in sorted(rules.minimum.items())),
        *((name, bound, "<=") for name, bound in sorted(rules.maximum.items())),
    ]
    for name, bound, relation in bounds:
        if name not in reported:
            record(False, f"slices: {name} is not reported, required {relation} {bound:g}")
    bounds = [(name, bound, relation) for name, bound, relation in bounds if name in reported]
    for column in rules.sensitive_columns:
        if column not in slices:
            record(False, f"slices of {column}: sensitive column not in the evaluation data")
    for column, groups in slices.items():
        gaps = rules.max_gap if column in rules.sensitive_columns else {}
        if not bounds and not gaps:
            continue
        judged = []
        for group in groups:
            where = f"slice {column} = {group['value']}"
            if group["rows"] < rules.min_rows:
                record(
                    None,
                    f"{where}: {group['rows']} rows, too small to judge "
                    f"(min_rows {rules.min_rows})",
                )
                continue
            judged.append(group)
            for name, bound, relation in bounds:
                value = group["metrics"].get(name)
                if value is None:
                    record(None, f"{where}: {name} = n/a (undefined on this slice), not judged")
                    continue
                ok = value >= bound if relation == ">=" else value <= bound
                record(ok, f"{where}: {name} = {value:.4f}, required {relation} {bound:g}")
        for name, allowed in sorted(gaps.items()):
            _gap_check(column, judged, name, allowed, name in reported, record)


def _gap_check(
    column: str,
    judged: Sequence[Mapping[str, Any]],
    name: str,
    allowed: float,
    reported: bool,
    record: Callable[[bool | None, str], None],
) -> None:
    """The largest difference of metric ``name`` between the judged slices of ``column``."""
    where = f"slice gap {column}: {name}"
    if not reported:
        record(False, f"{where} is not reported, required gap <= {allowed:g}")
        return
    values = [(group["metrics"].get(name), group["value"]) for group in judged]
    values = sorted((value, label) for value, label in values if value is not None)
    if len(values) < 2:
        record(None, f"{where}: fewer than two slices large enough with a value, not judged")
        return
    (low, low_label), (high, high_label) = values[0], values[-1]
    record(
        high - low <= allowed,
        f"{where} = {high - low:.4f} ({high_label} {high:.4f} vs {low_label} {low:.4f}), "
        f"required <= {allowed:g}",
    )
