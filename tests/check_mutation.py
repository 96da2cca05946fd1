"""Mutation harness: prove that a notebook's check cells reject plausible bugs.

A *check* is one or more code cells tagged ``check:<name>`` (cell metadata ``tags``). A `Bug` names
a plausible mistake: a snippet `old` of the checked code and its broken replacement `new`, the check
that must reject it, and a regular expression `expect` that the failure message must match (so the
message names the guilty part: a gate, a weight, a term).

`run_bugs(notebook, bugs)` executes the notebook's code cells in one namespace, in order, in quick
mode (``WORKBOOK_QUICK=1``, figures to a temporary folder, an empty run cache, cells tagged
``widget`` skipped, ``%`` magics dropped). Just before the cell that holds `old`, it forks: the child
runs the mutated cell and every later cell up to the last cell of the bug's check, and reports the
first exception. The parent goes on with the correct code, so the notebook runs only once however
many bugs there are. A bug is *caught* when the first exception is an AssertionError or ValueError
raised in a cell of its check and its message matches `expect`.

`old` is looked up in the notebook's code cells (it must occur in exactly one) — or, with
``target="helpers.module.function"`` or ``"helpers.module.Class.method"``, in the source of that
function or method, which the child replaces just before the check's first cell (in its module or
class, and wherever the notebook bound it to a name; subclasses and instances see a patched method).

    from check_mutation import Bug, run_bugs, table
    results = run_bugs("notebooks/02_elman_rnn.ipynb", [Bug(...), ...])
    print(table(results))            # check · bugs tried · caught, then one line per bug

A test module binds the standard tests with `mutation_tests(NOTEBOOK, BUGS)` (see its docstring).

POSIX only (os.fork); each child is limited to `CHILD_TIMEOUT` seconds.
"""
from __future__ import annotations

import contextlib
import importlib
import inspect
import io
import os
import pickle
import re
import signal
import tempfile
import textwrap
import traceback
from dataclasses import dataclass
from pathlib import Path

import nbformat

CHILD_TIMEOUT = 120  # seconds for one mutated run (from the mutated cell to the end of its check)
CAUGHT_TYPES = (AssertionError, ValueError)


@dataclass(frozen=True)
class Bug:
    """A plausible mistake: replace `old` by `new`; check `check` must fail with a message matching `expect`."""

    name: str
    old: str | tuple[str, ...]  # one snippet, or several replaced in turn in the same cell or object
    new: str | tuple[str, ...]
    check: str
    expect: str
    target: str | None = None  # "helpers.module.name": mutate that object instead of a notebook cell


@dataclass(frozen=True)
class Outcome:
    """What happened to one bug: caught or not, where the first exception came from, and its message."""

    bug: Bug
    caught: bool
    detail: str


def _check_tags(cell) -> set[str]:
    return {tag.split(":", 1)[1] for tag in cell.metadata.get("tags", []) if tag.startswith("check:")}


def _code(source: str) -> str:
    """Cell source without IPython magics (lines starting with % or !)."""
    return "\n".join(line for line in source.splitlines() if not line.lstrip().startswith(("%", "!")))


def _snippets(bug: Bug) -> list[tuple[str, str]]:
    olds, news = ((s,) if isinstance(s, str) else tuple(s) for s in (bug.old, bug.new))
    if len(olds) != len(news):
        raise ValueError(f"{bug.name}: as many replacements as snippets expected, got {len(news)} for {len(olds)}")
    return list(zip(olds, news))


def _mutate(text: str, bug: Bug, where: str) -> str:
    for old, new in _snippets(bug):
        count = text.count(old)
        if count != 1:
            raise ValueError(f"{bug.name}: snippet must occur exactly once in {where}, found {count}: {old!r}")
        text = text.replace(old, new)
    return text


def _plan(cells, bug: Bug) -> tuple[int, int]:
    """(index of the cell where the child starts, index of the last cell of the bug's check)."""
    members = [i for i, cell in enumerate(cells) if bug.check in _check_tags(cell)]
    if not members:
        raise ValueError(f"{bug.name}: no cell is tagged check:{bug.check}")
    if bug.target is not None:
        return members[0], members[-1]
    first = _snippets(bug)[0][0]
    holders = [i for i, cell in enumerate(cells) if cell.cell_type == "code" and first in cell.source]
    if len(holders) != 1:
        raise ValueError(f"{bug.name}: the snippet must occur in exactly one code cell, found {len(holders)}: {first!r}")
    if holders[0] > members[-1]:
        raise ValueError(f"{bug.name}: the mutated cell {holders[0]} comes after check:{bug.check}")
    return holders[0], members[-1]


