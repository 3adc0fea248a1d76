"""Fast layer: the template's Python files as they are on disk, before any rendering.

Generated code carries Jinja only inside string literals, docstrings and comments, and the
hooks read the answers as data, so nearly every ``.py`` file of the template is valid Python
as it stands, and the linters of the generated project can check it without a render.
"""

from __future__ import annotations

import ast
import re
from functools import cache
from pathlib import Path

import pytest

from helpers import PROJECT_TEMPLATE, PYTHON, TEMPLATE_DIR, run, template_python_files

MIN_PARSING_SHARE = 0.95
# Jinja changes a line's length when it renders; only the render's own lint can judge it.
LENGTH_CODES = {"E501", "B950"}
JINJA = re.compile(r"\{\{|\{%")
FLAKE8_FORMAT = "%(path)s::%(row)d::%(col)d::%(code)s::%(text)s"


def relative(path: Path) -> str:
    return str(path.relative_to(TEMPLATE_DIR))


def syntax_error(path: Path) -> str | None:
    """Why ``path`` is not valid Python as it stands, or None when it parses."""
    try:
        ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    except SyntaxError as error:
        return f"{relative(path)}:{error.lineno}: {error.msg}"
    return None


SOURCES = template_python_files()
PARSING = [path for path in SOURCES if syntax_error(path) is None]
# The hooks and the package's own modules: test modules aside, every one of them must parse.
CODE = [path for path in SOURCES if "/tests/" not in relative(path)]


def test_the_template_has_python_files_and_hooks():
    names = {relative(path) for path in SOURCES}
    assert {"hooks/pre_gen_project.py", "hooks/post_gen_project.py"} <= names
    assert len(SOURCES) > 20


def test_almost_every_template_python_file_parses_before_rendering():
    broken = [error for error in map(syntax_error, SOURCES) if error]
    share = 1 - len(broken) / len(SOURCES)
    assert share >= MIN_PARSING_SHARE, (
        f"{len(SOURCES) - len(broken)}/{len(SOURCES)} ({share:.0%}) parse, "
        f"need {MIN_PARSING_SHARE:.0%}; broken:\n" + "\n".join(broken)
    )


@pytest.mark.parametrize("path", [*map(relative, CODE)])
def test_hooks_and_package_code_parse_before_rendering(path):
    assert syntax_error(TEMPLATE_DIR / path) is None


@cache
def flake8_problems() -> dict[str, list[str]]:
    """Run flake8 once, with the generated project's configuration, over every parsing file.

    Returns the problems per file, minus line-length ones on lines that hold Jinja.
    """
    result = run(
        [
            PYTHON,
            "-m",
            "flake8",
            "--config",
            str(PROJECT_TEMPLATE / ".flake8"),
            f"--format={FLAKE8_FORMAT}",
            *map(str, PARSING),
        ],
        cwd=PROJECT_TEMPLATE,
    )
    assert result.returncode in (0, 1), result.stderr
    problems: dict[str, list[str]] = {}
    for line in result.stdout.splitlines():
        path, row, col, code, text = line.split("::", 4)
        source = Path(path).resolve()
        source_line = source.read_text(encoding="utf-8").splitlines()[int(row) - 1]
        if code in LENGTH_CODES and JINJA.search(source_line):
            continue
        problems.setdefault(relative(source), []).append(f"{row}:{col}: {code} {text}")
    return problems


@pytest.mark.parametrize("path", [*map(relative, PARSING)])
def test_template_python_file_passes_flake8_as_it_is(path):
    problems = flake8_problems().get(path, [])
    assert not problems, "\n".join(problems)
