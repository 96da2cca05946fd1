"""The committed results in `results/` and the check that the code still reproduces them.

`helpers.run_cache.cached` writes full-mode runs to ``results/<experiment>/<key>.json`` (plus small
weights on request); this module reads them back for the tests:

    entries = committed_entries()                 # every entry, checked (ValueError naming a bad one)
    for entry in cheapest(entries):               # the cheapest informative run of each experiment and model
        assert not reproduce(entry), reproduce(entry)

The contract with the experiment modules: ``helpers.<experiment>.train(config) -> History`` trains
the run of `config` from scratch (config exactly as stored, with its "experiment" and "version").
`reproduce` calls it with empty, temporary run-cache and results folders and WORKBOOK_RETRAIN=1, on
one torch thread, and `compare` states the tolerance:

- the first `LOGGED_LOSSES` training losses within `LOSS_RTOL` (relative): the same computation;
- the same `stopped`, number of trained steps and `chosen_step`;
- every number in `final` (nested lists included) within `FINAL_TOL` x (1 + |committed value|).

That holds on the machine kind the run was trained on (`run_cache.trained_on`: CPU model and torch's
SIMD level). On another kind float rounding differs (AVX2 vs AVX-512 kernels) and a training run
drifts away after a few steps, so `compare(..., same_machine=False)` asks only that the first logged
loss agrees within `CROSS_MACHINE_RTOL`: the same data, initialisation, model and loss.

`results/` stays under `SIZE_LIMIT` bytes in all (a test enforces it).
"""
from __future__ import annotations

import contextlib
import importlib
import json
import math
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from unittest import mock

from helpers import validate
from helpers.history import History
from helpers.run_cache import check_entry, default_results_dir, thread_rule, trained_on

LOGGED_LOSSES = 20
MIN_LOGGED_LOSSES = 10   # `cheapest` picks among the runs that logged at least this many losses
LOSS_RTOL = 1e-6
FINAL_TOL = 1e-4
CROSS_MACHINE_RTOL = 1e-4
SIZE_LIMIT = 5 * 2 ** 20


@dataclass(frozen=True)
class Entry:
    """One committed run: its experiment (the helpers module), key, JSON path and History."""

    experiment: str
    key: str
    path: Path
    history: History
    trained_on: dict | None = None

    @property
    def same_machine(self) -> bool:
        """True when the run was trained on this kind of machine (`run_cache.trained_on`)."""
        return self.trained_on == trained_on()

    @property
    def group(self) -> str:
        """"experiment/model" (e.g. "palindromes/lstm"), or the experiment when its config has no model:
        `cheapest` picks runs per group, so that every model's code is retrained."""
        model = self.history.config.get("model")
        return self.experiment if model is None else f"{self.experiment}/{model}"

    @property
    def cost(self) -> float:
        """Seconds the run took when it was trained (what `cheapest` sorts by)."""
        return self.history.elapsed


def committed_entries(results_dir: str | Path | None = None) -> list[Entry]:
    """Every entry under `results_dir` (default `default_results_dir()`), sorted by experiment and
    key, each checked by `run_cache.check_entry` and for its folder = its config's "experiment".
    ValueError naming the first broken entry."""
    folder = Path(results_dir) if results_dir is not None else default_results_dir()
    entries = []
    for path in sorted(folder.glob("*/*.json")):
        history = check_entry(path)
        experiment = history.config.get("experiment")
        if experiment != path.parent.name:
            raise ValueError(f"entry {path.parent.name}/{path.name}: its config names the experiment "
                             f"{experiment!r}, not its folder {path.parent.name!r}")
        entries.append(Entry(experiment, path.stem, path, history, json.loads(path.read_text()).get("trained_on")))
    return entries


def results_size(results_dir: str | Path | None = None) -> int:
    """Bytes of all files under `results_dir` (default `default_results_dir()`)."""
    folder = Path(results_dir) if results_dir is not None else default_results_dir()
    return sum(path.stat().st_size for path in folder.rglob("*") if path.is_file())


def cheapest(entries: list[Entry], per_group: int = 1, min_losses: int = MIN_LOGGED_LOSSES) -> list[Entry]:
    """The `per_group` entries of each group (`Entry.group`: experiment and model) that took the least
    time (ties: by key), among those that logged at least `min_losses` training losses (a run that hit
    its target at once compares too little), trained on this kind of machine when there are such (they
    compare strictly); all entries of a group when none logged that many."""
    per_group = validate.positive_int("per_group", per_group)
    min_losses = validate.positive_int("min_losses", min_losses)
    chosen = []
    for group in sorted({entry.group for entry in entries}):
        runs = [e for e in entries if e.group == group]
        informative = [e for e in runs if len(e.history.loss) >= min_losses] or runs
        chosen.extend(sorted(informative, key=lambda e: (not e.same_machine, e.cost, e.key))[:per_group])
    return chosen


