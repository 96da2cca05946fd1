"""pyproject.toml and environment.yml pin the same packages at the same versions."""
from __future__ import annotations

import re
import tomllib

from conftest import ROOT


def pyproject_pins() -> dict[str, str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    return dict(requirement.split("==") for requirement in project["dependencies"])


def environment_pins() -> dict[str, str]:
    text = (ROOT / "environment.yml").read_text()
    return dict(re.findall(r"^\s*-\s*([A-Za-z0-9_.-]+)==([^\s#]+)", text, flags=re.MULTILINE))


def test_every_dependency_is_pinned_exactly():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    loose = [r for r in project["dependencies"] if r.count("==") != 1]
    assert not loose, f"dependencies without an exact pin: {loose}"
    assert pyproject_pins()["torch"] == "2.13.0"


def test_environment_yml_has_the_same_pins():
    assert environment_pins() == pyproject_pins()


def test_environment_yml_python_matches_requires_python():
    requires = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["requires-python"]
    assert requires == ">=3.11", "nbgrader 0.9.6 needs Python 3.11 or newer"
    assert re.search(r"^\s*-\s*python>=3\.11$", (ROOT / "environment.yml").read_text(), re.MULTILINE)
