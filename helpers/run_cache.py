"""Finished training runs on disk: the local run cache and the committed results (no torch import).

    history = cached(config, lambda: train_uncached(config, model), model=model)

Two tiers, one entry format, looked up in this order:

1. the **run cache**: ``<repo>/.cache/runs/<key>.json`` (outside git; ``WORKBOOK_CACHE_DIR`` moves it);
2. the **committed results**: ``<repo>/results/<experiment>/<key>.json`` (in git; ``WORKBOOK_RESULTS_DIR``
   moves it), read only in full mode, only for configs that name their "experiment", and only when
   the run cache is the default one (a caller or test passing its own `cache_dir` stays isolated).
   Quick mode (``WORKBOOK_QUICK=1``) never reads and never writes `results/`.

A run trained by `cached` is written to the run cache and, in a declared full-mode run
(``WORKBOOK_QUICK=0``, as `make figures` sets it; see `full_mode_declared`), to `results/` as well.
``WORKBOOK_RETRAIN=1`` (or ``cached(..., retrain=True)``) skips both lookups and trains again (and
rewrites both tiers). With the environment variable, an entry written since the retraining began
(``WORKBOOK_RETRAIN_SINCE``, see `retrain_since`) is this retraining's own and is reused: a config that
several cells (or a worker and its parent) ask for trains once. Entries are compact JSON (no
indentation: `results/` must stay under 5 MB).

The key (`cache_key`) hashes everything that changes a result: the config (which carries the
module's "version", bumped when its code changes what a run produces), the entry format, the torch
and numpy versions, and the thread count. The thread rule: every cached run trains on
`RUN_THREADS` = 1 torch thread (`cached` wraps `run()` in `helpers.training.single_threaded`, and
`fit` does the same), so a direct call and a worker process give the same numbers. NumPy's BLAS
threads are not switched (no dependency for it); the workbook's NumPy runs use small products
whose results do not depend on them.

Entry layout (this module owns it; bump `CACHE_FORMAT` when it changes):

    <key>.json   {"format": 2, "key": <key>, "environment": {"torch": …, "numpy": …, "threads": 1},
                  "trained_on": {"cpu": …, "simd": …} (not in the key; missing in older entries),
                  "history": History.to_dict(), "weights": null | {"file": "<key>.pt", "sha256": …}}
    <key>.pt     torch state_dict of the trained module (`model=` a torch.nn.Module), or
    <key>.npz    the arrays of a NumPy parameter dict (`model=` a dict of name -> ndarray)

An entry is trusted only when every check passes: a regular file under `MAX_ENTRY_BYTES`, valid JSON,
the current format, its own key and environment, a well-formed History of exactly this config, and
(when weights are asked for) a weights file whose SHA-256 matches the JSON and whose tensors match the
model's names, shapes and dtypes and are finite. Anything else is reported in one line naming the
entry (never an absolute path) and the run is trained again; nothing here raises on a bad entry.
"""
from __future__ import annotations

import contextlib
import hashlib
import io
import json
import os
import sys
import tempfile
import time
from importlib import metadata
from pathlib import Path
from typing import Any, Callable

import numpy as np

from helpers import validate
from helpers.history import History
from helpers.workbook import REPO_ROOT, quick_mode

CACHE_FORMAT = 2  # bump when the stored layout changes: older entries are then retrained
RUN_THREADS = 1
MAX_ENTRY_BYTES = 20 * 2 ** 20
RUN_CACHE = "run cache"
COMMITTED = "committed results"


# ----------------------------------------------------------------------------------------------
# Where, and under which key
# ----------------------------------------------------------------------------------------------

def default_cache_dir() -> Path:
    """``$WORKBOOK_CACHE_DIR`` when set, else ``<repo>/.cache/runs`` (git-ignored)."""
    return Path(os.environ.get("WORKBOOK_CACHE_DIR") or REPO_ROOT / ".cache" / "runs")


def default_results_dir() -> Path:
    """``$WORKBOOK_RESULTS_DIR`` when set, else ``<repo>/results`` (committed)."""
    return Path(os.environ.get("WORKBOOK_RESULTS_DIR") or REPO_ROOT / "results")


def full_mode_declared() -> bool:
    """True when WORKBOOK_QUICK is explicitly 0/false/no, as `make figures` (helpers.run_notebooks)
    sets it: only such runs write `results/` (an unset variable reads as full mode but never writes,
    so unit tests and interactive sessions cannot fill the committed folder by accident)."""
    return os.environ.get("WORKBOOK_QUICK", "").strip().lower() in {"0", "false", "no"}


