"""helpers.parallel: missing runs, no workers when a notebook replaced helpers' code, interrupts left to the notebook."""
from __future__ import annotations

import signal

import pytest

from helpers import parallel
from helpers.course import link


def never(config):
    raise AssertionError("nothing may be trained here")


def test_one_worker_only_reports_what_is_missing():
    assert parallel.train_missing(never, [1, 2, 3], workers=1, stored=lambda c: c == 2) == [True, False, True]


def test_nothing_trains_in_workers_when_a_notebook_replaced_helpers_code(monkeypatch, capsys):
    monkeypatch.setattr(link, "installed", {"helpers.palindromes.accuracy": object()})
    assert parallel.train_missing(never, [1, 2, 3], workers=2, stored=lambda c: False) == [True, True, True]
    assert "3 runs train in this process instead of 2 workers" in capsys.readouterr().out


@pytest.mark.parametrize("workers, error", [(0, ValueError), (-1, ValueError), (1.5, TypeError), ("2", TypeError)])
def test_bad_worker_counts_are_refused(workers, error):
    with pytest.raises(error, match="workers"):
        parallel.train_missing(never, [1], workers=workers, stored=lambda c: True)


def test_workers_leave_interrupts_to_the_notebook_process():
    """Jupyter interrupts (and stops) a kernel with SIGINT to its process group: a worker that took it
    would die with a traceback and break the pool. The workers ignore it."""
    handler = parallel._pool(2).submit(signal.getsignal, signal.SIGINT).result()
    assert handler == signal.SIG_IGN
