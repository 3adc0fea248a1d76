"""Fixtures only; the helpers they use live in ``helpers.py``."""

from __future__ import annotations

from pathlib import Path

import pytest

from helpers import COMBINATIONS, Renders, combo_id


@pytest.fixture(scope="session")
def renders(cookies_session) -> Renders:
    """A session-wide cache of rendered projects, one per distinct context."""
    return Renders(cookies_session)


@pytest.fixture(params=COMBINATIONS, ids=combo_id)
def project(request, renders) -> tuple[dict[str, str], Path]:
    """One render per covering combination: ``(context, path)``.

    Tests that need a subset (or an extra context) parametrize ``project`` indirectly.
    """
    return request.param, renders.get(request.param)