def retrain_requested() -> bool:
    """True when the environment variable WORKBOOK_RETRAIN is 1/true/yes."""
    return os.environ.get("WORKBOOK_RETRAIN", "").strip().lower() in {"1", "true", "yes"}


RETRAIN_SINCE = "WORKBOOK_RETRAIN_SINCE"


def retrain_since() -> float | None:
    """With WORKBOOK_RETRAIN set: when the retraining began (seconds since the epoch), else None.

    Taken from the environment variable WORKBOOK_RETRAIN_SINCE, which is set to the current time on
    first use; worker processes and the kernels of `helpers.run_notebooks` inherit it, so a whole
    `make figures RETRAIN=1` shares one start. Entries written since then are reused."""
    if not retrain_requested():
        return None
    value = os.environ.setdefault(RETRAIN_SINCE, repr(time.time()))
    try:
        return float(value)
    except ValueError:
        validate.fail(RETRAIN_SINCE, "seconds since the epoch", value)


def _written_since(folder: Path, key: str, since: float | None) -> bool:
    """True when no retraining is under way (`since` None) or the entry of `key` was written since it began."""
    if since is None:
        return True
    try:
        return (folder / f"{key}.json").stat().st_mtime >= since
    except OSError:
        return False


def environment() -> dict:
    """What besides the config changes a run's numbers: torch and numpy versions, thread count."""
    try:
        torch_version = metadata.version("torch")
    except metadata.PackageNotFoundError:
        torch_version = None
    return {"torch": torch_version, "numpy": np.__version__, "threads": RUN_THREADS}


def trained_on() -> dict:
    """The machine a run is trained on, stored beside (not in) the key: the CPU model and its widest
    vector instructions (the kernels torch and NumPy pick: AVX512, AVX2 or DEFAULT). Float rounding
    differs between them, so `helpers.results` compares strictly only runs trained on the same kind."""
    lines = _cpuinfo_lines()
    cpu = next((line.split(":", 1)[1].strip() for line in lines if line.startswith("model name")), None)
    flags = set(next((line.split(":", 1)[1].split() for line in lines if line.startswith("flags")), []))
    simd = "AVX512" if "avx512f" in flags else "AVX2" if "avx2" in flags else "DEFAULT"
    return {"cpu": cpu, "simd": simd}


def _cpuinfo_lines() -> list[str]:
    try:
        return Path("/proc/cpuinfo").read_text().splitlines()
    except OSError:
        return []


def _json_value(value):
    if isinstance(value, np.generic):  # numpy scalars (np.int64, np.float32, np.bool_) as numbers
        return value.item()
    raise TypeError(f"config: expected JSON values (numbers, strings, booleans, None, lists, dicts), "
                    f"got a {type(value).__name__}: {value!r:.60}")


def canonical_config(config: dict) -> str:
    """The canonical JSON text of `config` (sorted keys, no spaces).

    `config` must be a dict of JSON values (numpy scalars are converted, tuples become lists;
    NaN/inf are refused) with a "version" entry that the caller bumps whenever the code behind the
    run changes its result. An "experiment" entry, when present, must name a `helpers` module.
    """
    if not isinstance(config, dict):
        validate.fail("config", "a dict", config, TypeError)
    if "version" not in config:
        validate.fail("config", "a 'version' entry (bump it when the training code changes)", config)
    experiment = config.get("experiment")
    if "experiment" in config and not (isinstance(experiment, str) and experiment.isidentifier()):
        validate.fail("config['experiment']", "the name of a helpers module, e.g. 'palindromes'", experiment)
    try:
        return json.dumps(config, sort_keys=True, separators=(",", ":"), allow_nan=False,
                          default=_json_value)
    except ValueError as error:
        raise ValueError(f"config: expected finite numbers, got NaN or inf ({error})") from None


