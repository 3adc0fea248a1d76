"""Production readiness: the ML Test Score computed from evidence the repository holds.

The scorecard (``readiness.toml`` at the project root) lists the 28 tests of the ML Test
Score (Breck, Cai, Nielsen, Salib and Sculley, IEEE Big Data 2017) by their exact titles,
in four sections, each with a claimed status and the evidence behind the claim:

- ``test = "src/.../test_x.py::test_y"``: a pytest node id (a file, a test, a parametrized
  test with or without its ``[id]``) that pytest collects;
- ``ci_job = "ml"``: a job (id or name) in ``.github/workflows/*.yml`` or ``.gitlab-ci.yml``;
- ``command = "validate"``: a command of this project's command line;
- ``doc = "docs/operations.md#rolling-back"``: a page (and heading) that exists;
- ``file = ".github/dependabot.yml"``: any file that exists.

The paper's rule (2017, section VI.A) scores each test: **one point** when it runs
automatically and repeatedly, **half a point** when it is done by hand with its results
documented. Here a claimed ``automated`` test earns its point only when at least one
cited ``test`` or ``ci_job`` verifies, a claimed ``manual`` test its half point only when a
cited ``doc`` exists; whatever the file claims, unverified evidence earns nothing and is
reported. A section's score is the sum of its tests, the final score the minimum over the
sections. Only the standard library is used; pytest runs in a subprocess, once.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tomllib
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from .errors import ConfigError
from .files import output_file

DEFAULT_SCORECARD = "readiness.toml"
"""The scorecard's file name, at the project root."""

SECTIONS: dict[str, tuple[str, ...]] = {
    "data": (
        "Feature expectations are captured in a schema.",
        "All features are beneficial.",
        "No feature's cost is too much.",
        "Features adhere to meta-level requirements.",
        "The data pipeline has appropriate privacy controls.",
        "New features can be added quickly.",
        "All input feature code is tested.",
    ),
    "model": (
        "Model specs are reviewed and submitted.",
        "Offline and online metrics correlate.",
        "All hyperparameters have been tuned.",
        "The impact of model staleness is known.",
        "A simpler model is not better.",
        "Model quality is sufficient on important data slices.",
        "The model is tested for considerations of inclusion.",
    ),
    "infrastructure": (
        "Training is reproducible.",
        "Model specs are unit tested.",
        "The ML pipeline is Integration tested.",
        "Model quality is validated before serving.",
        "The model is debuggable.",
        "Models are canaried before serving.",
        "Serving models can be rolled back.",
    ),
    "monitoring": (
        "Dependency changes result in notification.",
        "Data invariants hold for inputs.",
        "Training and serving are not skewed.",
        "Models are not too stale.",
        "Models are numerically stable.",
        "Computing performance has not regressed.",
        "Prediction quality has not regressed.",
    ),
}
"""The 28 tests of the ML Test Score by section, with the paper's exact short titles."""

SECTION_TITLES = {
    "data": "Data",
    "model": "Model development",
    "infrastructure": "ML infrastructure",
    "monitoring": "Monitoring",
}
STATUSES = {"automated": 1.0, "manual": 0.5, "not done": 0.0}
"""Claimed status -> the points it is worth when its evidence verifies."""
EVIDENCE_KINDS = ("test", "ci_job", "command", "doc", "file")
AUTOMATION_KINDS = frozenset({"test", "ci_job"})
"""Evidence that can earn an automated test its point."""
MANUAL_KINDS = frozenset({"doc"})
"""Evidence that can earn a manual test its half point."""
BANDS = (
    (0.0, "more of a research project than a productionized system"),
    (1.0, "not totally untested, but it is worth considering serious holes in reliability"),
    (2.0, "a first pass at basic productionization"),
    (3.0, "reasonably tested"),
    (5.0, "strong levels of automated testing and monitoring"),
)
"""Upper bound of each band of the paper's Table V and its reading; above 5 is exceptional."""
_GITLAB_KEYWORDS = frozenset(
    {
        "after_script",
        "before_script",
        "cache",
        "default",
        "image",
        "include",
        "services",
        "stages",
        "variables",
        "workflow",
    }
)
_COLLECT_TIMEOUT = 600


@dataclass(frozen=True)
class Evidence:
    """One piece of evidence: its kind (``test``, ``ci_job``, ...) and its value."""

    kind: str
    value: str

    def __str__(self) -> str:
        return f"{self.kind} {self.value}"


@dataclass(frozen=True)
class Item:
    """One of the 28 tests as the scorecard claims it."""

    section: str
    number: int
    title: str
    status: str
    evidence: tuple[Evidence, ...]
    note: str = ""


