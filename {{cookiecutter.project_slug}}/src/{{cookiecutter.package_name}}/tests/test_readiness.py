"""The readiness scorecard: parsing, evidence checks, the paper's scoring rule, the command."""

import json
import textwrap
from pathlib import Path

import pytest
from click.testing import CliRunner

from ..cli import main
from ..errors import ConfigError
from ..readiness import (
    SECTIONS,
    START_MARKER,
    Collected,
    ci_jobs,
    collect_tests,
    load_scorecard,
    parse_collection,
    render_markdown,
    verify,
)

PROJECT_ROOT = Path(__file__).resolve().parents[3]
SCHEMA = SECTIONS["data"][0]
BENEFICIAL = SECTIONS["data"][1]
REVIEWED = SECTIONS["model"][0]
SIMPLER = SECTIONS["model"][4]
REPRODUCIBLE = SECTIONS["infrastructure"][0]
DEPENDENCIES = SECTIONS["monitoring"][0]


def toml_string(text):
    return json.dumps(text)


def scorecard(tmp_path, claims=None, floor=0, extra=""):
    """Write a scorecard in ``tmp_path``: every test "not done" unless ``claims`` says.

    ``claims`` maps a title to (status, [(kind, value), ...]).
    """
    claims = claims or {}
    lines = [f"floor = {floor}", extra]
    for section, titles in SECTIONS.items():
        for title in titles:
            status, evidence = claims.get(title, ("not done", []))
            pieces = ", ".join(
                "{ " + f"{kind} = {toml_string(value)}" + " }" for kind, value in evidence
            )
            lines += [
                f"[[{section}]]",
                f"title = {toml_string(title)}",
                f"status = {toml_string(status)}",
                f"evidence = [{pieces}]",
                "",
            ]
    path = tmp_path / "readiness.toml"
    path.write_text("\n".join(lines), encoding="utf-8")
    return path


def collector(ids):
    """A fake pytest collection: ``ids`` are the node ids "collected" under the root."""
    calls = []

    def collect(root, files):
        calls.append(list(files))
        return {
            name: (
                Collected(ids=frozenset(i for i in ids if i.startswith(f"{name}::")))
                if any(i.startswith(f"{name}::") for i in ids)
                else Collected(error="pytest collects no test from it")
            )
            for name in files
        }

    collect.calls = calls
    return collect


@pytest.fixture
def project(tmp_path):
    """A tiny project root: two test files, a doc with a heading, a GitLab CI file."""
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests" / "test_a.py").write_text("def test_x():\n    assert 1\n")
    (tmp_path / "tests" / "test_b.py").write_text("def test_y():\n    assert 1\n")
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "ops.md").write_text("# Operations\n\n## Rolling back\n")
    (tmp_path / ".gitlab-ci.yml").write_text("stages:\n  - ml\n\nml:\n  script:\n    - make\n")
    return tmp_path


def test_the_projects_scorecard_lists_the_28_tests_in_the_papers_order():
    card = load_scorecard(PROJECT_ROOT / "readiness.toml")
    assert [item.title for item in card.items] == [t for ts in SECTIONS.values() for t in ts]
    assert card.floor > 0
    assert all(item.note for item in card.items if item.status == "not done")


def test_full_points_half_points_and_the_minimum_over_sections(project):
    claims = {title: ("automated", [("ci_job", "ml")]) for title in SECTIONS["data"][:3]}
    claims[REVIEWED] = ("manual", [("doc", "docs/ops.md")])
    claims[SIMPLER] = ("automated", [("test", "tests/test_a.py::test_x")])
    claims[REPRODUCIBLE] = ("automated", [("test", "tests/test_b.py")])
    claims[DEPENDENCIES] = ("manual", [("doc", "docs/ops.md#rolling-back")])
    collect = collector({"tests/test_a.py::test_x", "tests/test_b.py::test_y"})
    result = verify(load_scorecard(scorecard(project, claims)), [], collect)
    assert result.sections == {"data": 3.0, "model": 1.5, "infrastructure": 1.0, "monitoring": 0.5}
    assert result.score == 0.5
    assert collect.calls == [["tests/test_a.py", "tests/test_b.py"]]
    assert result.to_json() == {"sections": result.sections, "score": 0.5}


def test_evidence_of_the_wrong_kind_earns_nothing(project):
    claims = {
        # A doc cannot prove automation, a test cannot stand for the documented result.
        SCHEMA: ("automated", [("doc", "docs/ops.md"), ("command", "info")]),
        REVIEWED: ("manual", [("test", "tests/test_a.py::test_x")]),
    }
    result = verify(load_scorecard(scorecard(project, claims)), ["info"], collector(set()))
    by_title = {r.item.title: r for r in result.results}
    assert by_title[SCHEMA].points == 0
    assert (
        by_title[SCHEMA].shortfall == "claimed automated but no ci_job or test evidence verifies"
    )
    assert by_title[REVIEWED].points == 0


