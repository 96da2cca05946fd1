"""The one rule for tests that need programs from Debian (XeLaTeX, pandoc, poppler, Chromium):
skip with a clear reason on a user's machine that lacks them; under CI (`CI=true`) fail instead."""
from __future__ import annotations

import os

import pytest


def under_ci() -> bool:
    """True when the environment says CI (CI=true/1/yes), where nothing may be skipped."""
    return os.environ.get("CI", "").strip().lower() in {"1", "true", "yes"}


def require(what: str, missing: list[str], install: str) -> None:
    """Skip (or, under CI, fail) the calling test when `missing` names anything."""
    if not missing:
        return
    reason = f"{what}: {', '.join(missing)} not found; install with: {install}"
    if under_ci():
        pytest.fail(f"{reason} (CI=true: these tests must run, not skip)", pytrace=False)
    pytest.skip(reason)
