"""helpers.course.link: a notebook's exercise cell replaces helpers' object wherever helpers use it."""
from __future__ import annotations

import json
import sys
import types

import pytest

from helpers import sync
from helpers.course import link


@pytest.fixture
def fake_helpers(monkeypatch):
    """helpers.fake_base (a function, a class) and helpers.fake_user, which imports both by name."""
    base = types.ModuleType("helpers.fake_base")
    exec("def double(x):\n    return 2 * x\n\n\nclass Layer:\n    def size(self):\n        return 1\n", base.__dict__)
    base.double.__module__ = base.Layer.__module__ = "helpers.fake_base"
    user = types.ModuleType("helpers.fake_user")
    user.double, user.Layer = base.double, base.Layer
    exec("class Fast(Layer):\n    pass\n", {"Layer": base.Layer, "__name__": "helpers.fake_user"}, user.__dict__)
    monkeypatch.setitem(sys.modules, "helpers.fake_base", base)
    monkeypatch.setitem(sys.modules, "helpers.fake_user", user)
    monkeypatch.setattr(link, "installed", {})
    return base, user


def test_install_replaces_the_object_in_every_helpers_module(fake_helpers):
    base, user = fake_helpers
    old = base.double

    def double(x):
        return 3 * x

    link.install("helpers.fake_base.double", double)
    assert base.double is double and user.double is double and base.double is not old
    assert double.__module__ == "helpers.fake_base"   # pickling finds it under helpers' name
    assert link.installed == {"helpers.fake_base.double": double}


def test_install_of_a_class_rebases_helpers_subclasses(fake_helpers):
    base, user = fake_helpers

    class Layer:
        def size(self):
            return 7

    link.install("helpers.fake_base.Layer", Layer)
    assert user.Layer is Layer and user.Fast.__bases__ == (Layer,)
    assert user.Fast().size() == 7


def test_a_cell_equal_to_helpers_installs_nothing(fake_helpers, monkeypatch):
    base, _ = fake_helpers
    source = "# sync: helpers.fake_base.double\ndef double(x):\n    return 2 * x"
    monkeypatch.setattr(sync, "expected_source", lambda names: source)
    namespace = {}
    exec(source, namespace)
    defined = namespace["double"]
    assert link.install_cell(source, namespace) == [] and link.installed == {}
    assert base.double is not defined and namespace["double"] is base.double   # one identity


def test_a_changed_cell_installs_what_it_defined(fake_helpers, monkeypatch):
    base, _ = fake_helpers
    monkeypatch.setattr(sync, "expected_source", lambda names: "something else")
    source = "# sync: helpers.fake_base.double\ndef double(x):\n    return 4 * x"
    namespace = {}
    exec(source, namespace)
    assert link.install_cell(source, namespace) == ["helpers.fake_base.double"]
    assert base.double(1) == 4


def test_a_cell_that_did_not_define_its_name_is_a_clear_error(fake_helpers, monkeypatch):
    monkeypatch.setattr(sync, "expected_source", lambda names: "something else")
    with pytest.raises(NameError, match="did not define 'double'"):
        link.install_cell("# sync: helpers.fake_base.double\nx = 1", {"x": 1})


def test_cells_without_a_marker_install_nothing(fake_helpers):
    assert link.install_cell("def double(x):\n    return 0", {}) == []


@pytest.mark.parametrize("content, error", [
    ({"earlier_exercises": "mine"}, ValueError),
    ({"earlier_exercises": 3}, ValueError),
])
def test_course_settings_are_checked(tmp_path, content, error):
    (tmp_path / link.SETTINGS_FILE).write_text(json.dumps(content))
    with pytest.raises(error, match="earlier_exercises"):
        link.settings(tmp_path)


def test_no_settings_file_means_the_solution_workbook(tmp_path):
    assert link.settings(tmp_path) == {}
    (tmp_path / link.SETTINGS_FILE).write_text(json.dumps({"earlier_exercises": "own", "earlier": ["01_a"]}))
    assert link.settings(tmp_path)["earlier_exercises"] == "own"


def test_link_exercises_outside_ipython_does_nothing(tmp_path):
    assert link.link_exercises(tmp_path) is None
