"""Reading tracked runs back: the latest runs, one run by id, two runs side by side."""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from typing import Any

from . import EXPERIMENT, TrackingError, tracking_uri
from .observer import mlflow_client

SHORT_ID = 8  # characters of a run id shown in tables; any unique prefix finds the run
SEARCH_LIMIT = 1000  # runs searched for a prefix
# Parameters that differ on every run, and so say nothing in a table of runs.
ALWAYS_DIFFERENT = ("model_version", "data_sha256", "train_path", "data")


@dataclass(frozen=True)
class RunRecord:
    """One tracked run, as the ``runs`` command shows it."""

    run_id: str
    kind: str
    status: str
    started: str
    params: dict[str, str] = field(default_factory=dict)
    metrics: dict[str, float] = field(default_factory=dict)
    tags: dict[str, str] = field(default_factory=dict)

    @property
    def short_id(self) -> str:
        return self.run_id[:SHORT_ID]

    def to_dict(self) -> dict[str, Any]:
        """JSON-serialisable form."""
        return asdict(self)


def _record(run: Any) -> RunRecord:
    started = datetime.fromtimestamp(run.info.start_time / 1000, tz=timezone.utc)
    tags = {k: v for k, v in run.data.tags.items() if not k.startswith("mlflow.")}
    return RunRecord(
        run_id=str(run.info.run_id),
        kind=tags.pop("kind", "?"),
        status=str(run.info.status),
        started=started.isoformat(timespec="seconds"),
        params=dict(run.data.params),
        metrics=dict(run.data.metrics),
        tags=tags,
    )


def _client_and_experiment(uri: str | None) -> tuple[Any, str | None]:
    try:
        client = mlflow_client(uri)
        experiment = client.get_experiment_by_name(EXPERIMENT)
    except Exception as exc:  # any store failure is one line for the user
        raise TrackingError(
            f"cannot read the tracking store {uri or tracking_uri()}: {_reason(exc)}"
        ) from None
    return client, None if experiment is None else str(experiment.experiment_id)


def recent_runs(
    limit: int = 20, kind: str | None = None, uri: str | None = None
) -> list[RunRecord]:
    """The latest ``limit`` runs of this project's experiment, newest first."""
    client, experiment = _client_and_experiment(uri)
    if experiment is None:
        return []
    query = f"tags.kind = '{kind}'" if kind else ""
    try:
        found = client.search_runs(
            [experiment], query, max_results=limit, order_by=["attributes.start_time DESC"]
        )
    except Exception as exc:
        raise TrackingError(f"cannot list runs: {_reason(exc)}") from None
    return [_record(run) for run in found]


def find_run(run_id: str, uri: str | None = None) -> RunRecord:
    """The run with this id, or the one run of the experiment whose id starts with it.

    Raises
    ------
    TrackingError
        No run, or several, match.
    """
    client, experiment = _client_and_experiment(uri)
    matches = []
    if experiment is not None:
        try:
            found = client.search_runs(
                [experiment], "", max_results=SEARCH_LIMIT, order_by=["attributes.start_time DESC"]
            )
        except Exception as exc:
            raise TrackingError(f"cannot list runs: {_reason(exc)}") from None
        matches = [run for run in found if str(run.info.run_id).startswith(run_id.lower())]
    if not matches or not run_id:
        raise TrackingError(
            f"no run {run_id!r} in experiment {EXPERIMENT!r} of {uri or tracking_uri()}"
        )
    if len(matches) > 1:
        raise TrackingError(f"{len(matches)} runs start with {run_id!r}; give more characters")
    return _record(matches[0])


def _reason(exc: BaseException) -> str:
    return " ".join(str(exc).split())[:300] or type(exc).__name__


def runs_table(runs: Sequence[RunRecord]) -> list[list[str]]:
    """Rows (a header first) of a table of runs: their metrics and the parameters that vary."""
    metrics = sorted({name for run in runs for name in run.metrics if not _is_baseline(name)})
    params = sorted(
        name
        for name in {name for run in runs for name in run.params}
        if name not in ALWAYS_DIFFERENT and len({run.params.get(name) for run in runs}) > 1
    )
    rows = [["run", "started", "kind", "status", "model", *metrics, *params]]
    for run in runs:
        rows.append(
            [
                run.short_id,
                run.started[:16].replace("T", " "),
                run.kind,
                run.status.lower(),
                run.params.get("model_version", "-"),
                *(_number(run.metrics.get(name)) for name in metrics),
                *(_cut(run.params.get(name, "-")) for name in params),
            ]
        )
    return rows


def comparison_table(first: RunRecord, second: RunRecord) -> list[list[str]]:
    """Rows (a header first) comparing two runs: each parameter and metric, differences marked.

    The last column is ``*`` for a parameter that differs and the difference (second
    minus first) for a metric that does.
    """
    rows = [["", first.short_id, second.short_id, "diff"]]
    rows.append(["kind", first.kind, second.kind, _mark(first.kind != second.kind)])
    for name in sorted(set(first.params) | set(second.params)):
        a, b = first.params.get(name, "-"), second.params.get(name, "-")
        rows.append([f"param {name}", _cut(a), _cut(b), _mark(a != b)])
    for name in sorted(set(first.metrics) | set(second.metrics)):
        x, y = first.metrics.get(name), second.metrics.get(name)
        if x is not None and y is not None:
            delta = "" if x == y else f"{y - x:+.4f}"
        else:
            delta = _mark(x != y)
        rows.append([f"metric {name}", _number(x), _number(y), delta])
    return rows


def format_table(rows: Iterable[Sequence[str]]) -> str:
    """Left-aligned columns two spaces apart."""
    rows = [list(row) for row in rows]
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return "\n".join(
        "  ".join(cell.ljust(width) for cell, width in zip(row, widths)).rstrip() for row in rows
    )


def _is_baseline(name: str) -> bool:
    return name.startswith("baseline_")


def _number(value: float | None) -> str:
    if value is None or not math.isfinite(value):
        return "-"
    return f"{value:.4f}"


def _cut(value: str, width: int = 24) -> str:
    return value if len(value) <= width else value[: width - 3] + "..."


def _mark(differs: bool) -> str:
    return "*" if differs else ""
