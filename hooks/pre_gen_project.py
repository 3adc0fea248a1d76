"""Validate the answers before cookiecutter writes anything.

Every value is read as data (one JSON document); nothing the user typed is spliced
into code. Each problem is printed on its own line (field, bad value, valid
example) before exiting 1, so cookiecutter removes the output directory.
"""

from __future__ import annotations

import json
import keyword
import re
import sys

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

SLUG_RE = re.compile(r"^[a-z0-9](?:[a-z0-9._-]*[a-z0-9])?$")
PACKAGE_RE = re.compile(r"^[a-z_][a-z0-9_]*$")
EMAIL_RE = re.compile(
    r"^[^@\s\"<>,;]+"  # local part
    r"@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9-]+)+$"  # domain with a dot
)
URL_RE = re.compile(r"^https?://[^\s\"'<>\\]+$")
# PEP 440, the canonical public version pattern (Appendix B of the PEP).
PEP440_RE = re.compile(
    r"^v?(?:(?:[0-9]+!)?[0-9]+(?:\.[0-9]+)*"
    r"(?:[-_.]?(?:a|b|c|rc|alpha|beta|pre|preview)[-_.]?[0-9]*)?"
    r"(?:-[0-9]+|[-_.]?(?:post|rev|r)[-_.]?[0-9]*)?"
    r"(?:[-_.]?dev[-_.]?[0-9]*)?)"
    r"(?:\+[a-z0-9]+(?:[-_.][a-z0-9]+)*)?$",
    re.IGNORECASE,
)


MAX_PACKAGE_LENGTH = 30


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


def problems(answers: dict[str, str]) -> list[str]:
    """List one human-readable line per invalid answer."""
    found = []
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


def main() -> int:
    found = problems(ANSWERS)
    for line in found:
        print(f"ERROR: {line}", file=sys.stderr)
    if found:
        print("Nothing was generated; run cookiecutter again with valid answers.", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