def _numbers(value, where: str) -> list[tuple[str, float]]:
    """(place, number) for every number in a JSON value (lists and dicts walked, strings skipped)."""
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return []
    if isinstance(value, (int, float)):
        return [(where, float(value))]
    if isinstance(value, list):
        return [pair for i, item in enumerate(value) for pair in _numbers(item, f"{where}[{i}]")]
    if isinstance(value, dict):
        return [pair for name, item in value.items() for pair in _numbers(item, f"{where}[{name!r}]")]
    return []


def _close(a: float, b: float, rtol: float, atol: float = 0.0) -> bool:
    if math.isnan(a) or math.isnan(b):
        return math.isnan(a) and math.isnan(b)
    return a == b or abs(a - b) <= atol + rtol * max(abs(a), abs(b))


def compare(committed: History, fresh: History, same_machine: bool = True) -> list[str]:
    """The differences between a committed History and a fresh rerun beyond the stated tolerances
    (module docstring; `same_machine=False`: the first logged loss only); an empty list when the
    rerun reproduces the committed run."""
    if not same_machine:
        if not (committed.loss and fresh.loss):
            return [f"no loss to compare: committed {len(committed.loss)}, rerun {len(fresh.loss)}"]
        a, b = committed.loss[0], fresh.loss[0]
        return [] if _close(a, b, CROSS_MACHINE_RTOL) else [
            f"first loss: committed {a!r}, rerun {b!r} (rtol {CROSS_MACHINE_RTOL:g}, trained on another machine)"]
    problems = []
    count = min(LOGGED_LOSSES, len(committed.loss))
    if len(fresh.loss) < count:
        problems.append(f"the rerun logged {len(fresh.loss)} losses, the committed run {len(committed.loss)}")
    else:
        for step, a, b in zip(committed.steps[:count], committed.loss[:count], fresh.loss[:count]):
            if not _close(a, b, LOSS_RTOL):
                problems.append(f"loss at step {step}: committed {a!r}, rerun {b!r} (rtol {LOSS_RTOL:g})")
                break
    for name in ("stopped", "chosen_step"):
        if getattr(committed, name) != getattr(fresh, name):
            problems.append(f"{name}: committed {getattr(committed, name)!r}, rerun {getattr(fresh, name)!r}")
    if len(committed.steps) != len(fresh.steps):
        problems.append(f"trained steps: committed {len(committed.steps)}, rerun {len(fresh.steps)}")
    expected, got = _numbers(committed.final, "final"), dict(_numbers(fresh.final, "final"))
    for where, value in expected:
        if where not in got:
            problems.append(f"{where}: committed {value!r}, missing in the rerun")
        elif not _close(value, got[where], 0.0, FINAL_TOL * (1.0 + abs(value))):
            problems.append(f"{where}: committed {value!r}, rerun {got[where]!r} (tolerance "
                            f"{FINAL_TOL:g} x (1 + |committed|))")
    return problems


@contextlib.contextmanager
def _isolated_environment():
    """Empty temporary run cache and results folders and WORKBOOK_RETRAIN=1 inside the block."""
    with tempfile.TemporaryDirectory(prefix="rnn-workbook-rerun-") as folder, mock.patch.dict(os.environ, {
            "WORKBOOK_CACHE_DIR": os.path.join(folder, "runs"),
            "WORKBOOK_RESULTS_DIR": os.path.join(folder, "results"), "WORKBOOK_RETRAIN": "1"}):
        yield


def rerun(entry: Entry) -> History:
    """Train the run of `entry` again with ``helpers.<experiment>.train(config)`` (isolated, one thread)."""
    if not isinstance(entry, Entry):
        validate.fail("entry", "an Entry (from committed_entries)", entry, TypeError)
    module = importlib.import_module(f"helpers.{entry.experiment}")
    train = getattr(module, "train", None)
    if not callable(train):
        raise TypeError(f"helpers.{entry.experiment}: expected a function train(config) -> History, got none")
    with _isolated_environment(), thread_rule():
        fresh = train(dict(entry.history.config))
    if not isinstance(fresh, History):
        validate.fail(f"helpers.{entry.experiment}.train", "to return a History", fresh, TypeError)
    return fresh


def reproduce(entry: Entry) -> list[str]:
    """`compare` of the committed run with a `rerun`: empty when the code still reproduces it."""
    return compare(entry.history, rerun(entry), entry.same_machine)
