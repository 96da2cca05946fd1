"""The clocks and the per-call timer shared by every benchmark of `make bench`."""
from __future__ import annotations

import time

CLOCKS = {"wall": time.perf_counter, "cpu": time.process_time}


def time_per_call(step, seconds: float, clock) -> float:
    """Seconds per call of `step` on `clock`, averaged over as many calls as fit in about `seconds`."""
    calls, start = 0, clock()
    while True:
        step()
        calls += 1
        elapsed = clock() - start
        if elapsed >= seconds and calls >= 3:
            return elapsed / calls