@pytest.mark.parametrize(
    ("evidence", "reason"),
    [
        (("test", "tests/test_gone.py::test_x"), "file not found"),
        (("test", "tests/test_a.py::test_renamed"), "pytest does not collect it"),
        (("test", "tests/test_b.py"), "pytest collects no test from it"),
        (("ci_job", "deploy"), "no such job in the CI files"),
        (("command", "tune --n-iter 5"), "the command line has no 'tune' command"),
        (("doc", "docs/missing.md"), "file not found"),
        (("doc", "docs/ops.md#canary"), "no heading #canary in it"),
        (("file", ".github/dependabot.yml"), "file not found"),
    ],
)
def test_missing_evidence_scores_zero_and_says_why(project, evidence, reason):
    claims = {SCHEMA: ("automated", [evidence, ("test", "tests/test_a.py::test_x")])}
    collect = collector({"tests/test_a.py::test_x"})
    verified = verify(load_scorecard(scorecard(project, claims)), ["info"], collect)
    (check,) = verified.results[0].failed
    assert (check.evidence.kind, check.evidence.value, check.reason) == (*evidence, reason)
    # The other test still verifies, so the point stands; alone the evidence earns nothing.
    assert verified.results[0].points == 1
    alone = {SCHEMA: ("automated" if evidence[0] in ("test", "ci_job") else "manual", [evidence])}
    result = verify(load_scorecard(scorecard(project, alone)), ["info"], collect)
    assert result.results[0].points == 0
    assert result.results[0].failed[0].reason == reason


def test_parametrized_ids_match_with_or_without_their_parameters(project):
    ids = {"tests/test_a.py::test_x[1-a]", "tests/test_a.py::test_x[2-b]"}
    claims = {
        SCHEMA: ("automated", [("test", "tests/test_a.py::test_x")]),
        BENEFICIAL: ("automated", [("test", "tests/test_a.py::test_x[2-b]")]),
        SECTIONS["data"][2]: ("automated", [("test", "tests/test_a.py::test_x[3-c]")]),
        SECTIONS["data"][3]: ("automated", [("test", "tests/test_a.py::test")]),
    }
    result = verify(load_scorecard(scorecard(project, claims)), [], collector(ids))
    assert [r.points for r in result.results[:4]] == [1, 1, 0, 0]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            "extra-key",
            "data[0] ('Feature expectations are captured in a schema.'): unknown key(s) flavour",
        ),
        ("", "[[data]] is missing 'Feature expectations are captured in a schema.'"),
        ("data-title", "data[0]: title 'Feature expectations are captured' is not one of"),
        ("status", "status must be one of automated, manual, not done, got 'auto'"),
        ("kind", "evidence[0]: unknown evidence kind 'tset'"),
        ("two", "evidence[0]: must be one table of a kind and a value"),
        ("absolute", "test '/etc/test_x.py' must be a path relative to the project root"),
        ("duplicate", "'All features are beneficial.' is listed twice"),
        ("floor", "floor must be a number from 0 to 7, got 'high'"),
        ("toml", "not valid TOML"),
        ("key", "unknown key(s) flor"),
    ],
)
def test_a_malformed_scorecard_is_one_line_naming_the_entry(tmp_path, change, message):
    path = scorecard(tmp_path)
    text = path.read_text()
    first = 'title = "Feature expectations are captured in a schema."\nstatus = "not done"'
    edits = {
        "extra-key": (first, first + '\nflavour = "x"'),
        "": (f"[[data]]\n{first}\nevidence = []\n", ""),
        "data-title": (first, 'title = "Feature expectations are captured"\nstatus = "not done"'),
        "status": (first, first.replace("not done", "auto")),
        "kind": (first + "\nevidence = []", first + '\nevidence = [{ tset = "x" }]'),
        "two": (first + "\nevidence = []", first + '\nevidence = [{ test = "a", doc = "b" }]'),
        "absolute": (
            first + "\nevidence = []",
            first + '\nevidence = [{ test = "/etc/test_x.py" }]',
        ),
        "duplicate": (
            "[[model]]",
            f'[[data]]\ntitle = "{BENEFICIAL}"\nstatus = "manual"\n\n[[model]]',
        ),
        "floor": ("floor = 0", 'floor = "high"'),
        "toml": ("floor = 0", "floor = = 0"),
        "key": ("floor = 0", "floor = 0\nflor = 1"),
    }
    old, new = edits[change]
    path.write_text(text.replace(old, new, 1))
    with pytest.raises(ConfigError) as raised:
        load_scorecard(path)
    assert message in str(raised.value)
    assert "\n" not in str(raised.value)


def test_ci_jobs_are_read_from_github_and_gitlab(tmp_path):
    workflows = tmp_path / ".github" / "workflows"
    workflows.mkdir(parents=True)
    (workflows / "ci.yml").write_text(textwrap.dedent("""\
            name: CI
            on:
              push:
            jobs:
              lint:
                name: Lint (pre-commit)
                steps:
                  - name: not a job
              ml:  # comment
                runs-on: ubuntu-latest
            env:
              other: 1
            """))
    (tmp_path / ".gitlab-ci.yml").write_text(
        "stages:\n  - test\nvariables:\n  X: 1\n.hidden:\n  script: []\n"
        "test:\n  script:\n    - make test\n'quoted job':\n  script: []\n"
    )
    assert ci_jobs(tmp_path) == {"lint", "Lint (pre-commit)", "ml", "test", "quoted job"}
    assert ci_jobs(tmp_path / "nothing") == set()


