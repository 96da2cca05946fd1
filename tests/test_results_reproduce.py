"""Committed results (`results/`): small, sound, and reproduced by today's code.

The real entries: every one passes `check_entry`, `results/` stays under 5 MB, and the cheapest
committed run of each experiment and model that logged at least 10 losses is trained again and
compared (`helpers.results.compare`: first 20 losses within 1e-6 relative, same stop and chosen step,
final numbers within 1e-4 x (1 + |value|)).
The mechanism itself is tested on a tiny fake experiment module, including a corrupted copy.
"""
from __future__ import annotations

import json
import os
import shutil
import sys
import types

import pytest
import torch

from fit_doubles import Regression, regression_problem, sgd
from helpers import results, run_cache
from helpers.history import History
from helpers.results import Entry, cheapest, committed_entries, compare, reproduce
from helpers.run_cache import cache_key, cached
from helpers.training import fit


def read_real_entries():
    """(entries, None), or ([], the ValueError naming a broken entry): collection never fails."""
    try:
        return committed_entries(), None
    except ValueError as error:
        return [], error


REAL_ENTRIES, REAL_ERROR = read_real_entries()
NO_ENTRIES = "results/ has no committed entries yet (full-mode runs of the notebooks write them)"


# ----------------------------------------------------------------------------------------------
# the real committed results
# ----------------------------------------------------------------------------------------------

def test_results_stay_under_5_mb():
    assert results.SIZE_LIMIT == 5 * 2 ** 20
    size = results.results_size() if results.default_results_dir().is_dir() else 0
    assert size < results.SIZE_LIMIT, f"results/ holds {size / 2 ** 20:.2f} MB, the limit is 5 MB"


def test_every_committed_entry_is_sound():
    if REAL_ERROR is not None:
        raise REAL_ERROR  # names the broken or stale entry
    if not REAL_ENTRIES:
        pytest.skip(NO_ENTRIES)
    assert all(isinstance(entry.history.config["version"], int) for entry in REAL_ENTRIES)


def test_every_committed_entry_holds_float32_precision():
    """Runs round their numbers (`History.round_numbers`) before they are stored: an entry that rounding
    would change was written by older code (its curves then take about twice the bytes)."""
    if not REAL_ENTRIES:
        pytest.skip(NO_ENTRIES)
    stored = {f"{entry.experiment}/{entry.key}": entry.history for entry in REAL_ENTRIES}
    unrounded = [name for name, history in stored.items()
                 if History.from_dict(history.to_dict()).round_numbers().to_json() != history.to_json()]
    assert not unrounded, f"{len(unrounded)} entries hold unrounded numbers, e.g. {unrounded[:3]}"


class Reruns(dict):
    """group (`Entry.group`) -> (its cheapest committed entry, a fresh rerun of it), trained on first use."""

    def __missing__(self, group):
        [entry] = [e for e in cheapest(REAL_ENTRIES) if e.group == group]
        self[group] = (entry, results.rerun(entry))
        return self[group]


@pytest.fixture(scope="module")
def reruns():
    return Reruns()


GROUPS = sorted({e.group for e in REAL_ENTRIES}) or [pytest.param(None, marks=pytest.mark.skip(reason=NO_ENTRIES))]


@pytest.mark.parametrize("group", GROUPS)
def test_the_cheapest_committed_run_of_each_experiment_and_model_reproduces(reruns, group):
    entry, fresh = reruns[group]
    mode = "strictly (same machine kind)" if entry.same_machine else "first loss only (trained on another machine)"
    assert compare(entry.history, fresh, entry.same_machine) == [], \
        f"{entry.experiment}/{entry.key} no longer reproduces, compared {mode}"


@pytest.mark.parametrize("group", GROUPS)
def test_a_corrupted_copy_of_a_committed_run_is_caught(reruns, group, tmp_path):
    entry, fresh = reruns[group]
    folder = tmp_path / entry.experiment
    folder.mkdir()
    record = json.loads(entry.path.read_text())
    losses = record["history"]["loss"]
    if entry.same_machine:
        losses[min(1, len(losses) - 1)] *= 1 + 1e-5
    else:
        losses[0] *= 1 + 1e-3
    (folder / entry.path.name).write_text(json.dumps(record))
    if record["weights"] is not None:
        shutil.copy(entry.path.parent / record["weights"]["file"], folder)
    [corrupted] = committed_entries(tmp_path)
    assert compare(corrupted.history, fresh, entry.same_machine) != []


# ----------------------------------------------------------------------------------------------
# the mechanism, on a fake experiment module
# ----------------------------------------------------------------------------------------------