@dataclass(frozen=True)
class Scorecard:
    """A parsed scorecard: its items in the paper's order, the floor and where it lives."""

    items: tuple[Item, ...]
    floor: float
    path: Path

    @property
    def root(self) -> Path:
        """The project root: evidence paths are relative to the scorecard's directory."""
        return self.path.parent


@dataclass(frozen=True)
class Check:
    """The verdict on one piece of evidence; ``reason`` says why it failed."""

    evidence: Evidence
    reason: str | None = None

    @property
    def verified(self) -> bool:
        """Whether the evidence holds."""
        return self.reason is None


@dataclass(frozen=True)
class ItemResult:
    """An item with its checked evidence and the points it earned."""

    item: Item
    checks: tuple[Check, ...]
    points: float
    shortfall: str | None = None

    @property
    def failed(self) -> tuple[Check, ...]:
        """The evidence that did not verify."""
        return tuple(check for check in self.checks if not check.verified)


@dataclass(frozen=True)
class Readiness:
    """The verified scorecard: every item's points, the section sums and the final score."""

    results: tuple[ItemResult, ...]
    floor: float
    scorecard: Path

    @property
    def sections(self) -> dict[str, float]:
        """Each section's score: the sum of its items' points."""
        return {
            section: sum(r.points for r in self.results if r.item.section == section)
            for section in SECTIONS
        }

    @property
    def score(self) -> float:
        """The final ML Test Score: the minimum over the sections."""
        return min(self.sections.values())

    @property
    def below_floor(self) -> bool:
        """Whether the final score is below the scorecard's floor."""
        return self.score < self.floor

    def to_json(self) -> dict[str, Any]:
        """``{"sections": {"data": .., "model": .., ...}, "score": ..}``."""
        return {"sections": self.sections, "score": self.score}

    def floor_message(self) -> str:
        """One line saying the score is below the floor and which section is weakest."""
        weakest = ", ".join(name for name, value in self.sections.items() if value == self.score)
        return (
            f"ML Test Score {_points(self.score)} is below the floor {_points(self.floor)} "
            f"set in {self.scorecard} (weakest: {weakest})"
        )


# -- Reading the scorecard ----------------------------------------------------------------


def load_scorecard(path: str | Path = DEFAULT_SCORECARD) -> Scorecard:
    """Read and check a scorecard file.

    Raises
    ------
    ConfigError
        One line naming the file and the offending entry when the file is missing, is
        not TOML, or does not list each of the 28 tests exactly once with a known status
        and well-formed evidence.
    """
    path = Path(path)
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(
            f"scorecard {path} not found (run from the project root or pass --scorecard)"
        ) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"scorecard {path} cannot be read: {exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from None
    return parse_scorecard(raw, path.absolute())


def parse_scorecard(raw: Mapping[str, Any], path: Path) -> Scorecard:
    """Build a :class:`Scorecard` from parsed TOML; see :func:`load_scorecard`."""
    unknown = sorted(set(raw) - {"floor", *SECTIONS})
    if unknown:
        raise ConfigError(
            f"{path}: unknown key(s) {', '.join(unknown)}; expected floor and the sections "
            f"{', '.join(SECTIONS)}"
        )
    floor = raw.get("floor", 0)
    if isinstance(floor, bool) or not isinstance(floor, int | float) or not 0 <= floor <= 7:
        raise ConfigError(f"{path}: floor must be a number from 0 to 7, got {floor!r}")
    items: list[Item] = []
    for section, titles in SECTIONS.items():
        entries = raw.get(section)
        if not isinstance(entries, list) or not all(isinstance(e, dict) for e in entries):
            raise ConfigError(f"{path}: [[{section}]] must be a list of tables, one per test")
        found: dict[str, Item] = {}
        for index, entry in enumerate(entries):
            item = _parse_item(entry, section, f"{path}: {section}[{index}]")
            if item.title in found:
                raise ConfigError(f"{path}: {section}[{index}]: {item.title!r} is listed twice")
            found[item.title] = item
        missing = [title for title in titles if title not in found]
        if missing:
            raise ConfigError(f"{path}: [[{section}]] is missing {missing[0]!r}")
        items.extend(found[title] for title in titles)
    return Scorecard(items=tuple(items), floor=float(floor), path=path)


