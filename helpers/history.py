"""`History`: what one training run produced, as plain numbers (no torch import; JSON round trip).

`helpers.training.fit` fills it, `helpers.run_cache.cached` stores and reloads it, the `plots` draw it.
A run's story in one object:

    steps, loss, grad_norm   one entry per training step t = 1 … (loss of the batch, gradient norm before clipping)
    metrics                  name -> [(step, value), ...] from the validation evaluations
    stopped, message         why training ended (one of the STOP_* values) and a sentence naming step and value
    chosen_step, chosen_by   the step whose parameters the model holds when `fit` returns, and how it was chosen
                             ("best validation accuracy (max)" or "last step")
    final                    the validation metrics of the chosen step; callers add the numbers they
                             measure afterwards on the test set with `record_final(test_accuracy=…)`
"""
from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from typing import Any

from helpers import validate

STOP_STEPS = "steps"
STOP_TARGET = "early stop (target reached)"
STOP_NO_IMPROVEMENT = "early stop (no improvement)"
STOP_DIVERGED = "diverged"
STOP_REASONS = (STOP_STEPS, STOP_TARGET, STOP_NO_IMPROVEMENT, STOP_DIVERGED)
CHOSEN_LAST = "last step"
SOURCES = ("", "trained", "run cache", "committed results")


@dataclass
class History:
    """What a training run produced; JSON round trip with `to_json` / `from_json`.

    config       the configuration the run was made with (the run cache's key source)
    steps        step numbers t (1-based) of the recorded training steps
    loss         training loss of the batch at each recorded step
    grad_norm    global gradient norm before clipping at each recorded step
    metrics      name -> [(step, value), ...] from the evaluations (step 0: the untrained model)
    stopped      why training ended: "steps", "early stop (target reached)", "early stop (no
                 improvement)" (only with the opt-in plateau rule), "diverged" ("" while unfinished)
    message      a sentence explaining `stopped` (names the step and the value)
    elapsed      wall-clock seconds of training (kept when the run is reloaded)
    from_cache   True when the run was loaded (run cache or committed results) instead of trained
    final        name -> value at the end: `fit` puts the evaluated metrics of `chosen_step` here;
                 callers add JSON values they measure afterwards (`record_final`)
    chosen_step  the step whose parameters the model holds when `fit` returns (0: the initial ones;
                 None: not recorded)
    chosen_by    how `chosen_step` was chosen: "last step" or "best validation <metric> (max|min)"
    source       where this object came from: "trained", "run cache" or "committed results"
    """

    config: dict = field(default_factory=dict)
    steps: list[int] = field(default_factory=list)
    loss: list[float] = field(default_factory=list)
    grad_norm: list[float] = field(default_factory=list)
    metrics: dict[str, list[tuple[int, float]]] = field(default_factory=dict)
    stopped: str = ""
    message: str = ""
    elapsed: float = 0.0
    from_cache: bool = False
    final: dict[str, Any] = field(default_factory=dict)
    chosen_step: int | None = None
    chosen_by: str = ""
    source: str = ""

    @property
    def diverged(self) -> bool:
        """True when training stopped because the loss, the gradient or the parameters blew up."""
        return self.stopped == STOP_DIVERGED

    def metric(self, name: str) -> tuple[list[int], list[float]]:
        """(steps, values) of the evaluated metric `name`."""
        validate.choice("name", name, tuple(self.metrics))
        pairs = self.metrics[name]
        return [step for step, _ in pairs], [value for _, value in pairs]

    def last(self, name: str) -> float:
        """The most recent value of metric `name`."""
        return self.metric(name)[1][-1]

    def best(self, name: str, mode: str = "max") -> float:
        """The largest (mode "max") or smallest (mode "min") value of metric `name`."""
        validate.choice("mode", mode, ("max", "min"))
        values = self.metric(name)[1]
        return max(values) if mode == "max" else min(values)

    def record_final(self, **values) -> "History":
        """Add named results measured after training (e.g. ``test_accuracy=0.93``) to `final`.

        Values must be JSON values (numbers, strings, booleans, None, lists, dicts; numpy scalars
        are converted). Returns the history, so ``return history.record_final(...)`` works.
        """
        for name, value in values.items():
            self.final[name] = _json_value(f"final[{name!r}]", value)
        return self

    def round_numbers(self, significant: int = 8) -> "History":
        """Round the logged losses, gradient norms and metric values and every float in `final` to
        `significant` digits, the precision of the float32 numbers they come from (a stored run takes
        about half the bytes, and a run loaded from storage equals the one just trained). Returns the history."""
        significant = validate.integer("significant", significant, minimum=1)

        def rounded(value):
            if isinstance(value, float):
                return float(f"{value:.{significant}g}")
            if isinstance(value, list):
                return [rounded(item) for item in value]
            if isinstance(value, dict):
                return {name: rounded(item) for name, item in value.items()}
            return value

        self.loss, self.grad_norm, self.final = rounded(self.loss), rounded(self.grad_norm), rounded(self.final)
        self.metrics = {name: [(step, rounded(value)) for step, value in pairs] for name, pairs in self.metrics.items()}
        return self

    def to_dict(self) -> dict:
        """A plain dict of JSON types (metric pairs become two-element lists)."""
        data = asdict(self)
        data["metrics"] = {name: [list(pair) for pair in pairs] for name, pairs in self.metrics.items()}
        return data

    @classmethod
    def from_dict(cls, data: dict) -> "History":
        """Inverse of `to_dict`; ValueError/TypeError naming the field that is missing or wrong."""
        if not isinstance(data, dict):
            validate.fail("data", "a dict", data, TypeError)
        missing = [name for name in cls.__dataclass_fields__ if name not in data]
        if missing:
            raise ValueError(f"data: expected the History fields, got none for {', '.join(missing)}")
        steps = _list_of("steps", data["steps"], int)
        loss = _list_of("loss", data["loss"], float)
        grad_norm = _list_of("grad_norm", data["grad_norm"], float)
        if not len(steps) == len(loss) == len(grad_norm):
            raise ValueError(f"data: expected steps, loss and grad_norm of equal length, got "
                             f"{len(steps)}, {len(loss)}, {len(grad_norm)}")
        metrics = _dict_of("metrics", data["metrics"])
        pairs = {}
        for name, entries in metrics.items():
            entries = _list_of(f"metrics[{name!r}]", entries, list)
            if any(len(entry) != 2 for entry in entries):
                validate.fail(f"metrics[{name!r}]", "[step, value] pairs", entries)
            pairs[name] = list(zip(_list_of(f"metrics[{name!r}] steps", [e[0] for e in entries], int),
                                   _list_of(f"metrics[{name!r}] values", [e[1] for e in entries], float)))
        chosen_step = data["chosen_step"]
        if chosen_step is not None:
            chosen_step = _scalar("chosen_step", chosen_step, int)
        return cls(config=_dict_of("config", data["config"]), steps=steps, loss=loss,
                   grad_norm=grad_norm, metrics=pairs, stopped=_scalar("stopped", data["stopped"], str),
                   message=_scalar("message", data["message"], str),
                   elapsed=_scalar("elapsed", data["elapsed"], float),
                   from_cache=_scalar("from_cache", data["from_cache"], bool),
                   final=_dict_of("final", data["final"]), chosen_step=chosen_step,
                   chosen_by=_scalar("chosen_by", data["chosen_by"], str),
                   source=_scalar("source", data["source"], str))

    def to_json(self) -> str:
        """The history as a JSON string (NaN/inf losses of a diverged run are kept)."""
        return json.dumps(self.to_dict())

    @classmethod
    def from_json(cls, text: str) -> "History":
        """Inverse of `to_json`."""
        return cls.from_dict(json.loads(text))


