"""The quality gate: does a model's holdout performance justify shipping it?

By default a model must beat the dummy baseline (the training class priors, or the training
mean) on its task's primary metric by a margin; that metric sees every class, so a model
that only ever predicts the majority class fails however high its accuracy. Absolute
minimums and maximums apply only when the user's config sets them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .config import QualityConfig


@dataclass(frozen=True)
class GateResult:
    """Outcome of the quality gate: ``passed`` plus one line per check."""

    passed: bool
    checks: tuple[str, ...]
    failures: tuple[str, ...]


def quality_gate(
    metrics: dict[str, Any],
    baseline: dict[str, Any],
    thresholds: QualityConfig,
    primary_metric: str,
    default_margin: float = 0.0,
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

    Returns
    -------
    GateResult
        ``passed`` is True only if every check holds; a metric a threshold names but the
        report lacks is a failure, never silently skipped.
    """
    checks, failures = [], []

    def record(ok: bool, line: str) -> None:
        checks.append(("PASS " if ok else "FAIL ") + line)
        if not ok:
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
    return GateResult(passed=not failures, checks=tuple(checks), failures=tuple(failures))
