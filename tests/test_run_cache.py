"""helpers.run_cache: the run cache and the committed results tier, keys, corrupt entries, retraining."""
from __future__ import annotations

import hashlib
import io
import json
import math
import os
import time
from pathlib import Path

import numpy as np
import pytest
import torch

from fit_doubles import Regression, Scalar, regression_problem, sgd
from helpers import run_cache
from helpers.history import History
from helpers.run_cache import cache_key, cached, is_cached, reuse_summary
from helpers.training import fit

ROOT = Path(__file__).resolve().parent.parent
CONFIG = {"version": 1, "model": "rnn", "hidden": 8, "seed": 0, "steps": 30, "lr": 0.01,
          "data": {"T": 5, "one_hot": True}}
EXPERIMENT = {**CONFIG, "experiment": "fake"}


class CountingRun:
    """A run function that trains a Regression model, counts its calls and records the parameters
    it started from and the torch thread count it ran with."""

    def __init__(self, model=None):
        self.calls, self.started_from, self.threads = 0, [], []
        self.model = model if model is not None else Regression(3)

    def __call__(self):
        self.calls += 1
        self.started_from.append(self.model.W.detach().clone())
        self.threads.append(torch.get_num_threads())
        next_batch, loss_fn, evaluate = regression_problem()
        return fit(self.model, sgd(self.model), next_batch, loss_fn, steps=30, eval_every=10,
                   evaluate=evaluate, progress=False)


