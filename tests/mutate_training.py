"""Mutation check of the training loop, run cache and results tests: each named, plausible bug is
injected into a temporary copy of `helpers/`, the tests that guard it run there, and they must fail.

    .venv/bin/python tests/mutate_training.py        # prints one line per bug; exit 1 if one is missed

Not collected by pytest (2 CPU-minutes; 7.5 min wall time on the busy 2-core machine); run it after
changing `helpers/training.py`, `helpers/run_cache.py`, `helpers/results.py` or their tests.
"""
from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TESTS = ["tests/test_training.py", "tests/test_history.py", "tests/test_run_cache.py",
         "tests/test_results_reproduce.py"]

# (bug, file, original text, mutated text)
MUTATIONS = [
    ("no finite-parameter check after an update", "training.py",
     "if not _all_finite(parameters):", "if False:"),
    ("fit trains on the caller's threads", "training.py",
     "    with single_threaded():\n        model.train()", "    if True:\n        model.train()"),
    ("best step not restored", "training.py", "        model.load_state_dict(best.state)\n", ""),
    ("ties and NaN take the later step", "training.py",
     "if not math.isnan(value) and (self.step is None or better):",
     "if self.step is None or better or value == self.value:"),
    ("divergence rule ignores its patience", "training.py",
     "return all(mean > limit for mean in window_means[-self.patience:])", "return window_means[-1] > limit"),
    ("plateau rule on by default", "training.py",
     "if self.patience is None or steps[-1] < self.min_steps:", "if steps[-1] < self.min_steps:"),
    ("weights hash not checked", "run_cache.py",
     '    if hashlib.sha256(data).hexdigest() != weights["sha256"]:', "    if False:"),
    ("format not checked", "run_cache.py",
     '    if record.get("format") != CACHE_FORMAT:', '    if record.get("format") not in (1, CACHE_FORMAT, 999):'),
    ("key without versions and threads", "run_cache.py",
     '"environment": environment()}, sort_keys=True)', "}, sort_keys=True)"),
    ("RecursionError of nested JSON not caught", "run_cache.py",
     "    except (ValueError, RecursionError) as error:  # UnicodeDecodeError",
     "    except (ValueError,) as error:  # UnicodeDecodeError"),
    ("write errors crash", "run_cache.py",
     '        except OSError as error:\n            print(f"could not store',
     '        except ImportError as error:\n            print(f"could not store'),
    ("quick mode reads results/", "run_cache.py", "    if results and not quick_mode():", "    if results:"),
    ("unset WORKBOOK_QUICK writes results/", "run_cache.py",
     "                      full_mode_declared()))", "                      True))"),
    ("NaN weights trusted", "run_cache.py",
     "        if np.issubdtype(value.dtype, np.inexact) and not np.isfinite(value).all():", "        if False:"),
    ("config not tied to its key", "run_cache.py", "        if not hashes_to_key:", "        if False:"),
    ("loss tolerance 1e-3 instead of 1e-6", "results.py",
     "            if not _close(a, b, LOSS_RTOL):", "            if not _close(a, b, 1e-3):"),
    ("final results not compared", "results.py",
     "        elif not _close(value, got[where], 0.0, FINAL_TOL * (1.0 + abs(value))):", "        elif False:"),
]


def caught(workdir: Path, module: str, original: str, mutated: str) -> bool:
    """Inject one bug into `workdir/helpers/<module>`, run the tests there, restore; True when they fail."""
    path = workdir / "helpers" / module
    source = path.read_text()
    if source.count(original) != 1:
        raise SystemExit(f"{module}: the text to mutate is not there exactly once: {original!r}")
    path.write_text(source.replace(original, mutated))
    try:
        run = subprocess.run([sys.executable, "-m", "pytest", "-q", "-x", "-p", "no:cacheprovider", *TESTS,
                              "-k", "not cheapest_committed and not corrupted_copy"],
                             cwd=workdir, capture_output=True, text=True)
    finally:
        path.write_text(source)
    return run.returncode != 0


def main() -> int:
    with tempfile.TemporaryDirectory(prefix="mutate-training-") as folder:
        workdir = Path(folder)
        for name in ("helpers", "tests"):
            shutil.copytree(ROOT / name, workdir / name, ignore=shutil.ignore_patterns("__pycache__"))
        shutil.copy(ROOT / "pyproject.toml", workdir)
        missed = 0
        for bug, module, original, mutated in MUTATIONS:
            ok = caught(workdir, module, original, mutated)
            missed += not ok
            print(f"{'caught' if ok else 'MISSED'}  {module:13s} {bug}", flush=True)
    print(f"{len(MUTATIONS) - missed} of {len(MUTATIONS)} injected bugs caught")
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
