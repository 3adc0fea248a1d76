"""Jinja filters of this template; cookiecutter and cruft load them through ``_extensions``.

``toml_string`` writes a value as a TOML basic string (also a valid Python and JSON string):
Jinja's own ``tojson`` escapes characters outside the Basic Multilingual Plane (emoji) as
surrogate pairs, which TOML rejects, so free text with an emoji would break
``pyproject.toml``. Here only what TOML requires is escaped: quotes, backslashes and
control characters.
"""

from __future__ import annotations

import json
from typing import Any

from jinja2 import Environment
from jinja2.ext import Extension


def toml_string(value: Any) -> str:
    """Quote ``value`` as a TOML basic string, keeping non-ASCII text as it is."""
    quoted = json.dumps(str(value), ensure_ascii=False)
    return quoted.replace("\x7f", "\\u007f")  # DEL: JSON allows it raw, TOML does not


class TemplateFilters(Extension):
    """Register the template's filters on cookiecutter's Jinja environment."""

    def __init__(self, environment: Environment) -> None:
        super().__init__(environment)
        environment.filters["toml_string"] = toml_string
