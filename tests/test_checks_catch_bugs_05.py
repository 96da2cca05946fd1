"""Notebook 05's check cells reject plausible bugs (mutation test, see tests/check_mutation.py).

The bugs are injected into the notebook's teaching copies of `last_step_logits` and `accuracy`
(check:readout) and of `train` (check:train). Every bug here fails only its own check when the notebook
runs against the stubbed helpers; a read-out of the wrong shape (every step's logits, the hidden state)
is caught by check:readout as well, but it also breaks `train`, which calls it, so it is not listed.
"""
from __future__ import annotations

from check_mutation import Bug, mutation_tests
from conftest import ROOT

NOTEBOOK = ROOT / "notebooks" / "05_palindromes.ipynb"
LOGITS = "return model.last_step_output(inputs)[0]"
ACCURACY = "return float((last_step_logits(model, inputs).argmax(dim=1) == targets).float().mean())"
LOSS = "return F.cross_entropy(last_step_logits(model, batch[0]), batch[1])"

BUGS = [
    # check:readout: the last step's logits and the accuracy
    Bug("logits of the first step", LOGITS, "return model(inputs)[0][:, 0]", "readout", "LAST step"),
    Bug("logits averaged over the steps", LOGITS, "return model(inputs)[0].mean(dim=1)", "readout", "LAST step"),
    Bug("accuracy as a count", ACCURACY,
        "return float((last_step_logits(model, inputs).argmax(dim=1) == targets).float().sum())", "readout",
        "fraction"),
    Bug("arg-min instead of arg-max", ACCURACY,
        "return float((last_step_logits(model, inputs).argmin(dim=1) == targets).float().mean())", "readout",
        "fraction"),
    Bug("mean probability of the target", ACCURACY,
        "return float(torch.softmax(last_step_logits(model, inputs), dim=1)[torch.arange(len(targets)), "
        "targets].mean())", "readout", "fraction"),
    Bug("accuracy as a tensor", ACCURACY,
        "return (last_step_logits(model, inputs).argmax(dim=1) == targets).float().mean()", "readout",
        "Python float"),
    # check:train: the training loss (eq. 2) and the recorded test accuracy
    Bug("softmax before the cross-entropy", LOSS,
        "return F.cross_entropy(torch.softmax(last_step_logits(model, batch[0]), dim=1), batch[1])", "train",
        r"eq\. \(2\)"),
    Bug("loss summed over the batch", LOSS,
        'return F.cross_entropy(last_step_logits(model, batch[0]), batch[1], reduction="sum")', "train",
        r"eq\. \(2\)"),
    Bug("negative log-likelihood of the raw logits", LOSS,
        "return F.nll_loss(last_step_logits(model, batch[0]), batch[1])", "train", r"eq\. \(2\)"),
    Bug("loss on the first step's logits", LOSS, "return F.cross_entropy(model(batch[0])[0][:, 0], batch[1])",
        "train", r"eq\. \(2\)"),
    Bug("loss on every step", LOSS,
        "return F.cross_entropy(model(batch[0])[0].transpose(1, 2), batch[1][:, None].expand(-1, batch[0].shape[1]))",
        "train", r"eq\. \(2\)"),
    Bug("squared error on one-hot targets", LOSS,
        "return F.mse_loss(torch.softmax(last_step_logits(model, batch[0]), dim=1), "
        "F.one_hot(batch[1], DIGITS).float())", "train", r"eq\. \(2\)"),
    Bug("test accuracy measured on the validation set", "test_accuracy=accuracy(model, *data.test.tensors())",
        "test_accuracy=accuracy(model, *data.validation.tensors())", "train", "test_accuracy"),
]


outcomes, test_check_catches_bug, test_every_check_is_tried_with_five_bugs = mutation_tests(NOTEBOOK, BUGS)