def fake_train(config: dict, lr_scale: float = 1.0) -> History:
    """A tiny deterministic experiment: a regression trained for config["steps"] steps."""
    model = Regression(3, seed=config["seed"])
    next_batch, loss_fn, evaluate = regression_problem(seed=config["seed"])
    history = fit(model, sgd(model, lr=config["lr"] * lr_scale), next_batch, loss_fn, config["steps"],
                  eval_every=10, evaluate=evaluate, best_metric="mse", best_mode="min", progress=False,
                  config=config)
    with torch.no_grad():
        return history.record_final(test_mse=float(loss_fn(model, next_batch(99_999))),
                                    weights=model.W.flatten().tolist())


@pytest.fixture
def fake(monkeypatch, tmp_path):
    """`helpers.fake_experiment` with `train`, and a results folder holding two of its runs."""
    module = types.ModuleType("helpers.fake_experiment")
    module.train = fake_train
    monkeypatch.setitem(sys.modules, "helpers.fake_experiment", module)
    monkeypatch.setenv("WORKBOOK_QUICK", "0")
    folder = tmp_path / "results"
    for steps in (40, 30):
        config = {"experiment": "fake_experiment", "version": 1, "seed": 0, "lr": 0.1, "steps": steps}
        cached(config, lambda: fake_train(config), tmp_path / "cache", results=True, results_dir=folder)
    return module, folder


def test_committed_entries_are_read_and_the_cheapest_is_picked(fake):
    _, folder = fake
    entries = committed_entries(folder)
    assert [e.experiment for e in entries] == ["fake_experiment"] * 2
    assert {e.key for e in entries} == {p.stem for p in (folder / "fake_experiment").glob("*.json")}
    [chosen] = cheapest(entries)
    assert chosen.cost == min(e.cost for e in entries)
    path = entries[0].path
    faked = [Entry("a", "k2", path, History(elapsed=1.0)), Entry("a", "k1", path, History(elapsed=1.0)),
             Entry("a", "k0", path, History(elapsed=5.0)), Entry("b", "k3", path, History(elapsed=9.0))]
    assert [e.key for e in cheapest(faked)] == ["k1", "k3"]  # ties by key, one per experiment
    assert [e.key for e in cheapest(faked, per_group=2)] == ["k1", "k2", "k3"]
    models = [Entry("a", "k4", path, History(elapsed=1.0, config={"model": "lstm"})),
              Entry("a", "k5", path, History(elapsed=2.0, config={"model": "lstm"})),
              Entry("a", "k6", path, History(elapsed=3.0, config={"model": "rnn"}))]
    assert [e.group for e in models] == ["a/lstm", "a/lstm", "a/rnn"]
    assert [e.key for e in cheapest(faked + models)] == ["k1", "k4", "k6", "k3"]  # one per experiment and model


def test_across_machines_only_the_first_loss_is_compared():
    committed = History(steps=[1, 2], loss=[1.0, 2.0], stopped="budget")
    drifted = History(steps=[1, 2, 3], loss=[1.0 + 5e-5, 2.5, 3.0], stopped="target")
    assert compare(committed, drifted, same_machine=False) == []
    assert compare(committed, drifted) != []
    assert compare(committed, History(steps=[1], loss=[1.002]), same_machine=False) != []
    assert compare(committed, History(), same_machine=False) != []


def test_entries_record_the_machine_kind_they_were_trained_on(fake):
    _, folder = fake
    for entry in committed_entries(folder):
        assert entry.trained_on == run_cache.trained_on() and entry.same_machine
    assert set(run_cache.trained_on()) == {"cpu", "simd"}


def test_cheapest_prefers_runs_that_logged_enough_losses():
    path = results.default_results_dir() / "a" / "k.json"
    short = History(elapsed=1.0, steps=[1], loss=[0.5])
    long = History(elapsed=3.0, steps=list(range(10)), loss=[0.5] * 10)
    faked = [Entry("a", "short", path, short), Entry("a", "long", path, long),
             Entry("b", "only-short", path, short)]
    assert [e.key for e in cheapest(faked, min_losses=10)] == ["long", "only-short"]
    assert [e.key for e in cheapest(faked, min_losses=1)] == ["short", "only-short"]


def test_an_unchanged_experiment_reproduces(fake):
    _, folder = fake
    for entry in committed_entries(folder):
        assert reproduce(entry) == []


