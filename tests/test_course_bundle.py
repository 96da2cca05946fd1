"""helpers.course.bundle and leaks without nbgrader runs: region owners, selective stubs, the student files, the scan."""
from __future__ import annotations

import json
import shutil
import tomllib

import nbformat
import pytest

from conftest import ROOT
from helpers.course import bundle, leaks, link, stubs

ORDER = bundle.assignments()


def test_assignments_are_the_notebook_stems_in_order():
    assert ORDER == [path.stem for path in sorted((ROOT / "notebooks").glob("[0-9]*.ipynb"))]
    assert ORDER[0] == "01_activations"


def test_every_helpers_region_belongs_to_the_first_notebook_that_syncs_its_object():
    owners = bundle.object_assignments()
    regions = bundle.helpers_regions()
    assert regions, "no solution region in helpers"
    for region in regions:
        assert owners[region.owner] == region.assignment
        lines = (ROOT / region.path).read_text().split("\n")
        assert lines[region.begin].strip().startswith(stubs.BEGIN)
        assert lines[region.end].strip().startswith(stubs.END)
    tanh = [r for r in regions if r.owner == "helpers.framework.tanh.TanH"]
    assert len(tanh) == 2 and {r.assignment for r in tanh} == {"01_activations"}


def test_a_region_outside_every_synced_object_is_refused(tmp_path):
    (tmp_path / "01_x.ipynb").write_text(nbformat.writes(nbformat.v4.new_notebook(
        cells=[nbformat.v4.new_code_cell("# sync: helpers.framework.sigmoid.sigmoid\n")])))
    with pytest.raises(ValueError, match=r"^helpers/\S+\.py: line \d+: solution region outside every object"):
        bundle.helpers_regions(tmp_path)


TEXT = "a = 1\n### BEGIN SOLUTION implement a\nb = 2\n### END SOLUTION\nc = 3\n    ### BEGIN SOLUTION implement d\n    d = 4\n    ### END SOLUTION\n"


def test_stub_regions_stubs_only_the_chosen_regions():
    spans = bundle.region_lines(TEXT, "t.py")
    assert spans == [(1, 3), (5, 7)]
    assert bundle.stub_regions(TEXT, spans[1:], "t.py") == (
        "a = 1\n### BEGIN SOLUTION implement a\nb = 2\n### END SOLUTION\nc = 3\n"
        '    raise NotImplementedError("implement d")\n')
    assert bundle.stub_regions(TEXT, spans, "t.py") == stubs.stub_code(TEXT)


def test_stubbed_assignments_follow_the_earlier_setting():
    assert bundle.stubbed_assignments(ORDER[1], ORDER, "reference") == ORDER[1:]
    assert bundle.stubbed_assignments(ORDER[1], ORDER, "own") == ORDER
    with pytest.raises(ValueError, match="earlier"):
        bundle.stubbed_assignments(ORDER[1], ORDER, "mine")


def test_experiments_are_the_results_folders_the_notebook_uses():
    assert bundle.experiments_used(ROOT / "notebooks" / "01_activations.ipynb") == []
    assert bundle.experiments_used(ROOT / "notebooks" / "02_elman_rnn.ipynb") == ["sine"]
    assert bundle.experiments_used(ROOT / "notebooks" / "04_memory_task.ipynb") == ["memory"]
    assert bundle.experiments_used(ROOT / "notebooks" / "05_palindromes.ipynb") == ["palindromes"]


def test_student_pyproject_pins_the_workbook_dependencies_and_installs_no_package():
    student = tomllib.loads(bundle.student_pyproject("02_elman_rnn"))
    workbook = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert student["project"]["dependencies"] == workbook["project"]["dependencies"]
    assert student["project"]["requires-python"] == workbook["project"]["requires-python"]
    assert student["tool"]["setuptools"]["packages"] == []


@pytest.mark.parametrize("earlier", link.EARLIER_CHOICES)
def test_source_folder_of_an_assignment(tmp_path, earlier):
    regions = bundle.helpers_regions()
    folder = bundle.write_source(tmp_path, "02_elman_rnn", ORDER, regions, earlier)
    assert json.loads((folder / "course.json").read_text()) == {
        "assignment": "02_elman_rnn", "earlier_exercises": earlier, "earlier": ["01_activations"]}
    assert link.settings(folder)["earlier_exercises"] == earlier
    for name in ("02_elman_rnn.ipynb", "Makefile", "pyproject.toml", "jupyter-config/jupyter_server_config.py",
                 "jupyter-config/labconfig/page_config.json", "helpers/course/link.py"):
        assert (folder / name).is_file(), name
    assert sorted(p.name for p in (folder / "results").iterdir()) == ["sine"]
    assert not list(folder.rglob("__pycache__"))
    assert not (folder / "helpers" / "course" / "bundle.py").exists()
    for region in regions:
        text = (folder / region.path).read_text()
        kept = region.assignment == "01_activations" and earlier == "reference"
        body = (ROOT / region.path).read_text().split("\n")[region.begin:region.end + 1]
        assert ("\n".join(body) in text) == kept, region.name
    page = json.loads((folder / "jupyter-config" / "labconfig" / "page_config.json").read_text())
    assert page["disabledExtensions"]["@jupyter/nbgrader"] is True


def _release(tmp_path, assignment="01_activations"):
    """A release folder holding a copy of helpers stubbed like the bundle, and course.json."""
    folder = tmp_path / "release" / assignment
    folder.mkdir(parents=True)
    bundle.copy_helpers(folder, bundle.helpers_regions(), bundle.stubbed_assignments(assignment, ORDER, "reference"))
    (folder / "course.json").write_text(json.dumps({"assignment": assignment, "earlier_exercises": "reference",
                                                    "earlier": []}))
    return folder


def test_leak_scan_passes_a_stubbed_copy_and_finds_a_region_and_a_distinctive_line(tmp_path):
    folder = _release(tmp_path)
    assert leaks.scan(folder) == []
    tanh = (ROOT / "helpers" / "framework" / "tanh.py").read_text()
    (folder / "notes.txt").write_text(tanh)
    found = {(str(leak.file), leak.what.split(" ")[0]) for leak in leaks.scan(folder)}
    assert ("01_activations/notes.txt", "region") in found
    shutil.rmtree(folder / "helpers")
    (folder / "notes.txt").unlink()
    line = "self.activations = np.tanh(x)"   # the first line of TanH.forward's two-line region
    assert line in tanh
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(f"x = 1\n        {line}\n")])
    nbformat.write(notebook, folder / "copy.ipynb")
    found = leaks.scan(folder)
    assert found and {(str(leak.file), leak.what) for leak in found} == {("01_activations/copy.ipynb", f"line {line!r}")}
    assert any(leak.solution.startswith("helpers.framework.tanh.TanH (helpers/framework/tanh.py:") for leak in found)


def test_leak_matches_are_whole_tokens():
    assert leaks.contains("x = 1 return self.alpha * w", "return self.alpha * w")
    assert not leaks.contains("return self.alpha * weights", "return self.alpha * w")
    assert not leaks.contains("small_net.loss_layer = CrossEntropyLoss()", "net.loss_layer = CrossEntropyLoss()")
    assert leaks.contains("(net.loss_layer = CrossEntropyLoss())", "net.loss_layer = CrossEntropyLoss()")
