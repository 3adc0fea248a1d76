"""Fast layer: the pre-generation hook's table of rejected and accepted answers.

Rejections run cookiecutter as a user would (a subprocess) and check that the hook's own
one-line message comes first and that no output directory is left behind.
"""

from __future__ import annotations

import ast
import tomllib

import pytest
import yaml

from helpers import PYTHON, TEMPLATE_DIR, check_context, run


def own(field: str, value: str) -> tuple[dict[str, str], str, str]:
    """A bad answer to ``field`` that the error message must quote."""
    return {field: value}, field, value


REJECTED = [
    # (answers, field named in the error, value quoted in the error)
    own("package_name", "1model"),
    own("package_name", "My_Model"),
    own("package_name", "my-model"),
    own("package_name", "class"),
    own("package_name", "import"),
    own("package_name", "json"),
    own("package_name", "logging"),
    own("package_name", "test"),
    own("package_name", "sklearn"),
    own("package_name", "flask"),
    own("package_name", "click"),
    own("package_name", "numpy"),
    own("package_name", "pandas"),
    own("package_name", "a_package_name_that_is_far_too_long"),
    own("project_slug", "my model"),
    own("project_slug", "-model"),
    own("project_slug", "Model!"),
    # Nothing slugifies out of "!!!", so the slug falls back to the name itself.
    ({"project_name": "!!!"}, "project_slug", "!!!"),
    own("author_email", "not-an-email"),
    own("author_email", "a@b"),
    own("author_email", "a b@example.com"),
    own("version", "one"),
    own("version", "1.0-beta-x"),
    own("repository_url", "github.com/x/y"),
    # A trailing newline must not slip past a `$` anchor into the rendered files.
    own("version", "1.0\n"),
    own("project_slug", "churn-model\n"),
    own("author_email", "ada@example.com\n"),
    own("repository_url", "https://github.com/x/y\n"),
    # Answers are single lines: tabs and embedded newlines are refused by name.
    own("project_name", "Churn\tModel"),
    own("description", "Line one\nline two"),
    own("author_name", "Ada\x1bLovelace"),
]


LONG_ANSWERS = {
    "project_name": ("Model " * 20, 100),
    "project_slug": ("churn-" * 20 + "model", 64),
    "description": ("x" * 301, 300),
    "author_name": ("x" * 101, 100),
    "repository_url": ("https://example.com/" + "x" * 300, 300),
}


@pytest.mark.parametrize(("field", "value", "limit"), [(f, *v) for f, v in LONG_ANSWERS.items()])
def test_hook_refuses_over_long_answers_in_one_line(field, value, limit, tmp_path):
    assert len(value) > limit
    out = tmp_path / "out"
    out.mkdir()
    result = run(
        [PYTHON, "-m", "cookiecutter", "--no-input", "-o", str(out), str(TEMPLATE_DIR)]
        + [f"{field}={value}"]
    )
    assert result.returncode != 0
    first_line = result.stderr.strip().splitlines()[0]
    assert first_line.startswith(f"ERROR: {field}: "), result.stderr
    assert f"{len(value)} characters long" in first_line
    assert "Traceback" not in first_line
    assert list(out.iterdir()) == []


def test_refusal_says_how_to_rerun_with_the_answers_kept(tmp_path):
    result = run(
        [PYTHON, "-m", "cookiecutter", "--no-input", "-o", str(tmp_path), str(TEMPLATE_DIR)]
        + ["package_name=class"]
    )
    hint = [line for line in result.stderr.splitlines() if "--replay-file" in line]
    assert hint, result.stderr
    assert f"{TEMPLATE_DIR.name}.json" in hint[0]