def _parse_item(entry: Mapping[str, Any], section: str, where: str) -> Item:
    title = entry.get("title")
    if not isinstance(title, str) or title not in SECTIONS[section]:
        raise ConfigError(
            f"{where}: title {title!r} is not one of the {SECTION_TITLES[section]} tests "
            "(use the paper's exact title, with its full stop)"
        )
    where = f"{where} ({title!r})"
    unknown = sorted(set(entry) - {"title", "status", "evidence", "note"})
    if unknown:
        raise ConfigError(f"{where}: unknown key(s) {', '.join(unknown)}")
    status = entry.get("status")
    if status not in STATUSES:
        raise ConfigError(f"{where}: status must be one of {', '.join(STATUSES)}, got {status!r}")
    note = entry.get("note", "")
    if not isinstance(note, str):
        raise ConfigError(f"{where}: note must be a string, got {note!r}")
    evidence = entry.get("evidence", [])
    if not isinstance(evidence, list):
        raise ConfigError(f"{where}: evidence must be a list of tables like " + '{test = "..."}')
    parsed = tuple(
        _parse_evidence(piece, f"{where}: evidence[{i}]") for i, piece in enumerate(evidence)
    )
    number = SECTIONS[section].index(title) + 1
    return Item(section, number, title, str(status), parsed, note)


def _parse_evidence(piece: Any, where: str) -> Evidence:
    if not isinstance(piece, dict) or len(piece) != 1:
        raise ConfigError(
            f"{where}: must be one table of a kind and a value, kind one of "
            f"{', '.join(EVIDENCE_KINDS)}, got {piece!r}"
        )
    ((kind, value),) = piece.items()
    if kind not in EVIDENCE_KINDS:
        raise ConfigError(
            f"{where}: unknown evidence kind {kind!r}; expected one of {', '.join(EVIDENCE_KINDS)}"
        )
    if not isinstance(value, str) or not value.strip():
        raise ConfigError(f"{where}: {kind} must be a non-empty string, got {value!r}")
    if kind in ("test", "doc", "file"):
        relative = PurePosixPath(value.split("::")[0].split("#")[0])
        if relative.is_absolute() or ".." in relative.parts or "\\" in value:
            raise ConfigError(
                f"{where}: {kind} {value!r} must be a path relative to the project root"
            )
    return Evidence(kind, value.strip())


# -- Verifying the evidence ---------------------------------------------------------------


@dataclass(frozen=True)
class Collected:
    """What pytest collected from one file: its node ids, or why there are none."""

    ids: frozenset[str] = frozenset()
    error: str | None = None


Collector = Callable[[Path, Sequence[str]], Mapping[str, Collected]]
"""Collects test files under a root: ``collect(root, files) -> {file: Collected}``."""