def cache_key(config: dict) -> str:
    """16 hex digits of the SHA-256 of the canonical config, the entry format and `environment()`."""
    text = json.dumps({"config": canonical_config(config), "format": CACHE_FORMAT,
                       "environment": environment()}, sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


# ----------------------------------------------------------------------------------------------
# Weights: torch modules (.pt) and NumPy parameter dicts (.npz)
# ----------------------------------------------------------------------------------------------

def _is_torch_module(model) -> bool:
    torch = sys.modules.get("torch")
    return torch is not None and isinstance(model, torch.nn.Module)


def _check_model(model) -> None:
    is_array_dict = isinstance(model, dict) and model and all(
        isinstance(k, str) and isinstance(v, np.ndarray) for k, v in model.items())
    if model is not None and not (_is_torch_module(model) or is_array_dict):
        validate.fail("model", "a torch.nn.Module, a dict of name -> numpy array, or None", model, TypeError)


def _weights_suffix(model) -> str:
    return ".pt" if _is_torch_module(model) else ".npz"


def _weights_bytes(model) -> bytes:
    buffer = io.BytesIO()
    if _is_torch_module(model):
        import torch
        torch.save(model.state_dict(), buffer)
    else:
        np.savez(buffer, **model)
    return buffer.getvalue()


def _load_weights(model, data: bytes) -> None:
    """Load `data` into `model` after checking names, shapes, dtypes and finiteness (nothing is
    changed when a check fails: ValueError with the reason)."""
    if _is_torch_module(model):
        import torch
        stored = torch.load(io.BytesIO(data), weights_only=True)
        wanted = model.state_dict()
        arrays = {name: value.numpy() for name, value in stored.items()} if isinstance(stored, dict) else None
    else:
        with np.load(io.BytesIO(data), allow_pickle=False) as archive:
            stored = arrays = {name: archive[name] for name in archive.files}
        wanted = model
    if arrays is None or set(arrays) != set(wanted):
        raise ValueError("its weights do not name the model's parameters")
    for name, value in arrays.items():
        if tuple(value.shape) != tuple(wanted[name].shape) or stored[name].dtype != wanted[name].dtype:
            raise ValueError(f"its weight {name!r} has shape {tuple(value.shape)} and dtype "
                             f"{stored[name].dtype}, the model's {tuple(wanted[name].shape)} and {wanted[name].dtype}")
        if np.issubdtype(value.dtype, np.inexact) and not np.isfinite(value).all():
            raise ValueError(f"its weight {name!r} holds NaN/inf")
    if _is_torch_module(model):
        model.load_state_dict(stored)
    else:
        model.update(stored)


# ----------------------------------------------------------------------------------------------
# Reading and writing entries
# ----------------------------------------------------------------------------------------------

class _Unusable(Exception):
    """An entry that exists but cannot be trusted (the message says why)."""


def _reason(error: BaseException) -> str:
    """A short reason without file paths (OSError messages carry the absolute path)."""
    if isinstance(error, OSError):
        return f"{type(error).__name__}: {error.strerror or 'cannot be read'}"
    if isinstance(error, RecursionError):
        return "RecursionError: nested too deeply"
    return f"{type(error).__name__}: {str(error)[:200]}"


def _read_file(path: Path) -> bytes:
    if not path.is_file():
        raise _Unusable(f"{path.name} is not a regular file")
    if path.stat().st_size > MAX_ENTRY_BYTES:
        raise _Unusable(f"{path.name} is larger than {MAX_ENTRY_BYTES // 2 ** 20} MB")
    try:
        return path.read_bytes()
    except OSError as error:
        raise _Unusable(_reason(error)) from None


def _load_record(json_path: Path, key: str) -> tuple[dict, History]:
    """The JSON record and History of the entry at `json_path`, checked for everything that does
    not depend on the caller: file, JSON, format, key, environment, History fields (`_Unusable`)."""
    try:
        record = json.loads(_read_file(json_path).decode("utf-8"))
    except (ValueError, RecursionError) as error:  # UnicodeDecodeError and JSONDecodeError included
        raise _Unusable(f"unreadable ({_reason(error)})") from None
    if not isinstance(record, dict):
        raise _Unusable("it is not a JSON object")
    if record.get("format") != CACHE_FORMAT:
        raise _Unusable(f"format {record.get('format')!r}, expected {CACHE_FORMAT}")
    if record.get("key") != key or record.get("environment") != environment():
        raise _Unusable("it was stored under another key or environment")
    try:
        return record, History.from_dict(record.get("history"))
    except (ValueError, TypeError, RecursionError) as error:
        raise _Unusable(f"its history is broken ({_reason(error)})") from None


def _verified_weights(folder: Path, record: dict, key: str, suffixes: tuple[str, ...]) -> bytes:
    """The bytes of the entry's weights file after checking its name and SHA-256 (`_Unusable`)."""
    weights = record.get("weights")
    names = [f"{key}{suffix}" for suffix in suffixes]
    if not (isinstance(weights, dict) and weights.get("file") in names
            and isinstance(weights.get("sha256"), str)):
        raise _Unusable(f"its weights record is not {{'file': '{names[0]}', 'sha256': …}}")
    data = _read_file(folder / weights["file"])
    if hashlib.sha256(data).hexdigest() != weights["sha256"]:
        raise _Unusable(f"{weights['file']} does not match the SHA-256 stored in the JSON")
    return data


def _read_entry(folder: Path, key: str, config: dict, model) -> History | None:
    """The trusted History stored under `key` in `folder` (weights loaded into `model` when given);
    None when there is no entry (or it has no weights and `model` wants them); `_Unusable` when the
    entry is there but broken."""
    json_path = folder / f"{key}.json"
    if not os.path.lexists(json_path):
        return None
    record, history = _load_record(json_path, key)
    try:
        same_config = history.config == config
    except RecursionError:
        same_config = False
    if not same_config:
        raise _Unusable("it belongs to a different configuration")
    if model is not None:
        if record.get("weights") is None:
            return None
        data = _verified_weights(folder, record, key, (_weights_suffix(model),))
        try:
            _load_weights(model, data)
        except Exception as error:  # noqa: BLE001 (any failure of a weights file means: retrain)
            raise _Unusable(f"its weights are unusable ({_reason(error)})") from None
    return history


def check_entry(json_path: str | Path) -> History:
    """The History of the stored entry at `json_path` after every check that needs no model: file,
    JSON, format, environment, History fields, the key (file name) = `cache_key` of its config, and
    the SHA-256 of its weights file when it has one. ValueError naming the entry and the reason."""
    json_path = Path(json_path)
    key = json_path.stem
    try:
        record, history = _load_record(json_path, key)
        try:
            hashes_to_key = cache_key(history.config) == key
        except (ValueError, TypeError) as error:
            raise _Unusable(f"its config is not a valid config ({_reason(error)})") from None
        if not hashes_to_key:
            raise _Unusable("its config does not hash to its key (edited by hand?)")
        if record.get("weights") is not None:
            _verified_weights(json_path.parent, record, key, (".pt", ".npz"))
    except _Unusable as problem:
        raise ValueError(f"entry {json_path.parent.name}/{json_path.name}: {problem}") from None
    return history


def _write_atomically(path: Path, data: bytes) -> None:
    """Write through a temporary file in the same folder, then rename: no half-written files."""
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(handle, "wb") as file:
            file.write(data)
        os.chmod(temporary, 0o644)  # mkstemp makes 0600; entries are shared (and committed)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def _write_entry(folder: Path, key: str, history: History, model) -> None:
    """Store `history` (and the weights of `model`, when given) as the entry `key` in `folder`."""
    folder.mkdir(parents=True, exist_ok=True)
    record = {"format": CACHE_FORMAT, "key": key, "environment": environment(), "trained_on": trained_on(),
              "history": {**history.to_dict(), "from_cache": False, "source": "trained"}, "weights": None}
    if model is not None:
        data = _weights_bytes(model)
        name = f"{key}{_weights_suffix(model)}"
        _write_atomically(folder / name, data)
        record["weights"] = {"file": name, "sha256": hashlib.sha256(data).hexdigest()}
    _write_atomically(folder / f"{key}.json", json.dumps(record, separators=(",", ":")).encode())


# ----------------------------------------------------------------------------------------------
# The public entry points
# ----------------------------------------------------------------------------------------------

def thread_rule():
    """The thread rule as a context manager: `helpers.training.single_threaded()` when torch is
    loaded, else nothing (a NumPy-only run)."""
    if "torch" not in sys.modules:
        return contextlib.nullcontext()
    from helpers.training import single_threaded
    return single_threaded()


def _folder(name: str, value) -> Path | None:
    """A folder argument: None, a str or an os.PathLike (TypeError naming `name` otherwise)."""
    if value is None:
        return None
    if not isinstance(value, (str, os.PathLike)) or not isinstance(os.fspath(value), str) or not os.fspath(value):
        validate.fail(name, "a folder (str or pathlib.Path) or None", value, TypeError)
    return Path(value)


def _tiers(config: dict, cache_dir, results, results_dir) -> list[tuple[str, str, Path, bool]]:
    """[(label, entry name prefix, folder, written after training)] in lookup order."""
    cache_dir, results_dir = _folder("cache_dir", cache_dir), _folder("results_dir", results_dir)
    tiers = [(RUN_CACHE, "run cache entry ", cache_dir if cache_dir is not None else default_cache_dir(), True)]
    if results is None:
        results = cache_dir is None and "experiment" in config
    elif results and "experiment" not in config:
        validate.fail("config", "an 'experiment' entry (the helpers module) for the committed results", config)
    if results and not quick_mode():
        folder = results_dir if results_dir is not None else default_results_dir()
        tiers.append((COMMITTED, f"committed result {config['experiment']}/", folder / config["experiment"],
                      full_mode_declared()))
    return tiers


def cached(config: dict, run: Callable[[], History], cache_dir: str | Path | None = None, *,
           model: Any = None, verbose: bool = True, retrain: bool | None = None,
           results: bool | None = None, results_dir: str | Path | None = None,
           commit_weights: bool = False) -> History:
    """Return the stored History of `config`, or call `run()` (on one torch thread) and store it.

    config          everything that changes the result, as JSON values, with a "version" the caller
                    bumps when its code changes, and "experiment" (the helpers module) for the
                    committed tier (see `canonical_config`)
    run             trains and returns a History; called only when no trusted entry exists. Its
                    `config` is set to `config`. Diverged runs are stored like any other.
    cache_dir       the run cache folder (default `default_cache_dir()`)
    model           optional: the torch module (or NumPy parameter dict) that `run` trains in
                    place; its weights are stored beside the JSON and, on a hit, loaded back into it
    verbose         print one line when a stored run is reused (broken entries are always reported)
    retrain         True: ignore stored runs and train; None: WORKBOOK_RETRAIN decides (`retrain_since`:
                    then only entries written since the retraining began are reused)
    results         the committed tier: None = on for configs with "experiment" when `cache_dir` is
                    None; True/False force it; never in quick mode; written only when
                    `full_mode_declared()` (WORKBOOK_QUICK=0)
    results_dir     the committed results folder (default `default_results_dir()`)
    commit_weights  also store the weights in the committed tier (only small ones a figure needs)
    """
    if run is None or not callable(run):
        validate.fail("run", "a callable", run, TypeError)
    _check_model(model)
    key = cache_key(config)
    config = json.loads(canonical_config(config))
    tiers = _tiers(config, cache_dir, results, results_dir)
    since = retrain_since() if retrain is None else None     # WORKBOOK_RETRAIN: reuse this retraining's runs
    retrain = since is not None if retrain is None else bool(retrain)
    if not retrain or since is not None:
        for label, prefix, folder, _ in tiers:
            if not _written_since(folder, key, since):
                continue
            wants_weights = model if (label == RUN_CACHE or commit_weights) else None
            try:
                history = _read_entry(folder, key, config, wants_weights)
            except _Unusable as problem:
                print(f"ignored {prefix}{key}: {problem}; training again")
                continue
            if history is None or (model is not None and wants_weights is None):
                continue
            history.from_cache, history.source = True, label
            if verbose:
                print(f"reused run {key} from the {label} (trained in {history.elapsed:.1f} s, {history.stopped})")
            return history
    with thread_rule():
        history = run()
    if not isinstance(history, History):
        validate.fail("run", "to return a History", history, TypeError)
    history.config, history.from_cache, history.source = config, False, "trained"
    for label, prefix, folder, writable in tiers:
        if not writable:
            continue
        try:
            _write_entry(folder, key, history, model if (label == RUN_CACHE or commit_weights) else None)
        except OSError as error:
            print(f"could not store {prefix}{key} ({_reason(error)}); the run is not kept")
    return history


def is_cached(config: dict, cache_dir: str | Path | None = None, *, results: bool | None = None,
              results_dir: str | Path | None = None) -> bool:
    """True when `cached(config, …)` with the same folders would reuse a stored run (weights not checked)."""
    key = cache_key(config)
    config = json.loads(canonical_config(config))
    since = retrain_since()
    for _, _, folder, _ in _tiers(config, cache_dir, results, results_dir):
        if not _written_since(folder, key, since):
            continue
        try:
            if _read_entry(folder, key, config, None) is not None:
                return True
        except _Unusable:
            continue
    return False


def reuse_summary(histories) -> str:
    """One line for a notebook: how many of `histories` were trained and how many were reused from
    the run cache or the committed results (no folder names)."""
    try:
        histories = list(histories)
    except TypeError:
        histories = None
    if histories is None or not all(isinstance(h, History) for h in histories):
        validate.fail("histories", "a list of History objects", histories, TypeError)
    counts = {source: sum(h.source == source for h in histories) for source in ("trained", RUN_CACHE, COMMITTED)}
    return (f"{len(histories)} runs: {counts['trained']} trained, {counts[RUN_CACHE]} reused from the "
            f"run cache, {counts[COMMITTED]} loaded from the committed results")