@pytest.fixture
def folders(tmp_path, monkeypatch):
    """Full mode with the default run cache and results folders moved into tmp_path."""
    monkeypatch.setenv("WORKBOOK_QUICK", "0")
    monkeypatch.delenv("WORKBOOK_RETRAIN", raising=False)
    monkeypatch.setenv("WORKBOOK_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("WORKBOOK_RESULTS_DIR", str(tmp_path / "results"))
    return tmp_path / "cache", tmp_path / "results" / "fake"


# ----------------------------------------------------------------------------------------------
# the run cache
# ----------------------------------------------------------------------------------------------

def test_cache_round_trip_runs_once(tmp_path, capsys):
    run = CountingRun()
    first = cached(CONFIG, run, tmp_path)
    assert run.calls == 1 and not first.from_cache and first.config == CONFIG and first.source == "trained"
    assert capsys.readouterr().out == ""
    second = cached(dict(reversed(list(CONFIG.items()))), run, tmp_path)  # key order is irrelevant
    assert run.calls == 1 and second.from_cache and second.source == "run cache"
    key = cache_key(CONFIG)
    assert capsys.readouterr().out == (f"reused run {key} from the run cache "
                                       f"(trained in {first.elapsed:.1f} s, steps)\n")
    assert second.to_dict() == {**first.to_dict(), "from_cache": True, "source": "run cache"}
    assert [p.name for p in tmp_path.iterdir()] == [f"{key}.json"]


@pytest.mark.parametrize("change", [
    {"version": 2}, {"model": "lstm"}, {"hidden": 9}, {"seed": 1}, {"steps": 31}, {"lr": 0.011},
    {"data": {"T": 6, "one_hot": True}}, {"data": {"T": 5, "one_hot": False}}, {"clip": 5.0}])
def test_any_config_change_retrains(tmp_path, change):
    run = CountingRun()
    cached(CONFIG, run, tmp_path)
    cached({**CONFIG, **change}, run, tmp_path, verbose=False)
    assert run.calls == 2
    cached({**CONFIG, **change}, run, tmp_path, verbose=False)
    cached(CONFIG, run, tmp_path, verbose=False)  # both runs stay cached side by side
    assert run.calls == 2
    assert cache_key({**CONFIG, **change}) != cache_key(CONFIG)


@pytest.mark.parametrize("change", [{"torch": "2.0.0"}, {"numpy": "1.26.0"}, {"threads": 2}])
def test_the_key_holds_library_versions_and_threads(monkeypatch, change):
    key = cache_key(CONFIG)
    assert run_cache.environment()["threads"] == 1
    changed = {**run_cache.environment(), **change}
    monkeypatch.setattr(run_cache, "environment", lambda: changed)
    assert cache_key(CONFIG) != key


def test_runs_train_on_one_thread_whatever_the_caller_set(tmp_path):
    before = torch.get_num_threads()
    torch.set_num_threads(2)
    try:
        run = CountingRun()
        cached(CONFIG, run, tmp_path)
        assert run.threads == [1] and torch.get_num_threads() == 2
    finally:
        torch.set_num_threads(before)


def test_numpy_scalars_give_the_same_key():
    config = {**CONFIG, "hidden": np.int64(8), "lr": np.float64(0.01)}
    assert cache_key(config) == cache_key(CONFIG)


def test_cached_weights_are_saved_and_loaded(tmp_path):
    run = CountingRun(Regression(3, seed=0))
    cached(CONFIG, run, tmp_path, model=run.model)
    key = cache_key(CONFIG)
    record = json.loads((tmp_path / f"{key}.json").read_text())
    data = (tmp_path / f"{key}.pt").read_bytes()
    assert record["weights"] == {"file": f"{key}.pt", "sha256": hashlib.sha256(data).hexdigest()}
    fresh = Regression(3, seed=5)
    assert not torch.equal(fresh.W, run.model.W)
    history = cached(CONFIG, run, tmp_path, model=fresh, verbose=False)
    assert history.from_cache and run.calls == 1
    assert torch.equal(fresh.W, run.model.W) and torch.equal(fresh.b, run.model.b)


def test_numpy_parameter_dicts_are_saved_as_npz_and_loaded(tmp_path):
    trained = {"Wx": np.arange(6.0).reshape(2, 3), "b": np.ones(3)}

    def run():
        return History(steps=[1], loss=[0.5], grad_norm=[1.0], stopped="steps")

    cached(CONFIG, run, tmp_path, model=trained)
    assert (tmp_path / f"{cache_key(CONFIG)}.npz").exists()
    fresh = {"Wx": np.zeros((2, 3)), "b": np.zeros(3)}
    assert cached(CONFIG, run, tmp_path, model=fresh, verbose=False).from_cache
    assert all(np.array_equal(fresh[name], trained[name]) for name in trained)


def test_missing_weights_mean_retraining(tmp_path):
    run = CountingRun()
    cached(CONFIG, run, tmp_path)  # cached without a model: no weights stored
    history = cached(CONFIG, run, tmp_path, model=run.model, verbose=False)
    assert not history.from_cache and run.calls == 2
    assert (tmp_path / f"{cache_key(CONFIG)}.pt").exists()


def test_diverged_runs_are_cached(tmp_path):
    def diverging():
        model = Scalar()
        return fit(model, sgd(model), lambda t: None, lambda m, b: m.p.sum() * math.inf, steps=3,
                   progress=False)

    first = cached(CONFIG, diverging, tmp_path)
    again = cached(CONFIG, lambda: pytest.fail("retrained a cached run"), tmp_path, verbose=False)
    assert first.diverged and again.diverged and again.message == first.message


def test_cache_dir_default_and_environment(monkeypatch, tmp_path):
    monkeypatch.delenv("WORKBOOK_CACHE_DIR", raising=False)
    monkeypatch.delenv("WORKBOOK_RESULTS_DIR", raising=False)
    assert run_cache.default_cache_dir() == ROOT / ".cache" / "runs"
    assert run_cache.default_results_dir() == ROOT / "results"
    monkeypatch.setenv("WORKBOOK_CACHE_DIR", str(tmp_path / "elsewhere"))
    assert run_cache.default_cache_dir() == tmp_path / "elsewhere"
    cached(CONFIG, CountingRun())
    assert (tmp_path / "elsewhere" / f"{cache_key(CONFIG)}.json").exists()


def test_retrain_switch_trains_again_and_rewrites(tmp_path, monkeypatch):
    run = CountingRun()
    cached(CONFIG, run, tmp_path)
    cached(CONFIG, run, tmp_path, retrain=True)
    assert run.calls == 2
    time.sleep(0.1)   # file times are coarser than time.time(): keep the retraining's start clear of them
    monkeypatch.setenv("WORKBOOK_RETRAIN", "1")
    monkeypatch.setenv("WORKBOOK_RETRAIN_SINCE", repr(time.time() - 0.05))
    assert not is_cached(CONFIG, tmp_path)
    assert not cached(CONFIG, run, tmp_path).from_cache and run.calls == 3
    assert cached(CONFIG, run, tmp_path, retrain=False).from_cache and run.calls == 3
    # written since the retraining began: this retraining's own run, reused (one training per config)
    assert is_cached(CONFIG, tmp_path) and cached(CONFIG, run, tmp_path).from_cache and run.calls == 3
    assert not cached(CONFIG, run, tmp_path, retrain=True).from_cache and run.calls == 4


def test_the_retraining_start_is_set_once_and_inherited(monkeypatch):
    assert run_cache.retrain_since() is None
    monkeypatch.setenv("WORKBOOK_RETRAIN", "1")
    before = time.time()
    start = run_cache.retrain_since()
    assert before <= start <= time.time() and os.environ["WORKBOOK_RETRAIN_SINCE"] == repr(start)
    time.sleep(0.01)
    assert run_cache.retrain_since() == start   # later calls (and child processes) keep it
    monkeypatch.setenv("WORKBOOK_RETRAIN_SINCE", "soon")
    with pytest.raises(ValueError, match="WORKBOOK_RETRAIN_SINCE"):
        run_cache.retrain_since()


# ----------------------------------------------------------------------------------------------
# corrupt entries: reported, retrained, never trusted, never a crash
# ----------------------------------------------------------------------------------------------

def rewrite_record(change):
    """A corruption that edits the stored JSON record with `change(record, key)`."""
    def corrupt(folder: Path, key: str):
        path = folder / f"{key}.json"
        record = json.loads(path.read_text())
        change(record, key)
        path.write_text(json.dumps(record))
    return corrupt


def write_json(text):
    return lambda folder, key: (folder / f"{key}.json").write_bytes(text if isinstance(text, bytes) else text.encode())


def truncate(suffix):
    def corrupt(folder, key):
        path = folder / f"{key}{suffix}"
        path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    return corrupt


def replace_weights(state_dict, fix_hash):
    """Store another state dict as the weights; with `fix_hash` the JSON's SHA-256 is updated too."""
    def corrupt(folder, key):
        buffer = io.BytesIO()
        torch.save(state_dict, buffer)
        (folder / f"{key}.pt").write_bytes(buffer.getvalue())
        if fix_hash:
            rewrite_record(lambda r, k: r["weights"].update(sha256=hashlib.sha256(buffer.getvalue()).hexdigest()))(
                folder, key)
    return corrupt


def nested(depth):
    return '{"format": 2, "history": ' + "[" * depth + "]" * depth + "}"


CORRUPTIONS = {
    "garbage": (write_json("{not json"), "unreadable (JSONDecodeError"),
    "empty": (write_json(""), "unreadable (JSONDecodeError"),
    "not utf-8": (write_json(b"\xff\xfe\x00garbage"), "unreadable (UnicodeDecodeError"),
    "truncated json": (truncate(".json"), "unreadable (JSONDecodeError"),
    "deeply nested": (write_json("[" * 200_000 + "]" * 200_000), "unreadable (RecursionError: nested too deeply"),
    "deeply nested history": (write_json(nested(100_000)), "unreadable (RecursionError"),
    "a list": (write_json("[1, 2]"), "it is not a JSON object"),
    "no format": (write_json(json.dumps({"key": "x"})), "format None, expected 2"),
    "unknown format": (rewrite_record(lambda r, k: r.update(format=999)), "format 999, expected 2"),
    "old format": (rewrite_record(lambda r, k: r.update(format=1)), "format 1, expected 2"),
    "other key": (rewrite_record(lambda r, k: r.update(key="0" * 16)), "stored under another key"),
    "other torch": (rewrite_record(lambda r, k: r["environment"].update(torch="1.0")), "another key or environment"),
    "missing field": (rewrite_record(lambda r, k: r["history"].pop("loss")), "its history is broken"),
    "wrong type": (rewrite_record(lambda r, k: r["history"].update(steps="1,2")), "its history is broken"),
    "other config": (rewrite_record(lambda r, k: r["history"]["config"].update(hidden=99)),
                     "it belongs to a different configuration"),
    "weights record": (rewrite_record(lambda r, k: r.update(weights={"file": "../../x.pt"})),
                       "its weights record is not"),
    "weights missing": (lambda folder, key: (folder / f"{key}.pt").unlink(), f"{{key}}.pt is not a regular file"),
    "weights truncated": (truncate(".pt"), "does not match the SHA-256 stored in the JSON"),
    "all-zero weights": (replace_weights({"W": torch.zeros(3, 1), "b": torch.zeros(1)}, fix_hash=False),
                         "does not match the SHA-256"),
    "weights of another shape": (replace_weights({"W": torch.zeros(4, 1), "b": torch.zeros(1)}, fix_hash=True),
                                 "its weight 'W' has shape (4, 1)"),
    "weights of another dtype": (replace_weights({"W": torch.zeros(3, 1, dtype=torch.float64),
                                                  "b": torch.zeros(1)}, fix_hash=True), "dtype torch.float64"),
    "other weight names": (replace_weights({"V": torch.zeros(3, 1), "b": torch.zeros(1)}, fix_hash=True),
                           "do not name the model's parameters"),
    "nan weights": (replace_weights({"W": torch.full((3, 1), math.nan), "b": torch.zeros(1)}, fix_hash=True),
                    "its weight 'W' holds NaN/inf"),
    "garbage weights, hash fixed": (lambda folder, key: (
        (folder / f"{key}.pt").write_bytes(b"garbage"),
        rewrite_record(lambda r, k: r["weights"].update(sha256=hashlib.sha256(b"garbage").hexdigest()))(folder, key)),
        "its weights are unusable"),
}


@pytest.mark.parametrize("name", CORRUPTIONS)
def test_a_corrupt_entry_is_reported_and_retrained(tmp_path, capsys, name):
    corrupt, reason = CORRUPTIONS[name]
    key = cache_key(CONFIG)
    run = CountingRun(Regression(3, seed=0))
    cached(CONFIG, run, tmp_path, model=run.model)
    corrupt(tmp_path, key)
    fresh = Regression(3, seed=5)
    initial = fresh.W.detach().clone()
    run.model = fresh
    capsys.readouterr()
    history = cached(CONFIG, run, tmp_path, model=fresh, verbose=False)
    out = capsys.readouterr().out
    assert run.calls == 2 and not history.from_cache
    assert torch.equal(run.started_from[-1], initial)  # nothing of the broken entry was loaded
    assert out.startswith(f"ignored run cache entry {key}: ") and out.endswith("; training again\n")
    assert reason.format(key=key) in out and str(tmp_path) not in out and str(Path.home()) + "/" not in out
    again = cached(CONFIG, run, tmp_path, model=Regression(3, seed=7), verbose=False)
    assert again.from_cache and run.calls == 2  # the entry was rewritten


def test_a_corrupt_entry_is_reported_even_when_not_verbose(tmp_path, capsys):
    key = cache_key(CONFIG)
    (tmp_path / f"{key}.json").write_text("{")
    cached(CONFIG, CountingRun(), tmp_path, verbose=False)
    assert f"ignored run cache entry {key}" in capsys.readouterr().out


def test_an_oversized_entry_is_not_read(tmp_path, capsys, monkeypatch):
    run = CountingRun()
    cached(CONFIG, run, tmp_path)
    monkeypatch.setattr(run_cache, "MAX_ENTRY_BYTES", 100)
    cached(CONFIG, run, tmp_path)
    assert run.calls == 2 and "is larger than" in capsys.readouterr().out


def test_a_directory_at_the_entry_path_is_reported_and_never_crashes(tmp_path, capsys):
    key = cache_key(CONFIG)
    (tmp_path / f"{key}.json").mkdir()
    run = CountingRun()
    history = cached(CONFIG, run, tmp_path)
    out = capsys.readouterr().out
    assert run.calls == 1 and history.stopped == "steps"
    assert f"ignored run cache entry {key}: {key}.json is not a regular file; training again" in out
    assert f"could not store run cache entry {key} (IsADirectoryError" in out and str(tmp_path) not in out
    cached(CONFIG, run, tmp_path, verbose=False)
    assert run.calls == 2


def test_a_directory_at_the_weights_path_is_reported(tmp_path, capsys):
    key = cache_key(CONFIG)
    (tmp_path / f"{key}.pt").mkdir()
    run = CountingRun()
    cached(CONFIG, run, tmp_path, model=run.model)
    assert f"could not store run cache entry {key}" in capsys.readouterr().out
    assert not (tmp_path / f"{key}.json").exists()


def test_is_cached_trusts_only_good_entries(tmp_path):
    assert not is_cached(CONFIG, tmp_path)
    cached(CONFIG, CountingRun(), tmp_path)
    assert is_cached(CONFIG, tmp_path) and not is_cached({**CONFIG, "seed": 1}, tmp_path)
    (tmp_path / f"{cache_key(CONFIG)}.json").write_text("[" * 100_000)
    assert not is_cached(CONFIG, tmp_path)


# ----------------------------------------------------------------------------------------------
# the committed results tier
# ----------------------------------------------------------------------------------------------

def test_a_full_mode_run_is_written_to_both_tiers(folders, capsys):
    cache, results = folders
    key = cache_key(EXPERIMENT)
    run = CountingRun()
    cached(EXPERIMENT, run, model=run.model)
    assert sorted(p.name for p in cache.iterdir()) == [f"{key}.json", f"{key}.pt"]
    assert sorted(p.name for p in results.iterdir()) == [f"{key}.json"]  # weights only when asked
    assert json.loads((results / f"{key}.json").read_text())["weights"] is None
    (cache / f"{key}.json").unlink()
    history = cached(EXPERIMENT, run)
    assert run.calls == 1 and history.source == "committed results"
    assert capsys.readouterr().out.endswith(f"reused run {key} from the committed results "
                                            f"(trained in {history.elapsed:.1f} s, steps)\n")


def test_committed_weights_are_loaded_when_asked_for(folders):
    cache, results = folders
    key = cache_key(EXPERIMENT)
    run = CountingRun(Regression(3, seed=0))
    cached(EXPERIMENT, run, model=run.model, commit_weights=True)
    assert (results / f"{key}.pt").exists()
    for path in cache.iterdir():
        path.unlink()
    fresh = Regression(3, seed=5)
    history = cached(EXPERIMENT, run, model=fresh, commit_weights=True)
    assert history.source == "committed results" and torch.equal(fresh.W, run.model.W) and run.calls == 1


def test_committed_entries_without_weights_do_not_serve_a_model(folders):
    cache, _ = folders
    run = CountingRun()
    cached(EXPERIMENT, run)
    for path in cache.iterdir():
        path.unlink()
    assert not cached(EXPERIMENT, run, model=run.model).from_cache and run.calls == 2


def test_the_local_cache_is_looked_up_first(folders):
    cache, results = folders
    key = cache_key(EXPERIMENT)
    cached(EXPERIMENT, CountingRun())
    (results / f"{key}.json").write_text("{")  # would be reported if it were read
    assert cached(EXPERIMENT, CountingRun()).source == "run cache"


def test_a_corrupt_committed_result_is_reported_and_retrained(folders, capsys):
    cache, results = folders
    key = cache_key(EXPERIMENT)
    run = CountingRun()
    cached(EXPERIMENT, run)
    (cache / f"{key}.json").unlink()
    rewrite_record(lambda r, k: r["history"]["loss"].__setitem__(0, 123.0) or r.update(format=7))(results, key)
    history = cached(EXPERIMENT, run)
    assert run.calls == 2 and history.source == "trained"
    assert f"ignored committed result fake/{key}: format 7, expected 2; training again" in capsys.readouterr().out
    assert json.loads((results / f"{key}.json").read_text())["format"] == 2  # rewritten


def test_quick_mode_never_reads_or_writes_results(folders, monkeypatch):
    cache, results = folders
    monkeypatch.setenv("WORKBOOK_QUICK", "1")
    run = CountingRun()
    cached(EXPERIMENT, run)
    assert not results.exists() and (cache / f"{cache_key(EXPERIMENT)}.json").exists()
    monkeypatch.setenv("WORKBOOK_QUICK", "0")
    cached(EXPERIMENT, run, retrain=True)  # now the committed tier holds it
    (cache / f"{cache_key(EXPERIMENT)}.json").unlink()
    monkeypatch.setenv("WORKBOOK_QUICK", "1")
    assert not cached(EXPERIMENT, run).from_cache and run.calls == 3
    assert not is_cached({**EXPERIMENT, "seed": 5})


def test_only_a_declared_full_mode_run_writes_results(folders, monkeypatch):
    cache, results = folders
    monkeypatch.delenv("WORKBOOK_QUICK")  # unset: full mode for reading (unit tests, Jupyter) ...
    run = CountingRun()
    cached(EXPERIMENT, run)
    assert not results.exists() and (cache / f"{cache_key(EXPERIMENT)}.json").exists()  # ... never writing
    monkeypatch.setenv("WORKBOOK_QUICK", "0")
    cached(EXPERIMENT, run, retrain=True)
    assert (results / f"{cache_key(EXPERIMENT)}.json").stat().st_mode & 0o777 == 0o644
    (cache / f"{cache_key(EXPERIMENT)}.json").unlink()
    monkeypatch.delenv("WORKBOOK_QUICK")
    assert cached(EXPERIMENT, run).source == "committed results" and run.calls == 2


def test_an_explicit_cache_dir_keeps_the_committed_tier_off(folders, tmp_path):
    _, results = folders
    cached(EXPERIMENT, CountingRun(), tmp_path / "own")
    assert not results.exists()
    cached(EXPERIMENT, CountingRun(), tmp_path / "own", results=True, retrain=True)
    assert (results / f"{cache_key(EXPERIMENT)}.json").exists()


def test_retrain_rewrites_both_tiers(folders, monkeypatch):
    cache, results = folders
    run = CountingRun()
    cached(EXPERIMENT, run)
    time.sleep(0.1)
    monkeypatch.setenv("WORKBOOK_RETRAIN", "yes")
    monkeypatch.setenv("WORKBOOK_RETRAIN_SINCE", repr(time.time() - 0.05))
    second = cached(EXPERIMENT, run)
    assert run.calls == 2 and cached(EXPERIMENT, run).from_cache and run.calls == 2
    for folder in (cache, results):
        stored = json.loads((folder / f"{cache_key(EXPERIMENT)}.json").read_text())["history"]
        assert stored["elapsed"] == second.elapsed
    monkeypatch.delenv("WORKBOOK_RETRAIN")
    assert is_cached(EXPERIMENT) and cached(EXPERIMENT, run).from_cache and run.calls == 2


def test_reuse_summary_counts_sources_without_folders(folders):
    run = CountingRun()
    histories = [cached(EXPERIMENT, run), cached(EXPERIMENT, run)]
    (folders[0] / f"{cache_key(EXPERIMENT)}.json").unlink()
    histories.append(cached(EXPERIMENT, run))
    assert reuse_summary(histories) == ("3 runs: 1 trained, 1 reused from the run cache, "
                                        "1 loaded from the committed results")
    with pytest.raises(TypeError, match="histories"):
        reuse_summary([{"loss": []}])


# ----------------------------------------------------------------------------------------------
# bad input
# ----------------------------------------------------------------------------------------------

@pytest.mark.parametrize("config, error, match", [
    ({"seed": 0}, ValueError, "version"),
    ({"version": 1, "lr": math.nan}, ValueError, "config"),
    ({"version": 1, "model": object()}, TypeError, "config"),
    ({"version": 1, "weights": torch.ones(2)}, TypeError, "config"),
    ([("version", 1)], TypeError, "config"),
    ({"version": 1, "experiment": "../etc"}, ValueError, "experiment"),
    ({"version": 1, "experiment": 3}, ValueError, "experiment"),
])
def test_cached_rejects_bad_configs(tmp_path, config, error, match):
    with pytest.raises(error, match=match):
        cached(config, CountingRun(), tmp_path)


def test_cached_rejects_bad_run_and_model(tmp_path):
    with pytest.raises(TypeError, match="run"):
        cached(CONFIG, lambda: {"loss": [1.0]}, tmp_path)
    with pytest.raises(TypeError, match="run"):
        cached(CONFIG, None, tmp_path)
    with pytest.raises(TypeError, match="model"):
        cached(CONFIG, CountingRun(), tmp_path, model="weights.pt")
    with pytest.raises(TypeError, match="model"):
        cached(CONFIG, CountingRun(), tmp_path, model={"W": [1.0]})
    with pytest.raises(ValueError, match="experiment"):
        cached(CONFIG, CountingRun(), tmp_path, results=True)
    for folder in (3, b"runs", ["runs"], Path, ""):
        with pytest.raises(TypeError, match="^cache_dir: expected a folder"):
            cached(CONFIG, CountingRun(), folder)
        with pytest.raises(TypeError, match="^cache_dir: expected a folder"):
            is_cached(CONFIG, folder)
    with pytest.raises(TypeError, match="^results_dir: expected a folder"):
        cached(EXPERIMENT, CountingRun(), tmp_path, results=True, results_dir=3)
    with pytest.raises(TypeError, match="^histories: expected a list of History objects"):
        reuse_summary(None)
    assert list(tmp_path.iterdir()) == []
