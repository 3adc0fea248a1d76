"""Validate the answers before cookiecutter writes anything.

Every value is read as data (one JSON document); nothing the user typed is spliced
into code. Each problem is printed on its own line (field, bad value, valid
example) before exiting 1, so cookiecutter removes the output directory.
"""

from __future__ import annotations

import json
import keyword
import os
import re
import sys
from pathlib import Path

# The rendered answers as a JSON document in a raw string: ``tojson`` escapes every quote
# and control character inside a value, so any answer reads back unchanged and this file
# is valid Python before and after rendering.
ANSWERS = json.loads(r"""{{ cookiecutter | tojson }}""")

# Names a generated package must not take: importing the project would shadow them.
DEPENDENCY_MODULES = {
    "click",
    "flask",
    "gunicorn",
    "joblib",
    "matplotlib",
    "numpy",
    "pandas",
    "prometheus_client",
    "pytest",
    "scipy",
    "sklearn",
    "skops",
    "werkzeug",
}
RESERVED_MODULES = {"test", "tests", "src", "docs", "setup", "conftest"}

SLUG_RE = re.compile(r"^[a-z0-9](?:[a-z0-9._-]*[a-z0-9])?\Z")
PACKAGE_RE = re.compile(r"^[a-z_][a-z0-9_]*\Z")
EMAIL_RE = re.compile(
    r"^[^@\s\"<>,;]+"  # local part
    r"@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9-]+)+\Z"  # domain with a dot
)
URL_RE = re.compile(r"^https?://[^\s\"'<>\\]+\Z")
# PEP 440, the canonical public version pattern (Appendix B of the PEP).
PEP440_RE = re.compile(
    r"^v?(?:(?:[0-9]+!)?[0-9]+(?:\.[0-9]+)*"
    r"(?:[-_.]?(?:a|b|c|rc|alpha|beta|pre|preview)[-_.]?[0-9]*)?"
    r"(?:-[0-9]+|[-_.]?(?:post|rev|r)[-_.]?[0-9]*)?"
    r"(?:[-_.]?dev[-_.]?[0-9]*)?)"
    r"(?:\+[a-z0-9]+(?:[-_.][a-z0-9]+)*)?\Z",
    re.IGNORECASE,
)


MAX_PACKAGE_LENGTH = 30
# Free text goes into titles, metadata and the LICENSE: one line, of a sensible length.
MAX_TEXT_LENGTH = {
    "project_name": 100,
    "project_slug": 64,
    "description": 300,
    "author_name": 100,
    "author_email": 254,
    "repository_url": 300,
    "version": 64,
}
# Every single-line answer with a valid example for the error message.
EXAMPLES = {
    "project_name": "Churn Model",
    "project_slug": "churn-model",
    "package_name": "churn_model",
    "description": "Predict which customers will churn.",
    "author_name": "Ada Lovelace",
    "author_email": "ada@example.com",
    "repository_url": "https://github.com/your-org/churn-model",
    "version": "0.1.0",
}
CONTROL_CHARACTERS = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")


def package_name_problem(name: str) -> str | None:
    """Return why ``name`` cannot be the import name, or None when it can."""
    if len(name) > MAX_PACKAGE_LENGTH:
        return f"is longer than {MAX_PACKAGE_LENGTH} characters (it is typed in every import)"
    if not name.isidentifier() or not PACKAGE_RE.match(name):
        if name[:1].isdigit():
            return "must not start with a digit"
        if name != name.lower():
            return "must be lower case"
        return "must be a Python identifier of lower-case letters, digits and underscores"
    if keyword.iskeyword(name) or keyword.issoftkeyword(name):
        return "is a Python keyword"
    if name in sys.stdlib_module_names or name in RESERVED_MODULES:
        return "shadows a standard-library or tooling module"
    if name in DEPENDENCY_MODULES:
        return "shadows a dependency of the generated project"
    return None


def text_problems(answers: dict[str, str]) -> list[str]:
    """Control characters (newlines, tabs) in any answer, and over-long free text."""
    found = []
    for field, example in EXAMPLES.items():
        value = answers[field]
        match = CONTROL_CHARACTERS.search(value)
        if match:
            found.append(
                f"{field}: {value!r} contains the control character {match.group()!r} at "
                f"position {match.start()}; answers are one line (example: {example!r})"
            )
    for field, limit in MAX_TEXT_LENGTH.items():
        value = answers[field]
        if len(value) > limit:
            shown = value[:40] + "..."
            found.append(
                f"{field}: {shown!r} is {len(value)} characters long, more than the {limit} "
                f"allowed (example: {EXAMPLES[field]!r})"
            )
    return found


def problems(answers: dict[str, str]) -> list[str]:
    """List one human-readable line per invalid answer."""
    found = text_problems(answers)
    if not answers["project_name"].strip():
        found.append("project_name: must not be empty (example: 'Churn Model')")
    slug = answers["project_slug"]
    if not SLUG_RE.match(slug):
        found.append(
            f"project_slug: {slug!r} is not a valid distribution name "
            "(lower-case letters, digits, '-', '.', '_'; example: 'churn-model')"
        )
    package = answers["package_name"]
    reason = package_name_problem(package)
    if reason:
        found.append(f"package_name: {package!r} {reason} (example: 'churn_model')")
    email = answers["author_email"]
    if not EMAIL_RE.match(email):
        found.append(
            f"author_email: {email!r} is not an email address (example: 'ada@example.com')"
        )
    url = answers["repository_url"]
    if not URL_RE.match(url):
        found.append(
            f"repository_url: {url!r} is not an http(s) URL "
            "(example: 'https://github.com/your-org/churn-model')"
        )
    version = answers["version"]
    if not PEP440_RE.match(version):
        found.append(f"version: {version!r} is not a PEP 440 version (example: '0.1.0')")
    return found


def rerun_hint(answers: dict[str, str]) -> str:
    """How to run again without retyping the answers that were fine."""
    template = answers.get("_template") or "<template>"
    repository = Path(answers.get("_repo_dir") or "")
    if not repository.is_absolute():  # a local template, relative to where cookiecutter ran
        repository = Path(os.environ.get("PWD", ".")) / repository
    name = repository.resolve().name or "<template>"
    replay = f"~/.cookiecutter_replay/{name}.json"
    return (
        "Nothing was generated. Your answers were saved to cookiecutter's replay file "
        f"(by default {replay}): correct the field(s) above in it and run "
        f"`cookiecutter --replay-file {replay} {template}`."
    )


def main() -> int:
    found = problems(ANSWERS)
    for line in found:
        print(f"ERROR: {line}", file=sys.stderr)
    if found:
        print(rerun_hint(ANSWERS), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
