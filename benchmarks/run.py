"""`make bench`: ms per training step (forward + backward) of every recurrent implementation.

    .venv/bin/python benchmarks/run.py [--lengths 10 20 40] [--rounds 5] [--seconds 0.3]
                                       [--threads N] [--clock wall|cpu] [--rows TEXT ...]

Prints a Markdown table: for B=128, H=128, D=10 and each T, the time per step and the ratio to
`torch.nn.LSTM` / `torch.nn.RNN` measured in the same run; then the steps per second of one palindrome
training run (`bench_palindrome.py`) with the from-scratch models and their `torch.nn` baselines. The implementations are timed in
interleaved rounds and each keeps its fastest round, so a burst of load from another process
slows one round of every implementation rather than one implementation. `--threads 1 --clock cpu`
measures the CPU time of a single thread, which other processes disturb much less than the wall
time of two threads (see benchmarks/NOTES.md). `--rows RNN` times only the rows whose name contains
"RNN" (and the rows they are divided by).
"""
from __future__ import annotations

import argparse
import os
import platform
import sys
from pathlib import Path


def parse_arguments(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lengths", type=int, nargs="+", default=[10, 20, 40])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--seconds", type=float, default=0.3, help="time per implementation and round")
    parser.add_argument("--threads", type=int, default=None, help="threads for torch and BLAS (default: theirs)")
    parser.add_argument("--clock", choices=("wall", "cpu"), default="wall")
    parser.add_argument("--rows", nargs="+", default=None, metavar="TEXT",
                        help="only rows whose name contains one of these texts (default: all)")
    return parser.parse_args(argv)


ARGS = parse_arguments()
if ARGS.threads is not None:   # BLAS reads these when NumPy and torch are imported
    for variable in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[variable] = str(ARGS.threads)

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import torch  # noqa: E402

from bench_lenet import lenet_rows  # noqa: E402
from bench_lenet import markdown as lenet_table  # noqa: E402
from bench_palindrome import markdown as palindrome_table  # noqa: E402
from bench_palindrome import palindrome_rows  # noqa: E402
from steps import all_steps  # noqa: E402
from timing import CLOCKS, time_per_call  # noqa: E402

B, H, D = 128, 128, 10
def selected(steps: dict, rows) -> dict:
    """The rows of `steps` whose name contains one of the texts in `rows` (all when None), with their references."""
    if rows is None:
        return steps
    chosen = {name for name in steps if any(text in name for text in rows)}
    chosen |= {steps[name][0] for name in chosen}
    if not chosen:
        raise SystemExit(f"--rows: expected texts found in the row names {list(steps)}, got {rows}")
    return {name: step for name, step in steps.items() if name in chosen}


def measure(T: int, rounds: int, seconds: float, clock, rows=None) -> dict[str, tuple[str, float]]:
    """name -> (reference, fastest ms per step over `rounds` interleaved rounds) for length T."""
    steps = selected(all_steps(B, T, D, H), rows)
    for _, step in steps.values():   # warm-up: allocator, oneDNN primitives, BLAS threads
        step()
        step()
    best = {name: float("inf") for name in steps}
    for _ in range(rounds):
        for name, (_, step) in steps.items():
            best[name] = min(best[name], 1e3 * time_per_call(step, seconds, clock))
    return {name: (reference, best[name]) for name, (reference, _) in steps.items()}


def table(results: dict[int, dict[str, tuple[str, float]]]) -> str:
    lengths = sorted(results)
    header = "| implementation | " + " | ".join(f"T={T} ms | T={T} ratio" for T in lengths) + " |"
    lines = [header, "|" + " --- |" * (1 + 2 * len(lengths))]
    for name in results[lengths[0]]:
        cells = []
        for T in lengths:
            reference, ms = results[T][name]
            cells += [f"{ms:.1f}", f"{ms / results[T][reference][1]:.2f}x"]
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main(args: argparse.Namespace) -> int:
    if args.threads is not None:
        torch.set_num_threads(args.threads)
    clock = CLOCKS[args.clock]
    load_before = os.getloadavg()
    results = {T: measure(T, args.rounds, args.seconds, clock, args.rows) for T in args.lengths}
    load_after = os.getloadavg()
    print(f"Training step (forward + backward), B={B}, H={H}, D={D}; ratio to torch.nn.LSTM "
          f"(LSTM rows) or torch.nn.RNN (RNN rows) in the same run; fastest of {args.rounds} interleaved "
          f"rounds; {'wall-clock' if args.clock == 'wall' else 'CPU'} time.")
    print(f"Machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
          f"torch {torch.__version__} ({torch.get_num_threads()} threads); load average (1 min) "
          f"{load_before[0]:.1f} before, {load_after[0]:.1f} after.\n")
    print(table(results))
    if args.rows is None:
        print("\nOne palindrome training run (T=20, raw digits, hidden 128, batch 128, RMSProp, clipping, "
              "validation evaluation, one thread), steps per CPU second; fastest of 3 interleaved rounds:\n")
        print(palindrome_table(palindrome_rows()))
        print("\nLeNet training step (forward, backward, Adam), batch 64 of 8x8 digits, one thread, CPU time; "
              "fastest of 5 interleaved rounds:\n")
        print(lenet_table(lenet_rows()))
    return 0


if __name__ == "__main__":
    sys.exit(main(ARGS))