def test_collection_output_is_split_by_file():
    stdout = textwrap.dedent("""\
        tests/test_a.py::test_x[a b]
        tests/test_a.py::Case::test_y
        ______ ERROR collecting tests/test_c.py ______
        tests/test_c.py:1: in <module>
            import nope
        E   ModuleNotFoundError: No module named 'nope'
        ___ short test summary info ___
        ERROR tests/test_c.py
        2 tests collected, 1 error in 0.1s
        """)
    files = ["tests/test_a.py", "tests/test_b.py", "tests/test_c.py"]
    collected = parse_collection(stdout, "", 1, files)
    assert collected["tests/test_a.py"].ids == {
        "tests/test_a.py::test_x[a b]",
        "tests/test_a.py::Case::test_y",
    }
    assert collected["tests/test_b.py"].error == "pytest collects no test from it"
    assert "No module named 'nope'" in collected["tests/test_c.py"].error
    missing = parse_collection("", "/usr/bin/python: No module named pytest", 1, files[:1])
    assert (
        missing["tests/test_a.py"].error
        == "pytest failed: /usr/bin/python: No module named pytest"
    )
    assert parse_collection("", "", 5, files[:1])["tests/test_a.py"].error == (
        "pytest collects no test from it"
    )
    crashed = parse_collection("", "Fatal: boom", 3, files[:1])
    assert crashed["tests/test_a.py"].error == "pytest failed: Fatal: boom"


@pytest.mark.slow
def test_one_real_collection_checks_each_id(tmp_path):
    tests = tmp_path / "tests"
    tests.mkdir()
    (tests / "test_ok.py").write_text(
        "import pytest\n\n\n@pytest.mark.parametrize('n', [1, 2])\ndef test_p(n):\n"
        "    assert n\n\n\nclass TestCase:\n    def test_m(self):\n        assert 1\n"
    )
    (tests / "test_broken.py").write_text("import not_a_module_anywhere\n")
    collected = collect_tests(tmp_path, ["tests/test_ok.py", "tests/test_broken.py"])
    assert collected["tests/test_ok.py"].ids == {
        "tests/test_ok.py::test_p[1]",
        "tests/test_ok.py::test_p[2]",
        "tests/test_ok.py::TestCase::test_m",
    }
    assert "not_a_module_anywhere" in collected["tests/test_broken.py"].error


def test_markdown_report_escapes_notes_and_marks_the_included_part(project):
    path = scorecard(project, {SCHEMA: ("automated", [("ci_job", "ml")])})
    noted = 'note = "a | b <i>"\nevidence = [{ ci_job'
    path.write_text(path.read_text().replace("evidence = [{ ci_job", noted, 1))
    text = render_markdown(verify(load_scorecard(path), [], collector(set())))
    head, body = text.split(START_MARKER + "\n")
    assert head.startswith("# Production readiness")
    assert "| 1 | Feature expectations are captured in a schema. | automated | 1 |" in body
    assert r"a \| b \<i\>" in body
    assert "## Model development" in body


def invoke(*args):
    return CliRunner().invoke(main, ["readiness", *args], catch_exceptions=False)


def ci_only_scorecard(project, floor):
    """One automated test per section, each proved by the CI job: every section scores 1."""
    claims = {titles[0]: ("automated", [("ci_job", "ml")]) for titles in SECTIONS.values()}
    return scorecard(project, claims, floor=floor)


def test_json_output_and_the_report(project):
    output = project / "out" / "readiness.md"
    args = ["--scorecard", str(ci_only_scorecard(project, 1)), "--output", str(output), "--json"]
    result = invoke(*args)
    assert result.exit_code == 0, result.output
    sections = {"data": 1.0, "model": 1.0, "infrastructure": 1.0, "monitoring": 1.0}
    assert json.loads(result.stdout) == {"sections": sections, "score": 1.0}
    assert "**Score: 1**" in output.read_text()


def test_below_the_floor_exits_1_with_one_line(project):
    path = ci_only_scorecard(project, 1.5)
    output = project / "readiness.md"
    result = invoke("--scorecard", str(path), "--output", str(output))
    assert result.exit_code == 1
    (error,) = [line for line in result.stderr.splitlines() if line.startswith("Error:")]
    assert "ML Test Score 1 is below the floor 1.5" in error
    assert "Models are numerically stable." in result.stdout
    assert output.is_file()
    assert invoke("--scorecard", str(path), "--output", str(output), "--no-floor").exit_code == 0


def test_a_missing_scorecard_is_one_line(tmp_path):
    result = invoke("--scorecard", str(tmp_path / "nope.toml"))
    assert result.exit_code == 1
    assert "nope.toml not found" in result.stderr
