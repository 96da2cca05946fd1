"""Train the missing runs of a sweep in worker processes (`run_many`, used by `palindromes` and `memory`).

Each worker trains a run through the run cache (`helpers.run_cache.cached`), which stores it; the
caller then loads every run in order. A run trains on one torch thread wherever it runs (`fit`'s rule),
so a worker and a direct call give the same numbers.
"""
from __future__ import annotations

import atexit
import concurrent.futures
import multiprocessing
import signal
from typing import Callable, Sequence

from helpers import validate
from helpers.course import link

_pools: dict[int, concurrent.futures.ProcessPoolExecutor] = {}


def _pool(workers: int) -> concurrent.futures.ProcessPoolExecutor:
    """The process pool with `workers` workers, started on first use and kept for later calls
    (starting a worker imports torch: seconds that a sweep would otherwise pay at every length)."""
    if workers not in _pools:
        _pools[workers] = concurrent.futures.ProcessPoolExecutor(
            workers, mp_context=multiprocessing.get_context("spawn"), initializer=_ignore_interrupts)
    return _pools[workers]


def _ignore_interrupts() -> None:
    """Worker start: an interrupt (Ctrl-C, or Jupyter's, which signals the kernel's whole process
    group) is for the notebook process. Its `map` then cancels the runs not yet started; the workers
    finish and store the runs they are training, and the pool stays usable (no traceback per worker)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)


@atexit.register
def _shut_pools_down() -> None:
    """Stop the worker processes before the interpreter tears its modules down."""
    for pool in _pools.values():
        pool.shutdown(wait=True, cancel_futures=True)
    _pools.clear()


def train_missing(store: Callable, configs: Sequence, *, workers: int, stored: Callable) -> list[bool]:
    """Which of `configs` were not stored before this call (`stored(config)` is False); with
    `workers` > 1 these are trained first, `store(config)` in each of `workers` processes (`store`
    must be picklable and store its run). The caller then loads (or, with one worker, trains) every run.

    When a notebook's own code replaced helpers objects (`helpers.course.link.installed`), nothing is
    trained here: a worker would import helpers afresh, without that code."""
    workers = validate.positive_int("workers", workers)
    missing = [not stored(c) for c in configs]
    to_train = [c for c, absent in zip(configs, missing) if absent]
    if workers > 1 and len(to_train) > 1 and link.installed:
        print(f"your code replaces helpers' {', '.join(sorted(link.installed))}; "
              f"{len(to_train)} runs train in this process instead of {workers} workers")
    elif workers > 1 and len(to_train) > 1:
        try:
            list(_pool(workers).map(store, to_train))
        except concurrent.futures.process.BrokenProcessPool:
            del _pools[workers]  # a worker died: start a fresh pool next time
            raise
    return missing


def run_many(run: Callable, store: Callable, configs: Sequence, *, workers: int, stored: Callable) -> list:
    """`run(config)` for every config, in order, after `train_missing` trained the missing ones in
    `workers` processes; `from_cache` is True only for the runs that were stored before this call."""
    missing = train_missing(store, configs, workers=workers, stored=stored)
    histories = [run(c) for c in configs]   # loads what the workers stored
    for history, trained_now in zip(histories, missing):
        if trained_now:
            history.from_cache, history.source = False, "trained"
    return histories