def _scalar(name: str, value, kind: type):
    """`value` as `kind` (int, float, str or bool) without silent conversions of other types."""
    numeric = kind in (int, float)
    ok = (isinstance(value, kind) and not (numeric and isinstance(value, bool))) or \
        (kind is float and isinstance(value, int) and not isinstance(value, bool))
    if not ok:
        validate.fail(f"data[{name!r}]", f"a {kind.__name__}", value, TypeError)
    return kind(value)


def _list_of(name: str, value, kind: type) -> list:
    if not isinstance(value, list):
        validate.fail(f"data[{name!r}]", "a list", value, TypeError)
    if kind is list:
        if not all(isinstance(item, list) for item in value):
            validate.fail(f"data[{name!r}]", "a list of lists", value, TypeError)
        return value
    return [_scalar(name, item, kind) for item in value]


def _dict_of(name: str, value) -> dict:
    if not isinstance(value, dict) or not all(isinstance(key, str) for key in value):
        validate.fail(f"data[{name!r}]", "a dict with string keys", value, TypeError)
    return dict(value)


def _json_value(name: str, value):
    """`value` as JSON types (numpy scalars become numbers); TypeError naming `name` otherwise."""
    def convert(item):
        if hasattr(item, "item") and getattr(item, "ndim", None) == 0:  # numpy / torch scalars
            return item.item()
        raise TypeError(f"{name}: expected JSON values (numbers, strings, booleans, None, lists, dicts), "
                        f"got a {type(item).__name__}")
    return json.loads(json.dumps(value, default=convert))