@pytest.mark.parametrize(("answers", "field", "value"), REJECTED, ids=str)
def test_hook_rejects_bad_answers_and_writes_nothing(answers, field, value, tmp_path):
    check_context(answers)
    out = tmp_path / "out"
    out.mkdir()
    args = [f"{key}={answer}" for key, answer in answers.items()]
    result = run(
        [PYTHON, "-m", "cookiecutter", "--no-input", "-o", str(out), str(TEMPLATE_DIR), *args]
    )
    assert result.returncode != 0
    first_line = result.stderr.strip().splitlines()[0]
    assert first_line.startswith(f"ERROR: {field}: "), result.stdout + result.stderr
    assert repr(value) in first_line
    assert "example:" in first_line
    assert list(out.iterdir()) == [], "a failed render must leave nothing behind"


def test_hook_reports_every_problem_at_once(tmp_path):
    answers = {"package_name": "class", "author_email": "nope", "version": "x"}
    args = [f"{key}={value}" for key, value in check_context(answers).items()]
    result = run(
        [PYTHON, "-m", "cookiecutter", "--no-input", "-o", str(tmp_path), str(TEMPLATE_DIR), *args]
    )
    errors = [line for line in result.stderr.splitlines() if line.startswith("ERROR: ")]
    assert [line.split(":")[1].strip() for line in errors] == [
        "package_name",
        "author_email",
        "version",
    ]


# Quotes of every kind, a triple quote and a trailing backslash: the hooks and docs/conf.py
# read answers from raw strings, which must survive all of them. Emoji (outside the Basic
# Multilingual Plane), right-to-left text and combining marks must reach TOML unchanged.
TRICKY_TEXT = {
    "project_name": 'Zoë\'s "Quoted" Model',
    "description": (
        'Predicts churn 📉 for O\'Connor & Co. """quoted""", back\\slash C:\\path, naïve café\\'
    ),
    "author_name": 'Zoë "Z" Müller O\'Connor 🚀 مرحبا e\u0301',
    "author_email": "zoe.o'connor@example.com",
}


def test_tricky_free_text_renders_into_valid_files(cookies):
    result = cookies.bake(extra_context=check_context(TRICKY_TEXT))
    assert result.exit_code == 0, result.exception
    project = result.project_path
    assert project.name == "zoe-s-quoted-model"
    meta = tomllib.loads((project / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    assert meta["description"] == TRICKY_TEXT["description"]
    assert meta["authors"] == [
        {"name": TRICKY_TEXT["author_name"], "email": TRICKY_TEXT["author_email"]}
    ]
    for path in project.rglob("*"):
        if path.suffix == ".py":
            ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        elif path.suffix in {".yml", ".yaml"}:
            yaml.safe_load(path.read_text(encoding="utf-8"))
        elif path.suffix == ".toml":
            tomllib.loads(path.read_text(encoding="utf-8"))
    assert TRICKY_TEXT["author_name"] in (project / "LICENSE").read_text(encoding="utf-8")


@pytest.mark.parametrize(
    ("project_name", "slug", "package"),
    [
        ("Ünïcode Model", "unicode-model", "unicode_model"),
        ("My ML Project", "my-ml-project", "my_ml_project"),
        ("Churn 2025", "churn-2025", "churn_2025"),
    ],
)
def test_names_derive_ascii_slug_and_package(cookies, project_name, slug, package):
    result = cookies.bake(extra_context=check_context({"project_name": project_name}))
    assert result.exit_code == 0, result.exception
    assert result.project_path.name == slug
    assert (result.project_path / "src" / package / "__init__.py").is_file()


def test_render_is_idempotent_for_cruft(cookies, tmp_path):
    """Rendering twice with the same answers gives byte-identical trees (hooks are pure)."""
    first = cookies.bake(extra_context={"include_api": "no", "ci": "none"}).project_path
    second = cookies.bake(extra_context={"include_api": "no", "ci": "none"}).project_path
    files = sorted(p.relative_to(first) for p in first.rglob("*") if p.is_file())
    assert files == sorted(p.relative_to(second) for p in second.rglob("*") if p.is_file())
    differing = [
        str(relative)
        for relative in files
        if (first / relative).read_bytes() != (second / relative).read_bytes()
    ]
    assert not differing, differing
