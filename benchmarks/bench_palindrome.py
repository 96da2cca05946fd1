"""Steps per second of one palindrome training run: the from-scratch models vs. the same loop on `torch.nn`.

    .venv/bin/python benchmarks/bench_palindrome.py [--length 20] [--steps 100] [--rounds 3]

`palindrome_rows()` returns the table rows (for `benchmarks/run.py`); run as a script it prints them
as a Markdown table. Every implementation trains with `helpers.palindromes.train` in the sheet's
setting (raw digit input, hidden 128, batch 128, RMSProp, clipping, validation evaluation, test
accuracy; one torch thread, `fit`'s rule) on the same seed; the loss reads out the last step only
(`last_step_output`), the baselines do the same with `nn.Linear` on `nn.LSTM`'s / `nn.RNN`'s last
hidden state. Speed is steps per second of CPU time of the whole run (one thread: on an idle core
this is the wall-clock rate; on a shared machine the wall clock measures the other processes too).
The rounds are interleaved and each implementation keeps its fastest round.
"""
from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import torch  # noqa: E402
from torch import nn  # noqa: E402

from helpers import palindromes  # noqa: E402
from helpers.data import DIGITS  # noqa: E402
from helpers.torch_lstm import LSTM, FastLSTM  # noqa: E402
from helpers.torch_rnn import ElmanRNN, FastElmanRNN  # noqa: E402

LSTM_BASELINE = "torch.nn.LSTM + read-out (baseline)"
RNN_BASELINE = "torch.nn.RNN + read-out (baseline)"
INPUT_SIZE, HIDDEN = 1, 128   # raw digits, the sheet's hidden size


class TorchBaseline(nn.Module):
    """A `torch.nn` recurrent layer (`nn.LSTM` or `nn.RNN`) and a read-out of its last hidden state."""

    def __init__(self, layer: nn.Module):
        super().__init__()
        self.layer = layer
        self.input_size = layer.input_size
        self.read_out = nn.Linear(layer.hidden_size, DIGITS)

    def last_step_output(self, x, state=None):
        hs, state = self.layer(x, state)
        return self.read_out(hs[:, -1]), state


class LastStepOfForward(nn.Module):
    """A teaching model (no `last_step_output` of its own): the last step of its full forward pass."""

    def __init__(self, model: nn.Module):
        super().__init__()
        self.model = model
        self.input_size = model.input_size

    def last_step_output(self, x, state=None):
        p, state = self.model(x, state)
        return p[:, -1], state


BUILDERS = {
    "lstm": {
        "FastLSTM (from scratch, used for training)": lambda: FastLSTM(INPUT_SIZE, HIDDEN, DIGITS),
        "LSTM (from scratch, teaching copy)": lambda: LastStepOfForward(LSTM(INPUT_SIZE, HIDDEN, DIGITS)),
        LSTM_BASELINE: lambda: TorchBaseline(nn.LSTM(INPUT_SIZE, HIDDEN, batch_first=True)),
    },
    "rnn": {
        "FastElmanRNN (from scratch, used for training)": lambda: FastElmanRNN(INPUT_SIZE, HIDDEN, DIGITS),
        "ElmanRNN (from scratch, teaching copy)": lambda: LastStepOfForward(ElmanRNN(INPUT_SIZE, HIDDEN, DIGITS)),
        RNN_BASELINE: lambda: TorchBaseline(nn.RNN(INPUT_SIZE, HIDDEN, batch_first=True)),
    },
}
BASELINES = {"lstm": LSTM_BASELINE, "rnn": RNN_BASELINE}


def palindrome_rows(length: int = 20, steps: int = 100, rounds: int = 3) -> list[dict]:
    """One row per implementation: name, steps per CPU second (fastest round), ratio to its `torch.nn` baseline."""
    rows = []
    for model, builders in BUILDERS.items():
        cfg = palindromes.config(length=length, model=model, max_steps=steps, eval_every=max(1, steps // 2),
                                 target_accuracy=1.0, seed=0)
        best = {name: 0.0 for name in builders}
        for _ in range(rounds):
            for name, build in builders.items():
                torch.manual_seed(0)
                start = time.process_time()
                history = palindromes.train(cfg, model=build())
                best[name] = max(best[name], history.steps[-1] / (time.process_time() - start))
        rows += [{"implementation": name, "length": length, "steps_per_s": rate,
                  "ratio_to_baseline": rate / best[BASELINES[model]]} for name, rate in best.items()]
    return rows


def markdown(rows: list[dict]) -> str:
    lines = ["| implementation | T | steps per CPU s | speed vs. its torch.nn baseline |", "| --- | --- | --- | --- |"]
    lines += [f"| {r['implementation']} | {r['length']} | {r['steps_per_s']:.1f} | {r['ratio_to_baseline']:.2f}x |"
              for r in rows]
    return "\n".join(lines)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--length", type=int, default=20)
    parser.add_argument("--steps", type=int, default=100)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args(argv)
    load = os.getloadavg()[0]
    rows = palindrome_rows(args.length, args.steps, args.rounds)
    print(f"Palindrome training run (B=128, H=128, raw digits, RMSProp, clipping, validation evaluation), "
          f"torch {torch.__version__} (one training thread); load average (1 min) "
          f"{load:.1f} before, {os.getloadavg()[0]:.1f} after.\n")
    print(markdown(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