def _resolve(target: str):
    """(owner, attribute name, module) for "helpers.module.name" or "helpers.module.Class.method"."""
    parts = target.split(".")
    for split in range(len(parts) - 1, 0, -1):
        try:
            module = importlib.import_module(".".join(parts[:split]))
        except ImportError:
            continue
        owner = module
        for attribute in parts[split:-1]:
            owner = getattr(owner, attribute)
        return owner, parts[-1], module
    raise ValueError(f"cannot import {target!r}")


def _patch_helpers(namespace: dict, bug: Bug) -> None:
    """Replace the helpers function or method `bug.target` by its mutated source: in its module or
    class (instances and subclasses see a patched method), and wherever the notebook bound it to a name."""
    owner, attribute, module = _resolve(bug.target)
    original = getattr(owner, attribute)
    source = _mutate(textwrap.dedent(inspect.getsource(original)), bug, bug.target)
    scope = dict(module.__dict__)
    if inspect.isclass(owner):  # outside its class a method has no __class__ cell for a bare super()
        source = source.replace("super()", f"super({owner.__name__}, self)")
        scope[owner.__name__] = owner
    exec(compile(source, f"<mutated {bug.target}>", "exec"), scope)  # noqa: S102
    mutated = scope[attribute]
    setattr(owner, attribute, mutated)
    for key, value in list(namespace.items()):
        if value is original:
            namespace[key] = mutated


def _run_mutated(cells, namespace: dict, bug: Bug, start: int, stop: int) -> tuple[bool, str]:
    """In the child: run cells start..stop with the bug in place; (caught, detail)."""
    if bug.target is not None:
        _patch_helpers(namespace, bug)
    for index in range(start, stop + 1):
        cell = cells[index]
        if cell.cell_type != "code" or "widget" in cell.metadata.get("tags", []):
            continue
        source = cell.source
        if bug.target is None and index == start:
            source = _mutate(source, bug, f"cell {index}")
        try:
            exec(compile(_code(source), f"<cell {index}>", "exec"), namespace)  # noqa: S102
        except BaseException as error:  # noqa: BLE001 (any failure is the answer we report)
            message = " ".join(str(error).split())[:300]
            where = f"cell {index} ({', '.join(sorted(_check_tags(cell))) or 'no check'})"
            if bug.check not in _check_tags(cell):
                return False, f"{type(error).__name__} in {where}, not in check:{bug.check}: {message}"
            if not isinstance(error, CAUGHT_TYPES):
                return False, f"{type(error).__name__} (not an assertion) in {where}: {message}"
            if not re.search(bug.expect, str(error)):
                return False, f"message does not name {bug.expect!r}: {message}"
            return True, f"{type(error).__name__}: {message}"
    return False, f"passed silently: check:{bug.check} accepted the bug"


def _fork_and_run(cells, namespace: dict, bug: Bug, start: int, stop: int) -> tuple[bool, str]:
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # child
        os.close(read_end)
        signal.alarm(CHILD_TIMEOUT)
        try:
            with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
                result = _run_mutated(cells, namespace, bug, start, stop)
        except BaseException:  # noqa: BLE001 (harness error in the child: report it)
            result = (False, "harness error: " + traceback.format_exc(limit=3))
        with os.fdopen(write_end, "wb") as pipe:
            pickle.dump(result, pipe)
        os._exit(0)
    os.close(write_end)
    with os.fdopen(read_end, "rb") as pipe:
        data = pipe.read()
    _, status = os.waitpid(pid, 0)
    if not data:
        return False, f"the mutated run died (wait status {status}; timeout {CHILD_TIMEOUT} s?)"
    return pickle.loads(data)