def test_a_rerun_never_touches_the_real_cache_or_results(fake, monkeypatch, tmp_path):
    module, folder = fake
    seen = []

    def spying_train(config):
        seen.append((os.environ["WORKBOOK_RETRAIN"], os.environ["WORKBOOK_CACHE_DIR"],
                     os.environ["WORKBOOK_RESULTS_DIR"], torch.get_num_threads()))
        return fake_train(config)

    monkeypatch.setattr(module, "train", spying_train)
    monkeypatch.setenv("WORKBOOK_CACHE_DIR", str(tmp_path / "mine"))
    reproduce(committed_entries(folder)[0])
    [(retrain, cache, results_dir, threads)] = seen
    assert retrain == "1" and threads == 1 and "rnn-workbook-rerun-" in cache and "rnn-workbook-rerun-" in results_dir
    assert str(tmp_path) not in cache + results_dir
    assert os.environ["WORKBOOK_CACHE_DIR"] == str(tmp_path / "mine")


def test_changed_code_is_caught(fake, monkeypatch):
    module, folder = fake
    monkeypatch.setattr(module, "train", lambda config: fake_train(config, lr_scale=1.0 + 1e-4))
    problems = reproduce(committed_entries(folder)[0])
    assert problems and problems[0].startswith("loss at step 2: committed")


def copy_with(folder, tmp_path, change):
    """A copy of the fake results in which `change(record)` edited the first entry."""
    copy = tmp_path / "copy"
    shutil.copytree(folder, copy)
    path = sorted((copy / "fake_experiment").glob("*.json"))[0]
    record = json.loads(path.read_text())
    change(record)
    path.write_text(json.dumps(record))
    return copy, path.stem


@pytest.mark.parametrize("change, problem", [
    (lambda r: r["history"]["loss"].__setitem__(3, r["history"]["loss"][3] * (1 + 1e-5)), "loss at step 4"),
    (lambda r: r["history"]["final"].update(test_mse=r["history"]["final"]["test_mse"] + 1e-3),
     "final['test_mse']"),
    (lambda r: r["history"]["final"]["weights"].__setitem__(1, 0.0), "final['weights'][1]"),
    (lambda r: r["history"].update(stopped="early stop (target reached)"), "stopped"),
    (lambda r: r["history"].update(chosen_step=10), "chosen_step"),
    (lambda r: r["history"]["final"].update(extra=1.0), "final['extra']: committed 1.0, missing"),
])
def test_a_corrupted_committed_result_fails(fake, tmp_path, change, problem):
    _, folder = fake
    copy, key = copy_with(folder, tmp_path, change)
    [entry] = [e for e in committed_entries(copy) if e.key == key]
    assert any(problem in line for line in reproduce(entry)), reproduce(entry)


@pytest.mark.parametrize("change, message", [
    (lambda r: r["history"]["config"].update(seed=1), "does not hash to its key"),
    (lambda r: r.update(format=1), "format 1, expected 2"),
    (lambda r: r["environment"].update(numpy="1.0"), "another key or environment"),
    (lambda r: r["history"].update(loss="x"), "its history is broken"),
    (lambda r: r.update(weights={"file": "x.npz", "sha256": "0"}), "its weights record"),
])
def test_a_broken_committed_entry_is_refused_by_name(fake, tmp_path, change, message):
    _, folder = fake
    copy, key = copy_with(folder, tmp_path, change)
    with pytest.raises(ValueError, match=f"entry fake_experiment/{key}.json: .*{message}"):
        committed_entries(copy)


def test_an_entry_in_the_wrong_folder_is_refused(fake, tmp_path):
    _, folder = fake
    shutil.copytree(folder / "fake_experiment", tmp_path / "moved" / "palindromes")
    with pytest.raises(ValueError, match="names the experiment 'fake_experiment', not its folder 'palindromes'"):
        committed_entries(tmp_path / "moved")


def test_results_size_counts_every_file(fake):
    _, folder = fake
    files = [p for p in folder.rglob("*") if p.is_file()]
    assert len(files) == 2 and results.results_size(folder) == sum(p.stat().st_size for p in files)


def test_an_experiment_without_train_is_a_clear_error(fake, monkeypatch):
    module, folder = fake
    monkeypatch.delattr(module, "train")
    with pytest.raises(TypeError, match="helpers.fake_experiment: expected a function train"):
        reproduce(committed_entries(folder)[0])
    monkeypatch.setattr(module, "train", lambda config: {"loss": []}, raising=False)
    with pytest.raises(TypeError, match="train: expected to return a History"):
        reproduce(committed_entries(folder)[0])


def test_the_key_of_a_fake_entry_is_its_config_hash(fake):
    _, folder = fake
    for entry in committed_entries(folder):
        assert entry.key == cache_key(entry.history.config)