def collect_tests(root: Path, files: Sequence[str]) -> dict[str, Collected]:
    """Ask pytest, in one subprocess, which tests it collects from ``files`` under ``root``.

    The files are collected whole (never the cited node ids, so that one id that does
    not exist cannot fail the others); a file that fails to import is reported with
    pytest's error line. ``PYTEST_ADDOPTS`` is dropped so that CI's report options
    (JUnit files, coverage) do not apply to the collection.
    """
    if not files:
        return {}
    command = [
        sys.executable,
        "-m",
        "pytest",
        "--collect-only",
        "-q",
        "-p",
        "no:cacheprovider",
        "--continue-on-collection-errors",
        f"--rootdir={root}",
        *files,
    ]
    environment = {k: v for k, v in os.environ.items() if k != "PYTEST_ADDOPTS"}
    try:
        process = subprocess.run(
            command,
            cwd=root,
            env=environment,
            capture_output=True,
            text=True,
            timeout=_COLLECT_TIMEOUT,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        return {name: Collected(error=f"pytest could not run: {exc}") for name in files}
    return parse_collection(process.stdout, process.stderr, process.returncode, files)


def parse_collection(
    stdout: str, stderr: str, returncode: int, files: Sequence[str]
) -> dict[str, Collected]:
    """Split ``pytest --collect-only -q`` output into what each file gave."""
    lines = stdout.splitlines()
    ids = [line.strip() for line in lines if "::" in line and not line.startswith(("E ", "_"))]
    errors = {line.split()[1]: line[6:] for line in lines if line.startswith("ERROR ")}
    # Each failing file's section: "____ ERROR collecting <file> ____", then the
    # traceback, whose last "E   ..." line is the error itself.
    current = None
    for line in lines:
        if header := re.fullmatch(r"_+ ERROR collecting (\S+) _+", line.strip()):
            current = header.group(1)
        elif current is not None and line.startswith("E "):
            errors[current] = line[1:].strip()
    tail = (stderr.strip().splitlines() or [f"pytest exited with code {returncode}"])[-1]
    # Nothing collected, no file's error, and a failing exit: pytest itself did not run.
    broken = not ids and not errors and returncode not in (0, 5)
    result: dict[str, Collected] = {}
    for name in files:
        own = frozenset(node for node in ids if node.startswith(f"{name}::"))
        error = errors.get(name)
        if own:
            result[name] = Collected(ids=own)
        elif error is not None:
            result[name] = Collected(error=f"pytest cannot collect it: {error}")
        elif broken:
            result[name] = Collected(error=f"pytest failed: {tail}")
        else:
            result[name] = Collected(error="pytest collects no test from it")
    return result


def ci_jobs(root: Path) -> set[str]:
    """The ids and names of the jobs in the project's CI files (GitHub Actions, GitLab CI).

    A light line-based reading of the YAML, enough for the files this project ships: a
    GitHub job is a two-space key under the top-level ``jobs:``, its ``name:`` four spaces
    in; a GitLab job is a top-level key that is not a keyword and not hidden (``.name``).
    """
    jobs: set[str] = set()
    workflows = root / ".github" / "workflows"
    for path in sorted(workflows.glob("*.y*ml")) if workflows.is_dir() else []:
        in_jobs = False
        for line in path.read_text(encoding="utf-8").splitlines():
            if line and not line[0].isspace():
                in_jobs = line.split("#")[0].strip() == "jobs:"
                continue
            if not in_jobs:
                continue
            if job := re.fullmatch(r"  ([A-Za-z0-9_-]+):\s*(#.*)?", line):
                jobs.add(job.group(1))
            elif name := re.fullmatch(r"    name:\s*(.+?)\s*", line):
                jobs.add(name.group(1).strip("'\""))
    gitlab = root / ".gitlab-ci.yml"
    if gitlab.is_file():
        for line in gitlab.read_text(encoding="utf-8").splitlines():
            key = re.fullmatch(r"""(["']?)([^\s#.'"][^:#'"]*)\1:(\s.*)?""", line)
            if key and key.group(2) not in _GITLAB_KEYWORDS:
                jobs.add(key.group(2))
    return jobs


def _slug(heading: str) -> str:
    """The anchor MyST and GitHub give a heading: lower case, punctuation dropped."""
    text = re.sub(r"[^\w\- ]", "", heading.strip().lower())
    return text.replace(" ", "-")


def _check_path(root: Path, value: str) -> str | None:
    path, _, anchor = value.partition("#")
    target = root / path
    if not target.is_file():
        return "file not found"
    if anchor:
        headings = re.findall(r"^#+\s+(.+?)\s*$", target.read_text(encoding="utf-8"), re.M)
        if anchor not in {_slug(h) for h in headings}:
            return f"no heading #{anchor} in it"
    return None


def _check_test(node: str, collected: Mapping[str, Collected]) -> str | None:
    name = node.split("::")[0]
    found = collected.get(name)
    if found is None:
        return "file not found"
    if found.error is not None:
        return found.error
    if "::" not in node:
        return None
    if node in found.ids or any(i.startswith((f"{node}[", f"{node}::")) for i in found.ids):
        return None
    return "pytest does not collect it"


def verify(
    scorecard: Scorecard,
    commands: Collection[str],
    collect: Collector | None = None,
) -> Readiness:
    """Check every piece of evidence and score each item by the paper's rule.

    Parameters
    ----------
    scorecard : Scorecard
        The parsed scorecard; its directory is the project root.
    commands : collection of str
        The commands of the project's command line (``command`` evidence names one).
    collect : callable, optional
        Collects the cited test files (default :func:`collect_tests`); called once, with
        every cited file that exists.
    """
    root = scorecard.root
    cited = {
        e.value.split("::")[0]
        for item in scorecard.items
        for e in item.evidence
        if e.kind == "test"
    }
    present = sorted(name for name in cited if (root / name).is_file())
    collected = dict((collect or collect_tests)(root, present))
    jobs = ci_jobs(root)
    results = []
    for item in scorecard.items:
        checks = tuple(_check(e, root, collected, jobs, commands) for e in item.evidence)
        points, shortfall = _score(item, checks)
        results.append(ItemResult(item, checks, points, shortfall))
    return Readiness(tuple(results), scorecard.floor, scorecard.path)


def _check(
    evidence: Evidence,
    root: Path,
    collected: Mapping[str, Collected],
    jobs: Collection[str],
    commands: Collection[str],
) -> Check:
    kind, value = evidence.kind, evidence.value
    if kind == "test":
        reason = _check_test(value, collected)
    elif kind == "ci_job":
        reason = None if value in jobs else "no such job in the CI files"
    elif kind == "command":
        name = value.split()[0]
        reason = None if name in commands else f"the command line has no {name!r} command"
    else:
        reason = _check_path(root, value)
    return Check(evidence, reason)


def _score(item: Item, checks: Iterable[Check]) -> tuple[float, str | None]:
    """The points an item earns and, when it earns less than it claims, why."""
    if item.status == "not done":
        return 0.0, None
    needed = AUTOMATION_KINDS if item.status == "automated" else MANUAL_KINDS
    if any(check.verified for check in checks if check.evidence.kind in needed):
        return STATUSES[item.status], None
    kinds = " or ".join(sorted(needed))
    return 0.0, f"claimed {item.status} but no {kinds} evidence verifies"


# -- Output -------------------------------------------------------------------------------


def _points(value: float) -> str:
    return f"{value:g}"


def band(score: float) -> str:
    """The paper's reading (Table V) of a final score."""
    for upper, reading in BANDS:
        if score <= upper:
            return reading
    return "exceptional levels of automated testing and monitoring"


def render_table(readiness: Readiness) -> str:
    """A plain-text table: section, test, claimed status, points and failed evidence."""
    width = max(len(title) for title in SECTION_TITLES.values())
    indent = " " * (width + 5)
    lines = [f"{'Section'.ljust(width)}  #  {'Claimed'.ljust(9)}  Points  Test"]
    for result in readiness.results:
        item = result.item
        lines.append(
            f"{SECTION_TITLES[item.section].ljust(width)}  {item.number}  "
            f"{item.status.ljust(9)}  {_points(result.points).rjust(6)}  {item.title}"
        )
        if result.shortfall:
            lines.append(f"{indent}{result.shortfall}")
        for check in result.failed:
            lines.append(f"{indent}failed: {check.evidence}: {check.reason}")
    sections = ", ".join(f"{name} {_points(v)}" for name, v in readiness.sections.items())
    lines.append(
        f"ML Test Score {_points(readiness.score)} (minimum of {sections}); "
        f"floor {_points(readiness.floor)}"
    )
    return "\n".join(lines)


START_MARKER = "<!-- readiness:start -->"
"""Everything after this line of the Markdown report is the part the docs include."""


def render_markdown(readiness: Readiness) -> str:
    """The report as Markdown: a title, the marker, the summary and one table per section."""
    sections = readiness.sections
    lines = [
        "# Production readiness: the ML Test Score",
        "",
        START_MARKER,
        "",
        f"<!-- Generated by the readiness command from {_cell(readiness.scorecard.name)}; "
        "do not edit. -->",
        "",
        f"**Score: {_points(readiness.score)}** (the minimum over the four sections; floor "
        f"{_points(readiness.floor)}): {band(readiness.score)}.",
        "",
        "| Section | Score |",
        "| --- | --- |",
        *(f"| {SECTION_TITLES[name]} | {_points(v)} |" for name, v in sections.items()),
    ]
    for section in SECTIONS:
        lines += [
            "",
            f"## {SECTION_TITLES[section]}",
            "",
            "| # | Test | Claimed | Points | Evidence | Note |",
            "| --- | --- | --- | --- | --- | --- |",
        ]
        for result in readiness.results:
            if result.item.section != section:
                continue
            item = result.item
            evidence = [_evidence_cell(check) for check in result.checks]
            if result.shortfall:
                evidence.append(_cell(result.shortfall))
            lines.append(
                f"| {item.number} | {_cell(item.title)} | {item.status} | "
                f"{_points(result.points)} | {'<br>'.join(evidence) or '-'} | "
                f"{_cell(item.note) or '-'} |"
            )
    return "\n".join(lines) + "\n"


def _evidence_cell(check: Check) -> str:
    cell = f"{check.evidence.kind} {_code(check.evidence.value)}"
    if check.verified:
        return f"{cell}: verified"
    return f"{cell}: **failed**, {_cell(check.reason or '')}"


def _cell(text: str) -> str:
    """Text safe inside a Markdown table cell: one line, markup characters escaped."""
    text = " ".join(text.split())
    return re.sub(r"([\\`*_{}\[\]<>|#!~])", r"\\\1", text)


def _code(text: str) -> str:
    """A code span for ``text`` inside a table cell, fenced longer than any backtick run."""
    text = " ".join(text.split()).replace("|", "\\|")
    fence = "`" * (max((len(run) for run in re.findall("`+", text)), default=0) + 1)
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{fence}{pad}{text}{pad}{fence}"


def write_markdown(readiness: Readiness, path: str | Path) -> Path:
    """Write :func:`render_markdown` to ``path`` atomically; return the path."""
    with output_file(path) as stream:
        stream.write(render_markdown(readiness))
    return Path(path)