@contextlib.contextmanager
def _quick_environment():
    """Quick mode, no progress bars, a throw-away run cache, the Agg backend, no plt.show, one torch thread."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    try:  # one intra-op thread: a thread pool alive in the parent deadlocks torch in a forked child
        import torch
        saved_threads = torch.get_num_threads()
        torch.set_num_threads(1)
    except ImportError:
        torch, saved_threads = None, None
    saved_env = {key: os.environ.get(key) for key in ("WORKBOOK_QUICK", "TQDM_DISABLE", "WORKBOOK_CACHE_DIR")}
    saved_show = plt.show
    with tempfile.TemporaryDirectory() as cache:
        os.environ.update({"WORKBOOK_QUICK": "1", "TQDM_DISABLE": "1", "WORKBOOK_CACHE_DIR": cache})
        plt.show = lambda *args, **kwargs: plt.close("all")
        try:
            yield
        finally:
            plt.show = saved_show
            plt.close("all")
            if torch is not None:
                torch.set_num_threads(saved_threads)
            for key, value in saved_env.items():
                if value is None:
                    os.environ.pop(key, None)
                else:
                    os.environ[key] = value


def run_bugs(notebook, bugs: list[Bug]) -> list[Outcome]:
    """Run the notebook once and every bug in a forked child (see the module docstring)."""
    path = Path(notebook).resolve()
    cells = nbformat.read(path, as_version=4).cells
    plans = {bug: _plan(cells, bug) for bug in bugs}
    last = max(stop for _, stop in plans.values())
    outcomes = {}
    namespace = {"__name__": "__main__"}
    cwd = os.getcwd()
    os.chdir(path.parent)
    try:
        with _quick_environment():
            for index in range(last + 1):
                for bug, (start, stop) in plans.items():
                    if start == index:
                        outcomes[bug] = Outcome(bug, *_fork_and_run(cells, namespace, bug, start, stop))
                cell = cells[index]
                if cell.cell_type != "code" or "widget" in cell.metadata.get("tags", []):
                    continue
                with contextlib.redirect_stdout(io.StringIO()):
                    try:
                        exec(compile(_code(cell.source), f"<cell {index}>", "exec"), namespace)  # noqa: S102
                    except Exception as error:
                        raise RuntimeError(f"{path.name}: cell {index} fails without any bug: {error}") from error
    finally:
        os.chdir(cwd)
    return [outcomes[bug] for bug in bugs]


def table(outcomes: list[Outcome], title: str = "") -> str:
    """The table check · bugs tried · caught, then one line per bug."""
    checks: dict[str, list[Outcome]] = {}
    for outcome in outcomes:
        checks.setdefault(outcome.bug.check, []).append(outcome)
    width = max([len("check")] + [len(name) for name in checks])
    lines = [title] if title else []
    lines.append(f"{'check':<{width}}  {'bugs tried':>10}  {'caught':>6}")
    for name, items in checks.items():
        lines.append(f"{name:<{width}}  {len(items):>10}  {sum(o.caught for o in items):>6}")
    lines.append(f"{'total':<{width}}  {len(outcomes):>10}  {sum(o.caught for o in outcomes):>6}")
    lines.append("")
    for outcome in outcomes:
        verdict = "caught " if outcome.caught else "MISSED "
        lines.append(f"{verdict} {outcome.bug.check}: {outcome.bug.name} -> {outcome.detail[:160]}")
    return "\n".join(lines)


def mutation_tests(notebook, bugs: list[Bug]):
    """The tests of one notebook's bug list, for a test module to bind to its globals:

        outcomes, test_check_catches_bug, test_every_check_is_tried_with_five_bugs = mutation_tests(NOTEBOOK, BUGS)

    `outcomes` is a module-scoped fixture that runs the notebook once and prints the table; one test per bug
    asserts that it was caught; the last test asserts at least five bugs per check.
    """
    import pytest

    @pytest.fixture(scope="module")
    def outcomes():
        results = run_bugs(notebook, bugs)
        print(table(results, title=f"mutation test of {Path(notebook).name}"))
        return {outcome.bug.name: outcome for outcome in results}

    @pytest.mark.parametrize("bug", bugs, ids=[bug.name for bug in bugs])
    def test_check_catches_bug(outcomes, bug):
        outcome = outcomes[bug.name]
        assert outcome.caught, f"check:{bug.check} missed {bug.name!r}: {outcome.detail}"

    def test_every_check_is_tried_with_five_bugs():
        counts: dict[str, int] = {}
        for bug in bugs:
            counts[bug.check] = counts.get(bug.check, 0) + 1
        assert all(count >= 5 for count in counts.values()), counts

    return outcomes, test_check_catches_bug, test_every_check_is_tried_with_five_bugs
