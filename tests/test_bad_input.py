"""The bad-input walk of issue 14: every public entry point of `helpers` against a table of bad values.

One line per entry point: a name, a call taking keyword arguments, and for each argument its kind
(tests/bad_values.py), which brings the good value and the bad ones (wrong rank and shape, empty,
zero and negative sizes, NaN/inf, complex, bool, object, strings, classes instead of instances,
tensors with and without requires_grad, out-of-range labels and seeds). Every case must end in a
ValueError/TypeError whose message names the argument, or in the documented conversion (see
`bad_values`). A new entry point is one more line in ROWS.

    .venv/bin/python tests/test_bad_input.py [NAME_PREFIX ...]   # the counts of the walk and every failing case
"""
from __future__ import annotations

import copy
import dataclasses
import re
import signal
import sys
import tempfile
import warnings
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import ipywidgets  # noqa: E402
import nbformat  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
import helpers  # noqa: E402
from bad_values import (ERROR, EITHER, Arg, flag, floats, index, instance, labels, option, real,  # noqa: E402
                        seed, shape_tuple, size, text)
from helpers import (data, digits, gradcheck, history, memory, memory_numpy, numpy_lstm, numpy_rnn,  # noqa: E402
                     palindromes, parameter_counts, plots, run_cache, sine, sync, torch_lstm, torch_rnn, training,
                     validate, vanishing, widgets, workbook)
from helpers import framework as fw  # noqa: E402
from helpers.framework import base, conv, pooling  # noqa: E402
from helpers.framework import sigmoid as sigmoid_module  # noqa: E402
from helpers.export import pdf, preprocessors  # noqa: E402
from helpers.export.__main__ import main as export_main  # noqa: E402

OK = ("clear error", "valid conversion", "valid result")
CASE_SECONDS = 60  # a case that takes longer counts as hung


@dataclass
class Row:
    name: str
    call: Callable[..., Any]
    args: dict[str, Arg]
    names: dict[str, str] = field(default_factory=dict)  # the name the message uses, where it differs


# The experiments take their configuration as `cfg` or `c` and name it "config" in their messages.
CONFIG_ARGUMENT = {"cfg": "config", "c": "config"}


def row(entry: str, call: Callable[..., Any], /, *, names=None, **args: Arg) -> Row:
    prefix = entry.split(".")[0]
    config_names = CONFIG_ARGUMENT if prefix in ("memory", "palindromes", "sine", "digits") else {}
    return Row(entry, call, args, {**config_names, **(names or {})})


# --- good objects the rows call methods on ---------------------------------------------------------

@dataclass(frozen=True)
class Unbuilt:
    """A good value whose construction failed (an API moved): only the rows that use it fail."""

    error: Exception


def built(factory):
    """`factory()`, or `Unbuilt(error)` when the API it calls has moved."""
    try:
        return factory()
    except Exception as error:  # noqa: BLE001 (reported by the rows that use it)
        return Unbuilt(error)


def forwarded(layer, *inputs):
    """`layer` after one forward pass (so that backward has something to work on)."""
    layer.forward(*inputs)
    return layer


class Batches:
    def next(self):
        return np.ones((4, 3)), np.array([0, 1, 1, 0])


def trained_net():
    net = fw.NeuralNetwork(fw.Sgd(0.1), fw.He(), fw.Constant(0.1))
    net.append_layer(fw.FullyConnected(3, 2))
    net.append_layer(fw.SoftMax())
    net.data_layer, net.loss_layer = Batches(), fw.CrossEntropyLoss()
    return net


def saved_net() -> str:
    path = temporary_folder() / "net.pkl"
    fw.save(path, trained_net())
    return str(path)


def rnn_weights():
    rng = np.random.default_rng(0)
    return rng.standard_normal((3, 4)), rng.standard_normal((4, 4)), rng.standard_normal(4)


def lstm_weights():
    rng = np.random.default_rng(0)
    return rng.standard_normal((3, 16)), rng.standard_normal((4, 16)), rng.standard_normal(16)


def rnn_cache():
    Wx, Wh, b = rnn_weights()
    return numpy_rnn.rnn_forward(np.ones((2, 5, 3)), np.zeros((2, 4)), Wx, Wh, b)[1]


def rnn_step_cache():
    Wx, Wh, b = rnn_weights()
    return numpy_rnn.rnn_step_forward(np.ones((2, 3)), np.zeros((2, 4)), Wx, Wh, b)[1]


def lstm_cache():
    Wx, Wh, b = lstm_weights()
    return numpy_lstm.lstm_forward(np.ones((2, 5, 3)), np.zeros((2, 4)), Wx, Wh, b)[1]


def lstm_step_cache():
    Wx, Wh, b = lstm_weights()
    return numpy_lstm.lstm_step_forward(np.ones((2, 3)), np.zeros((2, 4)), np.zeros((2, 4)), Wx, Wh, b)[2]


def memory_params():
    return memory_numpy.init_parameters(3, 4, 3, seed=0)


def memory_grads():
    params = memory_params()
    return memory_numpy.loss_and_gradients(params, np.ones((2, 5, 3)), np.zeros((2, 5), dtype=int))[1]


def elman():
    torch.manual_seed(0)
    return torch_rnn.ElmanRNN(3, 4, 2)


def lstm_model():
    torch.manual_seed(0)
    return torch_lstm.LSTM(3, 4, 2)


def temporary_folder() -> Path:
    return Path(tempfile.mkdtemp(prefix="bad-input-"))


def notebook_file() -> Path:
    path = temporary_folder() / "n.ipynb"
    nbformat.write(nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell("# T")]), path)
    return path


def pdf_main(argv) -> int:
    """`python -m helpers.export ARGV`; argparse's exit (for --help or bad options) as its status."""
    try:
        return export_main(argv)
    except SystemExit as exit_:
        return exit_.code


def exported_name(path, authors) -> str:
    """The PDF's file name; without XeLaTeX the arguments are still checked (before the tools are)."""
    try:
        return pdf.export_pdf(path, temporary_folder(), authors=authors).pdf.name
    except RuntimeError as error:
        if "PDF export needs" not in str(error):
            raise
        return pdf.output_name(Path(path), authors or [])


def axes():
    fig, ax = plt.subplots()
    return ax


X23 = floats(2, 3)
PROBS = floats(4, 3, free=(0, 1), good=np.full((4, 3), 1 / 3))
SEQ = floats(5, 3, free=(0,))  # (T, input_size) for the framework's recurrent layers

# --- the table: one line per entry point ------------------------------------------------------------

ROWS = [
    # helpers, validate
    row("set_seed", lambda seed: helpers.set_seed(seed), seed=seed(generator=False)),
    row("validate.array", lambda value: validate.array("value", value), value=floats(2, 3, any_rank=True)),
    row("validate.positive_int", lambda value: validate.positive_int("value", value), value=size()),
    row("validate.non_negative_int", lambda value: validate.non_negative_int("value", value), value=size(0, 0)),
    row("validate.positive", lambda value: validate.positive("value", value), value=real()),
    row("validate.probability", lambda value: validate.probability("value", value), value=real(0.5, 0.0, 1.0)),
    row("validate.labels", lambda value: validate.labels("value", value, 3), value=labels((4,), 3, any_rank=True)),
    row("validate.rng", lambda value: validate.rng("value", value).random(), value=seed()),
    row("validate.seed", lambda value: validate.seed("value", value), value=seed(generator=False)),
    row("validate.choice", lambda value: validate.choice("value", value, ("a", "b")), value=option("a")),
    # data
    row("data.one_hot", lambda ids, num_classes: data.one_hot(ids, num_classes), ids=labels((4,), 3, any_rank=True),
        num_classes=size(3)),
    row("data.memory_chance_level", lambda num_symbols: data.memory_chance_level(num_symbols), num_symbols=size(8)),
    row("data.memory_task", lambda batch_size, to_remember_len, blank_separation_len, num_symbols, seed:
        data.memory_task(batch_size, to_remember_len, blank_separation_len, num_symbols=num_symbols, seed=seed),
        batch_size=size(4), to_remember_len=size(2), blank_separation_len=size(3, 0), num_symbols=size(5),
        seed=seed()),
    row("data.recall_accuracy", lambda predictions, targets: data.recall_accuracy(
        predictions, targets, np.ones((2, 3), dtype=bool)), predictions=labels((2, 3), 4, bounded=False),
        targets=labels((2, 3), 4, bounded=False)),
    row("data.palindrome_count", lambda length: data.palindrome_count(length), length=size(5)),
    row("data.PalindromeDataset", lambda length, size, seed, encoding: data.PalindromeDataset(
        length, size, seed=seed, encoding=encoding).tensors(), length=size(5, 2), size=size(6), seed=seed(),
        encoding=option("one_hot")),
    row("data.PalindromeDataset[index]", lambda index: data.PalindromeDataset(5, 6, seed=0)[index],
        index=index(2, 6)),
    row("data.shared_palindromes", lambda a: data.shared_palindromes(a, data.PalindromeDataset(5, 6, seed=1)),
        a=instance(data.PalindromeDataset(5, 6, seed=0))),
    row("data.palindrome_splits", lambda length, train_size, held_out_size, seed, disjoint: data.palindrome_splits(
        length, train_size, held_out_size, seed=seed, disjoint=disjoint)[0].tensors(), length=size(5, 2),
        train_size=size(6), held_out_size=size(4), seed=seed(), disjoint=flag()),
    row("data.sine_waves", lambda batch_size, length, step, seed: data.sine_waves(
        batch_size, length=length, step=step, seed=seed).inputs, batch_size=size(2), length=size(5),
        step=real(0.15), seed=seed()),
    row("data.random_sequences", lambda batch_size, seq_len, vocab_size, seed: data.random_sequences(
        batch_size, seq_len, vocab_size, seed=seed).inputs, batch_size=size(2), seq_len=size(3),
        vocab_size=size(4), seed=seed()),
]

ROWS += [
    # framework: layers
    row("FullyConnected", lambda input_size, output_size: fw.FullyConnected(input_size, output_size).weights,
        input_size=size(3), output_size=size(2)),
    row("FullyConnected.forward", lambda input_tensor: fw.FullyConnected(3, 2).forward(input_tensor),
        input_tensor=X23),
    row("FullyConnected.backward", lambda error_tensor: forwarded(fw.FullyConnected(3, 2), np.ones((4, 3)))
        .backward(error_tensor), error_tensor=floats(4, 2, free=())),
    row("FullyConnected.weights=", lambda weights: setattr(fw.FullyConnected(3, 2), "weights", weights),
        weights=floats(4, 2, free=())),
    row("FullyConnected.initialize", lambda weights_initializer, bias_initializer: fw.FullyConnected(3, 2)
        .initialize(weights_initializer, bias_initializer), weights_initializer=instance(fw.He()),
        bias_initializer=instance(fw.Constant(0.1))),
    row("FullyConnected.optimizer=", lambda optimizer: setattr(fw.FullyConnected(3, 2), "optimizer", optimizer),
        optimizer=instance(fw.Sgd(0.1), optional=True)),
    row("ReLU.forward", lambda input_tensor: fw.ReLU().forward(input_tensor), input_tensor=floats(2, 3, any_rank=True)),
    row("ReLU.backward", lambda error_tensor: forwarded(fw.ReLU(), np.ones((2, 3))).backward(error_tensor),
        error_tensor=floats(2, 3, free=())),
    row("TanH.forward", lambda input_tensor: fw.TanH().forward(input_tensor), input_tensor=floats(2, 3, any_rank=True)),
    row("TanH.backward", lambda error_tensor: forwarded(fw.TanH(), np.ones((2, 3))).backward(error_tensor),
        error_tensor=floats(2, 3, free=())),
    row("Sigmoid.forward", lambda input_tensor: fw.Sigmoid().forward(input_tensor),
        input_tensor=floats(2, 3, any_rank=True)),
    row("Sigmoid.backward", lambda error_tensor: forwarded(fw.Sigmoid(), np.ones((2, 3))).backward(error_tensor),
        error_tensor=floats(2, 3, free=())),
    row("SoftMax.forward", lambda input_tensor: fw.SoftMax().forward(input_tensor),
        input_tensor=floats(2, 3, free=(0, 1))),
    row("SoftMax.backward", lambda error_tensor: forwarded(fw.SoftMax(), np.ones((2, 3))).backward(error_tensor),
        error_tensor=floats(2, 3, free=())),
    row("Flatten.forward", lambda input_tensor: fw.Flatten().forward(input_tensor),
        input_tensor=floats(2, 3, 2, any_rank=True)),
    row("Flatten.backward", lambda error_tensor: forwarded(fw.Flatten(), np.ones((2, 3, 2))).backward(error_tensor),
        error_tensor=floats(2, 6, free=())),
    row("Dropout", lambda probability: fw.Dropout(probability).forward(np.ones((2, 3))),
        probability=real(0.5, 0.0, 1.0)),
    row("Dropout.forward", lambda input_tensor: fw.Dropout(0.5).forward(input_tensor),
        input_tensor=floats(2, 3, any_rank=True)),
    row("Dropout.backward", lambda error_tensor: forwarded(fw.Dropout(0.5), np.ones((2, 3))).backward(error_tensor),
        error_tensor=floats(2, 3, free=())),
    row("BatchNormalization", lambda channels: fw.BatchNormalization(channels).weights, channels=size(3)),
    row("BatchNormalization.forward", lambda input_tensor: fw.BatchNormalization(3).forward(input_tensor),
        input_tensor=floats(4, 3)),
    row("BatchNormalization.backward", lambda error_tensor: forwarded(fw.BatchNormalization(3), np.random.default_rng(
        0).standard_normal((4, 3))).backward(error_tensor), error_tensor=floats(4, 3, free=())),
    row("BatchNormalization.reformat", lambda tensor: fw.BatchNormalization(3).reformat(tensor),
        tensor=floats(2, 3, 2, 2, free=(0, 2, 3))),
    row("BatchNormalization.weights=", lambda weights: setattr(fw.BatchNormalization(3), "weights", weights),
        weights=floats(3, free=())),
    row("BatchNormalization.bias=", lambda bias: setattr(fw.BatchNormalization(3), "bias", bias),
        bias=floats(3, free=())),
    row("BatchNormalization.initialize", lambda weights_initializer: fw.BatchNormalization(3).initialize(
        weights_initializer, None), weights_initializer=instance(fw.He(), optional=True)),
    row("RNN", lambda input_size, hidden_size, output_size, bptt_length: fw.RNN(
        input_size, hidden_size, output_size, bptt_length).weights, input_size=size(3), hidden_size=size(4),
        output_size=size(2), bptt_length=size(2, optional=True)),
    row("RNN.forward", lambda input_tensor: fw.RNN(3, 4, 2).forward(input_tensor), input_tensor=SEQ),
    row("RNN.backward", lambda error_tensor: forwarded(fw.RNN(3, 4, 2), np.ones((5, 3))).backward(error_tensor),
        error_tensor=floats(5, 2, free=())),
    row("RNN.weights=", lambda weights: setattr(fw.RNN(3, 4, 2), "weights", weights), weights=floats(8, 4, free=())),
    row("RNN.memorize=", lambda memorize: setattr(fw.RNN(3, 4, 2), "memorize", memorize), memorize=flag()),
    row("RNN.optimizer=", lambda optimizer: setattr(fw.RNN(3, 4, 2), "optimizer", optimizer),
        optimizer=instance(fw.Adam(0.01), optional=True)),
    row("RNN.initialize", lambda weights_initializer: fw.RNN(3, 4, 2).initialize(weights_initializer, fw.Constant()),
        weights_initializer=instance(fw.Xavier())),
    row("LSTM", lambda input_size, hidden_size, output_size: fw.LSTM(input_size, hidden_size, output_size).weights,
        input_size=size(3), hidden_size=size(4), output_size=size(2)),
    row("LSTM.forward", lambda input_tensor: fw.LSTM(3, 4, 2).forward(input_tensor), input_tensor=SEQ),
    row("LSTM.backward", lambda error_tensor: forwarded(fw.LSTM(3, 4, 2), np.ones((5, 3))).backward(error_tensor),
        error_tensor=floats(5, 2, free=())),
    # framework: initializers, optimizers, regularizers, loss, network
    row("Constant", lambda value: fw.Constant(value).initialize((2, 3), 2, 3), value=real(0.1, None)),
    row("He.initialize", lambda weights_shape, fan_in, fan_out: fw.He().initialize(weights_shape, fan_in, fan_out),
        weights_shape=shape_tuple((2, 3)), fan_in=size(2), fan_out=size(3)),
    row("Xavier.initialize", lambda fan_in, fan_out: fw.Xavier().initialize((2, 3), fan_in, fan_out),
        fan_in=size(2), fan_out=size(3)),
    row("UniformRandom.initialize", lambda fan_in: fw.UniformRandom().initialize((2, 3), fan_in, 3), fan_in=size(2)),
    row("Sgd", lambda learning_rate: fw.Sgd(learning_rate).calculate_update(np.ones(3), np.ones(3)),
        learning_rate=real(0.1)),
    row("SgdWithMomentum", lambda learning_rate, momentum_rate: fw.SgdWithMomentum(learning_rate, momentum_rate)
        .calculate_update(np.ones(3), np.ones(3)), learning_rate=real(0.1), momentum_rate=real(0.9, 0.0, 1.0)),
    row("Adam", lambda learning_rate, mu, rho: fw.Adam(learning_rate, mu, rho).calculate_update(np.ones(3), np.ones(3)),
        learning_rate=real(0.1), mu=real(0.9, 0.0, 1.0), rho=real(0.999, 0.0, 1.0)),
    row("RMSProp", lambda learning_rate, rho: fw.RMSProp(learning_rate, rho).calculate_update(np.ones(3), np.ones(3)),
        learning_rate=real(0.1), rho=real(0.9, 0.0, 1.0)),
    row("Optimizer.calculate_update", lambda weight_tensor, gradient_tensor: fw.Adam(0.1).calculate_update(
        weight_tensor, gradient_tensor), weight_tensor=floats(2, 3, any_rank=True), gradient_tensor=X23),
    row("Optimizer.add_regularizer", lambda regularizer: fw.Sgd(0.1).add_regularizer(regularizer),
        regularizer=instance(fw.L2_Regularizer(0.1))),
    row("L2_Regularizer", lambda alpha: fw.L2_Regularizer(alpha).norm(np.ones(3)), alpha=real(0.1)),
    row("L2_Regularizer.calculate_gradient", lambda weights: fw.L2_Regularizer(0.1).calculate_gradient(weights),
        weights=floats(2, 3, any_rank=True)),
    row("L1_Regularizer.norm", lambda weights: fw.L1_Regularizer(0.1).norm(weights),
        weights=floats(2, 3, any_rank=True)),
    row("CrossEntropyLoss.forward", lambda prediction_tensor, label_tensor: fw.CrossEntropyLoss().forward(
        prediction_tensor, label_tensor), prediction_tensor=PROBS, label_tensor=labels((4,), 3, free=())),
    row("CrossEntropyLoss.backward", lambda label_tensor: forwarded(fw.CrossEntropyLoss(), np.full(
        (4, 3), 1 / 3), [0, 1, 2, 0]).backward(label_tensor), label_tensor=labels((4,), 3, free=())),
    row("NeuralNetwork", lambda optimizer, weights_initializer, bias_initializer: fw.NeuralNetwork(
        optimizer, weights_initializer, bias_initializer).layers, optimizer=instance(fw.Sgd(0.1), optional=True),
        weights_initializer=instance(fw.He()), bias_initializer=instance(fw.Constant())),
    row("NeuralNetwork.append_layer", lambda layer: fw.NeuralNetwork(fw.Sgd(0.1), fw.He(), fw.Constant())
        .append_layer(layer), layer=instance(fw.ReLU())),
    row("NeuralNetwork.train", lambda iterations: trained_net().train(iterations), iterations=size(1)),
    row("NeuralNetwork.test", lambda input_tensor: trained_net().test(input_tensor), input_tensor=X23),
    row("NeuralNetwork.phase=", lambda phase: setattr(trained_net(), "phase", phase), phase=flag()),
    row("framework.save", lambda net: fw.save(temporary_folder() / "n.pkl", net),
        net=instance(trained_net())),
    row("framework.load", lambda filename: fw.load(filename, None), filename=text(saved_net())),
]

ROWS += [
    # gradcheck
    row("gradcheck.rel_error", lambda a, b: gradcheck.rel_error(a, b), a=floats(2, 3, any_rank=True, detaches=True),
        b=floats(2, 3, free=(), detaches=True)),
    row("gradcheck.max_rel_error", lambda a, b: gradcheck.max_rel_error(a, b), a=floats(2, 3, free=(), detaches=True),
        b=floats(2, 3, free=(), detaches=True)),
    row("gradcheck.numerical_gradient", lambda x, h: gradcheck.numerical_gradient(
        lambda: float(np.sum(np.asarray(x) ** 2)), x, h), x=floats(2, 3, any_rank=True), h=real(1e-5)),
    row("gradcheck.numerical_gradient_array", lambda upstream: gradcheck.numerical_gradient_array(
        lambda: np.ones((2, 3)), np.ones(2), upstream), upstream=floats(2, 3, free=(), detaches=True)),
    row("gradcheck.layer_input_gradient", lambda layer, x, upstream: gradcheck.layer_input_gradient(
        layer, x, upstream), layer=instance(fw.TanH()), x=floats(2, 3, detaches=True),
        upstream=floats(2, 3, free=(), detaches=True)),
    row("gradcheck.layer_weights_gradient", lambda x, upstream, attribute: gradcheck.layer_weights_gradient(
        fw.FullyConnected(3, 2), x, upstream, attribute=attribute), x=floats(2, 3, detaches=True),
        upstream=floats(2, 2, free=(), detaches=True), attribute=text("weights")),
    row("gradcheck.check", lambda pairs, tolerance, title: gradcheck.check(pairs, tolerance, title),
        pairs=instance({"w": (np.ones(3), np.ones(3))}), tolerance=real(1e-7), title=text("t", optional=True)),
    row("gradcheck.check_layer", lambda layer, x, seed: gradcheck.check_layer(layer, x, seed=seed),
        layer=instance(fw.TanH()), x=floats(2, 3, any_rank=True, detaches=True), seed=seed()),
    # workbook, export
    row("workbook.save_figure", lambda fig, name: workbook.save_figure(fig, name, quick=True).name,
        fig=instance(plt.figure()), name=text("bad_input.png")),
    row("export.slug", lambda text_: pdf.slug(text_), names={"text_": "text"}, text_=text("Jörg")),
    row("export.checked_authors", lambda authors: pdf.checked_authors(authors), authors=instance(["Ada Lovelace"])),
    row("export.export_pdf", lambda path, authors: exported_name(path, authors), path=text(str(notebook_file())),
        authors=instance(["Ada Lovelace"], optional=True)),
    row("export.missing_characters", lambda latex_log: pdf.missing_characters(latex_log), latex_log=text("log")),
    row("export.is_widget_repr", lambda text_: preprocessors.is_widget_repr(text_), names={"text_": "text"},
        text_=text("VBox(children=())")),
]

RNN_W, LSTM_W = rnn_weights(), lstm_weights()
ROWS += [
    # numpy_rnn, numpy_lstm (batched CS231n-style code)
    row("numpy_rnn.rnn_step_forward", lambda x, prev_h, Wx, Wh, b: numpy_rnn.rnn_step_forward(x, prev_h, Wx, Wh, b)[0],
        x=floats(2, 3), prev_h=floats(2, 4, free=()), Wx=floats(3, 4, free=(0,)), Wh=floats(4, 4, free=()),
        b=floats(4, free=())),
    row("numpy_rnn.rnn_step_backward", lambda dnext_h: numpy_rnn.rnn_step_backward(dnext_h, rnn_step_cache()),
        dnext_h=floats(2, 4, free=())),
    row("numpy_rnn.rnn_forward", lambda x, h0: numpy_rnn.rnn_forward(x, h0, *RNN_W)[0], x=floats(2, 5, 3, free=(1,)),
        h0=floats(2, 4, free=())),
    row("numpy_rnn.rnn_backward", lambda dh: numpy_rnn.rnn_backward(dh, rnn_cache()), dh=floats(2, 5, 4, free=())),
    row("numpy_lstm.lstm_step_forward", lambda x, prev_h, prev_c, Wx, b: numpy_lstm.lstm_step_forward(
        x, prev_h, prev_c, Wx, LSTM_W[1], b)[:2], x=floats(2, 3), prev_h=floats(2, 4, free=()),
        prev_c=floats(2, 4, free=()), Wx=floats(3, 16, free=(0,)), b=floats(16, free=())),
    row("numpy_lstm.lstm_step_backward", lambda dnext_h, dnext_c: numpy_lstm.lstm_step_backward(
        dnext_h, dnext_c, lstm_step_cache()), dnext_h=floats(2, 4, free=()), dnext_c=floats(2, 4, free=())),
    row("numpy_lstm.lstm_forward", lambda x, h0, c0: numpy_lstm.lstm_forward(x, h0, *LSTM_W, c0=c0)[0],
        x=floats(2, 5, 3, free=(1,)), h0=floats(2, 4, free=()), c0=floats(2, 4, free=(), optional=True)),
    row("numpy_lstm.lstm_backward", lambda dh: numpy_lstm.lstm_backward(dh, lstm_cache()), dh=floats(2, 5, 4, free=())),
    # torch_rnn, torch_lstm (PyTorch from scratch)
    row("torch_rnn.ElmanRNN", lambda input_size, hidden_size, output_size: torch_rnn.ElmanRNN(
        input_size, hidden_size, output_size), input_size=size(3), hidden_size=size(4), output_size=size(2)),
    row("torch_rnn.ElmanRNN.forward", lambda x, h0: elman()(x, h0), x=floats(2, 5, 3, free=(1,), as_torch=True),
        h0=floats(2, 4, free=(), as_torch=True, optional=True)),
    row("torch_rnn.FastElmanRNN.forward", lambda x: torch_rnn.FastElmanRNN(3, 4, 2)(x),
        x=floats(2, 5, 3, free=(1,), as_torch=True)),
    row("torch_lstm.LSTM", lambda input_size, hidden_size, output_size, forget_bias: torch_lstm.LSTM(
        input_size, hidden_size, output_size, forget_bias), input_size=size(3), hidden_size=size(4),
        output_size=size(2), forget_bias=real(1.0, None)),
    row("torch_lstm.LSTM.forward", lambda x: lstm_model()(x), x=floats(2, 5, 3, free=(1,), as_torch=True)),
    row("torch_lstm.LSTM.forward(state)", lambda h0: lstm_model()(torch.ones(2, 5, 3), (h0, torch.zeros(2, 4))),
        h0=floats(2, 4, free=(), as_torch=True)),
    row("torch_lstm.FastLSTM.forward", lambda x: torch_lstm.FastLSTM(3, 4, 2)(x),
        x=floats(2, 5, 3, free=(1,), as_torch=True)),
    # vanishing
    row("vanishing.activation_derivative", lambda pre_activation, activation: vanishing.activation_derivative(
        pre_activation, activation), pre_activation=floats(2, 3, any_rank=True), activation=option("tanh")),
    row("vanishing.gradient_log_norms", lambda upstream, recurrent_weights, pre_activations:
        vanishing.gradient_log_norms(upstream, recurrent_weights, pre_activations), upstream=floats(4, free=()),
        recurrent_weights=floats(4, 4, free=()), pre_activations=floats(5, 4)),
    row("vanishing.gradient_decay", lambda steps, weight_scale, spread, hidden_size, trials, seed:
        vanishing.gradient_decay(steps, weight_scale, spread, hidden_size=hidden_size, trials=trials, seed=seed),
        steps=size(5), weight_scale=real(1.0), spread=real(1.0), hidden_size=size(4), trials=size(2), seed=seed()),
    row("vanishing.rms_derivative", lambda spread, activation: vanishing.rms_derivative(spread, activation),
        spread=real(1.0), activation=option("sigmoid")),
    row("vanishing.per_step_factor", lambda weight_scale, spread: vanishing.per_step_factor(weight_scale, spread),
        weight_scale=real(1.0), spread=real(1.0)),
    # memory_numpy (hand-written BPTT)
    row("memory_numpy.glorot_uniform", lambda seed: memory_numpy.glorot_uniform((3, 4), seed), seed=seed()),
    row("memory_numpy.init_parameters", lambda input_size, hidden_size, num_classes, seed: memory_numpy.init_parameters(
        input_size, hidden_size, num_classes, seed=seed), input_size=size(3), hidden_size=size(4),
        num_classes=size(3), seed=seed()),
    row("memory_numpy.softmax", lambda z: memory_numpy.softmax(z), z=floats(2, 3, any_rank=True)),
    row("memory_numpy.forward", lambda params, x, h0: memory_numpy.forward(params, x, h0)[0],
        params=instance(built(memory_params)), x=floats(2, 5, 3, free=(0, 1)), h0=floats(2, 4, free=(), optional=True)),
    row("memory_numpy.loss_and_gradients", lambda x, targets: memory_numpy.loss_and_gradients(
        memory_params(), x, targets), x=floats(2, 5, 3, free=(0, 1)), targets=labels((2, 5), 3, free=())),
    row("memory_numpy.clip_per_parameter", lambda grads, max_norm: memory_numpy.clip_per_parameter(grads, max_norm),
        grads=instance(built(memory_grads)), max_norm=real(1.0)),
    row("memory_numpy.clip_global", lambda max_norm: memory_numpy.clip_global(memory_grads(), max_norm),
        max_norm=real(1.0)),
    row("memory_numpy.global_norm", lambda grads: memory_numpy.global_norm(grads), grads=instance(built(memory_grads))),
    row("memory_numpy.sgd_step", lambda lr: memory_numpy.sgd_step(memory_params(), memory_grads(), lr), lr=real(0.1)),
    row("memory_numpy.predict", lambda x: memory_numpy.predict(memory_params(), x), x=floats(2, 5, 3, free=(0, 1))),
    row("memory_numpy.train_memory_rnn", lambda to_remember_len, gap, hidden_size, lr, steps, seed:
        memory_numpy.train_memory_rnn(to_remember_len=to_remember_len, gap=gap, hidden_size=hidden_size, lr=lr,
                                      steps=steps, eval_every=2, batch_size=4, held_out_size=8, seed=seed)[1].loss,
        to_remember_len=size(1), gap=size(1, 0), hidden_size=size(4), lr=real(0.1), steps=size(2), seed=seed()),
    # sine
    row("sine.config", lambda hidden_size, lr, seed: sine.config(hidden_size=hidden_size, lr=lr, seed=seed),
        hidden_size=size(4), lr=real(0.01), seed=seed(generator=False)),
    row("sine.build_model", lambda c: sine.build_model(c), c=instance({"hidden_size": 4})),
    row("sine.sequence_loss", lambda inputs, targets: sine.sequence_loss(sine.build_model({"hidden_size": 4}),
        inputs, targets), inputs=floats(2, 5, free=(0, 1), as_torch=True),
        targets=floats(2, 5, free=(), as_torch=True)),
    row("sine.continue_sine", lambda warmup, n: sine.continue_sine(sine.build_model({"hidden_size": 4}), warmup, n),
        warmup=floats(2, 5, free=(0, 1)), n=size(3)),
    row("sine.fit_sines", lambda samples, step: sine.fit_sines(samples, step), samples=floats(2, 5, free=(0, 1)),
        step=real(0.15)),
    # memory, palindromes (experiments: configs and the cheap entry points)
    row("memory.config", lambda hidden_size, lr, gap, seed: memory.config(hidden_size=hidden_size, lr=lr, gap=gap,
        seed=seed), hidden_size=size(4), lr=real(0.01), gap=size(3, 0), seed=seed(generator=False)),
    row("memory.build_model", lambda cfg: memory.build_model(cfg),
        cfg=instance(built(lambda: memory.config(hidden_size=4)))),
    row("memory.task_tensors", lambda batch_size, seed: memory.task_tensors(batch_size, memory.config(), seed),
        batch_size=size(3), seed=seed()),
    row("parameter_counts.rnn_parameter_count", lambda input_size, hidden_size, output_size:
        parameter_counts.rnn_parameter_count(input_size, hidden_size, output_size),
        input_size=size(3), hidden_size=size(4), output_size=size(2)),
    row("memory.hidden_state_gradient_norms", lambda x: memory.hidden_state_gradient_norms(
        memory.build_model(memory.config(hidden_size=4)), x), x=floats(2, 4, 11, free=(0, 1), as_torch=True)),
    row("palindromes.config", lambda length, lr, hidden_size, seed: palindromes.config(
        length=length, lr=lr, hidden_size=hidden_size, seed=seed), length=size(5, 3), lr=real(0.01),
        hidden_size=size(4), seed=seed(generator=False)),
    row("palindromes.build_model", lambda cfg: palindromes.build_model(cfg),
        cfg=instance(built(lambda: palindromes.config(hidden_size=4)))),
    row("palindromes.accuracy", lambda inputs, targets: palindromes.accuracy(palindromes.build_model(
        palindromes.config(hidden_size=4)), inputs, targets), inputs=floats(3, 4, 1, free=(1,), as_torch=True),
        targets=labels((3,), 10, free=())),
    row("memory.intervals_apart", lambda values, others: memory.intervals_apart(values, others),
        values=floats(5, low=0.0), others=floats(4, low=0.0)),
    row("palindromes.bootstrap_interval", lambda values, level, resamples, seed: palindromes.bootstrap_interval(
        values, level=level, resamples=resamples, seed=seed), values=floats(5, low=0.0), level=real(0.9, 0.0, 1.0), resamples=size(50),
        seed=seed(generator=False)),
    # training
    row("training.parameter_count", lambda model: training.parameter_count(model), model=instance(built(elman))),
    row("training.global_grad_norm", lambda parameters: training.global_grad_norm(parameters),
        parameters=instance(built(lambda: list(elman().parameters())))),
    row("training.clip_gradients", lambda max_norm, kind: training.clip_gradients(
        list(elman().parameters()), max_norm, kind), max_norm=real(1.0), kind=option("global")),
    row("training.make_optimizer", lambda name, lr, momentum: training.make_optimizer(
        name, elman().parameters(), lr, momentum).defaults["lr"], name=option("sgd"), lr=real(0.1),
        momentum=real(0.9, 0.0, 1.0)),
    row("training.EarlyStopping", lambda metric, target, patience, mode: training.EarlyStopping(
        metric, target, patience, mode=mode), metric=text("accuracy"), target=real(0.9, None, optional=True),
        patience=size(3, optional=True), mode=option("max")),
    # plots
    row("plots.new_figure", lambda ncols, nrows, width: plots.new_figure(
        ncols, nrows, width=width)[0].get_size_inches(),
        ncols=size(2), nrows=size(1), width=real(5.0)),
    row("plots.plot_loss", lambda ax, smooth: plots.plot_loss(ax, a_history(), smooth=smooth), ax=instance(axes()),
        smooth=size(1)),
    row("plots.plot_mean_spread", lambda x, values: plots.plot_mean_spread(axes(), x, values), x=floats(3, free=()),
        values=instance([np.ones(2), np.ones(2), np.ones(2)])),
    row("plots.mark_level", lambda y, label: plots.mark_level(axes(), y, label), y=real(0.5, None),
        label=text("chance")),
]


def tiny_palindromes():
    return palindromes.config(length=4, hidden_size=4, max_steps=2, batch_size=4, train_size=16, validation_size=4,
                              test_size=4, eval_every=1)


def tiny_memory():
    return memory.config(hidden_size=4, max_steps=2, batch_size=4, eval_every=1, validation_size=8, test_size=8,
                         gap=2)


def tiny_sine():
    return sine.config(hidden_size=4, max_steps=2, batch_size=4, eval_every=1)


def a_history():
    h = history.History()
    h.steps, h.loss, h.grad_norm, h.metrics = [1, 2], [1.0, 0.5], [1.0, 1.0], {"accuracy": [(1, 0.5), (2, 0.75)]}
    return h


def sgd(model):
    return torch.optim.SGD(model.parameters(), lr=0.1)


def fit_elman(steps, clip_norm, eval_every):
    model = elman()
    return training.fit(model, sgd(model), lambda step: torch.ones(2, 5, 3), lambda m, x: m(x)[0].pow(2).mean(),
                        steps, clip_norm=clip_norm, eval_every=eval_every, progress=False).loss


ROWS += [
    # more of validate and the framework
    row("validate.integer", lambda value: validate.integer("value", value, minimum=2), value=size(3, 2)),
    row("validate.real", lambda value: validate.real("value", value, low=-1.0, high=1.0), value=real(0.5, -1.0, 1.0)),
    row("validate.one_hot_labels", lambda value: validate.one_hot_labels("value", value, 3),
        value=floats(2, 3, good=np.eye(3)[[0, 2]], free=(0,))),
    row("validate.shape", lambda value: validate.shape("value", value, (None, 3)), value=instance(np.ones((2, 3)))),
    row("validate.text", lambda value: validate.text("value", value), value=text("a name")),
    row("framework.own_copy", lambda optimizer: base.own_copy(optimizer),
        optimizer=instance(fw.Sgd(0.1), optional=True)),
    row("framework.checked_initializer", lambda initializer: base.checked_initializer(initializer, "initializer"),
        initializer=instance(fw.He())),
    row("framework.error_like", lambda error_tensor: base.error_like(error_tensor, np.ones((2, 3))),
        error_tensor=floats(2, 3, free=())),
    row("framework.sigmoid", lambda x: sigmoid_module.sigmoid(x), x=floats(2, 3, any_rank=True)),
    row("LSTM.weights=", lambda weights: setattr(fw.LSTM(3, 4, 2), "weights", weights), weights=floats(8, 16, free=())),
    row("RecurrentLayer.checked_sequence", lambda input_tensor: fw.RNN(3, 4, 2).checked_sequence(input_tensor),
        input_tensor=SEQ),
    row("TrainableLayer.set_weights", lambda weights: fw.FullyConnected(3, 2).set_weights(weights),
        weights=floats(4, 2, free=())),
    row("Conv", lambda num_kernels: conv.Conv((1, 1), (2, 3, 3), num_kernels).weights, num_kernels=size(2)),
    row("Conv.forward", lambda input_tensor: conv.Conv((1, 1), (2, 3, 3), 2).forward(input_tensor),
        input_tensor=floats(2, 2, 4, 4, free=(0, 2, 3))),
    row("Pooling.forward", lambda input_tensor: pooling.Pooling((2, 2), (2, 2)).forward(input_tensor),
        input_tensor=floats(2, 2, 4, 4, free=(0, 1, 2, 3))),
    row("LeNet.build", lambda learning_rate, alpha: fw.LeNet.build(learning_rate=learning_rate, alpha=alpha).layers,
        learning_rate=real(5e-4), alpha=real(4e-4)),
    # numpy_lstm, torch models: the other public pieces
    row("numpy_lstm.sigmoid", lambda a: numpy_lstm.sigmoid(a), a=floats(2, 3, any_rank=True)),
    row("numpy_lstm.check_lstm_weights", lambda Wx, Wh, b: numpy_lstm.check_lstm_weights(Wx, Wh, b),
        Wx=floats(3, 16, free=(0,)), Wh=floats(4, 16, free=()), b=floats(16, free=())),
    row("torch_rnn.checked_sequence", lambda x: torch_rnn.checked_sequence("x", x, 3, torch.ones(1)),
        x=floats(2, 5, 3, free=(1,), as_torch=True)),
    row("torch_rnn.FastElmanRNN.last_step_output", lambda x: torch_rnn.FastElmanRNN(3, 4, 2).last_step_output(x),
        x=floats(2, 5, 3, free=(1,), as_torch=True)),
    row("torch_lstm.LSTM.gate_activity", lambda x: lstm_model().gate_activity(x),
        x=floats(2, 5, 3, free=(1,), as_torch=True)),
    row("torch_lstm.fused_gate_weights", lambda model, order: torch_lstm.fused_gate_weights(model, order),
        model=instance(built(lstm_model)), order=option("ifgo")),
    row("torch_lstm.nn_lstm_weights", lambda model: torch_lstm.nn_lstm_weights(model),
        model=instance(built(lstm_model))),
    # vanishing
    row("vanishing.decay_curves", lambda steps, weight_scales, spread: vanishing.decay_curves(
        steps, weight_scales, spread, hidden_size=4, trials=2), steps=size(4), weight_scales=floats(2, low=0.5),
        spread=real(1.0)),
    row("vanishing.autograd_gradient_norms", lambda upstream, recurrent_weights, pre_activations:
        vanishing.autograd_gradient_norms(upstream, recurrent_weights, pre_activations), upstream=floats(4, free=()),
        recurrent_weights=floats(4, 4, free=()), pre_activations=floats(5, 4)),
    # training, history, run cache
    row("training.fit", lambda steps, clip_norm, eval_every: fit_elman(steps, clip_norm, eval_every), steps=size(2),
        clip_norm=real(1.0, optional=True), eval_every=size(1)),
    row("training.EarlyStopping.check", lambda history_: training.EarlyStopping("accuracy", 0.9).check(history_),
        names={"history_": "history"}, history_=instance(built(a_history))),
    row("training.Divergence", lambda loss_factor, patience: training.Divergence(loss_factor, patience),
        loss_factor=real(10.0), patience=size(3)),
    row("history.History.best", lambda name, mode: a_history().best(name, mode), name=text("accuracy"),
        mode=option("max")),
    row("history.History.metric", lambda name: a_history().metric(name), name=text("accuracy")),
    row("run_cache.cache_key", lambda config: run_cache.cache_key(config), config=instance({"lr": 0.1, "version": 1})),
    row("run_cache.cached", lambda config, cache_dir: run_cache.cached(config, a_history, cache_dir, verbose=False,
        results=False).loss, config=instance({"lr": 0.1, "version": 1}),
        cache_dir=text(str(temporary_folder()), optional=True)),
    row("run_cache.reuse_summary", lambda histories: run_cache.reuse_summary(histories),
        histories=instance(built(lambda: [a_history()]))),
    # experiments: the rest of memory, palindromes, sine, digits
    row("memory.train", lambda cfg: memory.train(cfg).loss, cfg=instance(built(tiny_memory))),
    row("memory.sequence_codes", lambda symbols, num_symbols: memory.sequence_codes(symbols, num_symbols),
        symbols=labels((4, 2), 5), num_symbols=size(5)),
    row("memory.recall_per_position", lambda logits: memory.recall_per_position(logits, np.zeros((2, 3), dtype=int),
        np.ones((2, 3), dtype=bool)), logits=floats(2, 3, 4, free=(2,), as_torch=True)),
    row("parameter_counts.lstm_parameter_count", lambda input_size, hidden_size, output_size:
        parameter_counts.lstm_parameter_count(input_size, hidden_size, output_size),
        input_size=size(3), hidden_size=size(4), output_size=size(2)),
    row("parameter_counts.matching_rnn_hidden_size", lambda lstm_hidden_size:
        parameter_counts.matching_rnn_hidden_size(lstm_hidden_size, 11, 10), lstm_hidden_size=size(8)),
    row("palindromes.train", lambda cfg: palindromes.train(cfg).loss, cfg=instance(built(tiny_palindromes))),
    row("palindromes.as_config", lambda value: palindromes.as_config(value), names={"value": "config"},
        value=instance({"length": 5})),
    row("palindromes.last_step_logits", lambda inputs: palindromes.last_step_logits(palindromes.build_model(
        palindromes.config(hidden_size=4)), inputs), inputs=floats(3, 4, 1, free=(1,), as_torch=True)),
    row("palindromes.input_gradient_norms", lambda cfg, batch_size: palindromes.input_gradient_norms(cfg, batch_size),
        cfg=instance(built(tiny_palindromes)), batch_size=size(4)),
    row("palindromes.run", lambda cfg: palindromes.run(cfg, cache_dir=temporary_folder(), verbose=False).loss,
        cfg=instance(built(tiny_palindromes))),
    row("sine.train", lambda c: sine.train(c).loss, c=instance(built(tiny_sine))),
    row("sine.closed_loop_loss", lambda inputs, targets, teacher_steps: sine.closed_loop_loss(sine.build_model(
        {"hidden_size": 4}), inputs, targets, teacher_steps), inputs=floats(2, 5, free=(0, 1), as_torch=True),
        targets=floats(2, 5, free=(), as_torch=True), teacher_steps=size(2)),
    row("sine.teacher_steps_at", lambda step, length: sine.teacher_steps_at(tiny_sine(), step, length),
        step=size(1, 0), length=size(10)),
    row("sine.learning_rate", lambda step: sine.learning_rate(tiny_sine(), step), step=size(1, 0)),
    row("sine.held_out_curves", lambda count, seed: sine.held_out_curves(count, seed), count=size(3),
        seed=seed(generator=False)),
    row("sine.rnn_hidden_matching", lambda lstm_hidden: sine.rnn_hidden_matching(lstm_hidden), lstm_hidden=size(8)),
    row("sine.plot_across_seeds", lambda scores, ylabel: sine.plot_across_seeds(axes(), scores, ylabel=ylabel),
        scores=instance(built(lambda: {"a": [0.1, 0.2]})), ylabel=text("MSE")),
    row("digits.confusion_matrix", lambda labels_, predicted: digits.confusion_matrix(labels_, predicted),
        names={"labels_": "labels"}, labels_=labels((6,), 10, free=()), predicted=labels((6,), 10, free=())),
    row("digits.build_network", lambda c: digits.build_network(c).layers, c=instance(built(lambda: digits.config()))),
    # plots, widgets, workbook, sync
    row("plots.plot_metric", lambda name: plots.plot_metric(axes(), a_history(), name), name=text("accuracy")),
    row("plots.plot_runs", lambda histories: plots.plot_runs(axes(), histories),
        histories=instance(built(lambda: {"a": a_history()}))),
    row("plots.plot_grad_norm", lambda clip_norm: plots.plot_grad_norm(axes(), a_history(), clip_norm=clip_norm),
        clip_norm=real(1.0, optional=True)),
    row("widgets.panel", lambda title, on_run: widgets.panel(title, {"n": ipywidgets.IntSlider(value=2)}, on_run),
        title=text("Panel"), on_run=instance(lambda values, output: None)),
    row("widgets.show_figure", lambda fig: widgets.show_figure(fig), fig=instance(plt.figure())),
    row("workbook.figure_dir", lambda quick: workbook.figure_dir(quick).name.startswith("rnn-workbook"),
        quick=flag(True, optional=True)),
    row("sync.marked_names", lambda cell_source: sync.marked_names(cell_source),
        cell_source=text("# sync: helpers.numpy_rnn.rnn_step_forward\n")),
    row("sync.resolve", lambda dotted: sync.resolve(dotted), dotted=text("helpers.numpy_rnn.rnn_step_forward")),
    row("export.output_name", lambda notebook, authors: pdf.output_name(notebook, authors),
        notebook=instance(Path("n.ipynb")), authors=instance(["Ada Lovelace"])),
    row("export.notebook_authors", lambda notebook: pdf.notebook_authors(notebook),
        notebook=instance(nbformat.v4.new_notebook(metadata={"authors": [{"name": "Ada"}]}))),
    row("export.main", lambda argv: pdf_main(argv), argv=instance(["--help"], optional=True)),
    row("Conv.backward", lambda error_tensor: forwarded(conv.Conv((1, 1), (2, 3, 3), 2), np.ones((2, 2, 4, 4)))
        .backward(error_tensor), error_tensor=floats(2, 2, 4, 4, free=())),
    row("Pooling", lambda stride_shape, pooling_shape: pooling.Pooling(stride_shape, pooling_shape).forward(
        np.ones((1, 1, 4, 4))), stride_shape=shape_tuple((2, 2)), pooling_shape=shape_tuple((2, 2))),
    row("Pooling.backward", lambda error_tensor: forwarded(pooling.Pooling((2, 2), (2, 2)), np.random.default_rng(0)
        .standard_normal((2, 2, 4, 4))).backward(error_tensor), error_tensor=floats(2, 2, 2, 2, free=())),
    row("run_cache.is_cached", lambda config, cache_dir: run_cache.is_cached(config, cache_dir, results=False),
        config=instance({"lr": 0.1, "version": 1}), cache_dir=text(str(temporary_folder()), optional=True)),
    row("run_cache.canonical_config", lambda config: run_cache.canonical_config(config),
        config=instance({"lr": 0.1, "version": 1})),
    row("memory.compared_configs", lambda hidden_size, lr: memory.compared_configs(hidden_size=hidden_size, lr=lr),
        hidden_size=size(8), lr=real(0.01)),
    row("palindromes.splits", lambda cfg: palindromes.splits(cfg), cfg=instance(built(tiny_palindromes))),
    row("sine.continuation_errors", lambda model: sine.continuation_errors(model),
        model=instance(built(lambda: sine.build_model({"hidden_size": 4})))),
    row("digits.probabilities", lambda images, batch: digits.probabilities(digits.build_network(digits.config()),
        images, batch), images=floats(3, 1, 8, 8, free=(0,), low=0.0), batch=size(2)),
    row("export.without_progress_bars", lambda text_: preprocessors.without_progress_bars(text_),
        names={"text_": "text"}, text_=text("a\rb")),
]


# --- the walk ----------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Outcome:
    entry: str
    argument: str
    case: str
    kind: str  # one of OK, or what went wrong
    detail: str = ""

    @property
    def ok(self) -> bool:
        return self.kind in OK


class Hung(Exception):
    pass


def _alarm(signum, frame):
    raise Hung(f"no answer within {CASE_SECONDS} s")


def invoke(entry: Row, arguments: dict):
    """(result, None, warnings) or (None, exception, warnings) for one call, seeded, with a time limit."""
    helpers.set_seed(0)
    previous = signal.signal(signal.SIGALRM, _alarm)
    signal.alarm(CASE_SECONDS)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            return entry.call(**copy.deepcopy(arguments)), None, caught
        except Hung:
            raise
        except Exception as error:  # noqa: BLE001 (every exception is classified below)
            return None, error, caught
        finally:
            signal.alarm(0)
            signal.signal(signal.SIGALRM, previous)
            plt.close("all")


def leaves(value, depth: int = 0):
    """The arrays and numbers inside a result (tuples, lists, dicts, dataclasses, modules, objects)."""
    if depth > 4:
        return
    if isinstance(value, torch.nn.Module):
        value = value.state_dict()
    if isinstance(value, torch.Tensor):
        yield value.detach().cpu()
    elif isinstance(value, (np.ndarray, np.generic, float, int, complex, bool, str, type(None))):
        yield value
    elif isinstance(value, dict):
        for key in sorted(value, key=str):
            yield from leaves(value[key], depth + 1)
    elif isinstance(value, (list, tuple)):
        for item in value:
            yield from leaves(item, depth + 1)
    elif dataclasses.is_dataclass(value):
        yield from leaves(vars(value), depth + 1)
    elif hasattr(value, "__dict__") and not isinstance(value, type):
        yield from leaves({k: v for k, v in vars(value).items() if not k.startswith("__")}, depth + 1)
    else:
        yield type(value).__name__


def unclean(result) -> str:
    """What makes a result suspect: a complex or float16 array, or a NaN; '' when clean."""
    for leaf in leaves(result):
        array = leaf.numpy() if isinstance(leaf, torch.Tensor) else leaf
        if isinstance(array, (np.ndarray, np.generic, float, complex)):
            array = np.asarray(array)
            if np.iscomplexobj(array):
                return f"complex result ({array.dtype})"
            if array.dtype == np.float16:
                return "float16 result"
            if np.issubdtype(array.dtype, np.floating) and np.isnan(array).any():
                return "NaN in the result"
    return ""


def same(a, b) -> bool:
    """Equal results: the same structure and exactly the same values (a bool or int array equals the
    float array of the same values: a conversion may keep the integer dtype, not change a value)."""
    left, right = list(leaves(a)), list(leaves(b))
    if len(left) != len(right):
        return False
    for x, y in zip(left, right):
        numeric = (torch.Tensor, np.ndarray, np.generic, int, float)
        if isinstance(x, numeric) and isinstance(y, numeric):
            x = x.numpy() if isinstance(x, torch.Tensor) else np.asarray(x)
            y = y.numpy() if isinstance(y, torch.Tensor) else np.asarray(y)
            if x.shape != y.shape or not np.array_equal(x.astype(np.float64), y.astype(np.float64)):
                return False
        elif x != y or type(x) is not type(y):
            return False
    return True


SUSPECT_WARNINGS = (RuntimeWarning, np.exceptions.ComplexWarning)


def suspect_warning(caught) -> str:
    for w in caught:
        if issubclass(w.category, SUSPECT_WARNINGS) or "complex" in str(w.message).lower() \
                or "imaginary" in str(w.message).lower():
            return f"{w.category.__name__}: {str(w.message)[:80]}"
    return ""


CLEAR_ERRORS = (ValueError, TypeError, FileNotFoundError, IndexError)  # IndexError: an index out of range
# A shape that no longer fits the other arguments may be reported under the name of one of them.
SHAPE_CASES = ("rank+1", "rank-1", "wrong shape", "empty")


def names_an_argument(entry: Row, name: str, case, message: str) -> bool:
    """The message names the argument as the house style does: ``name: expected ...`` (also
    ``name[0]: ...``, ``name['w'] analytic: ...``, ``layer.weights: ...`` inside a longer message)."""
    shown = [entry.names.get(name, name)]
    if case.label in SHAPE_CASES:
        shown += [entry.names.get(other, other) for other in entry.args if other != name]
    return any(re.search(rf"(^|[\s(`'\"]){re.escape(n)}(\[[^\]]*\])?( \w+)?:", message) for n in shown)


def classify(entry: Row, name: str, case, goods: dict) -> Outcome:
    label = case.label
    result, error, caught = invoke(entry, {**goods, name: case.value})
    if error is not None:
        message = str(error)
        if isinstance(error, CLEAR_ERRORS) and names_an_argument(entry, name, case, message):
            return Outcome(entry.name, name, label, "clear error")
        return Outcome(entry.name, name, label, "unclear error", f"{type(error).__name__}: {message[:160]}")
    if case.expect == ERROR:
        return Outcome(entry.name, name, label, "accepted", repr(result)[:120])
    problem = unclean(result) or suspect_warning(caught)
    if problem:
        return Outcome(entry.name, name, label, "suspect result", problem)
    if case.expect == EITHER:
        return Outcome(entry.name, name, label, "valid result")
    expected, expected_error, _ = invoke(entry, {**goods, name: case.converted})
    if expected_error is None and same(result, expected):
        return Outcome(entry.name, name, label, "valid conversion")
    return Outcome(entry.name, name, label, "wrong conversion", f"{repr(result)[:80]} != {repr(expected)[:80]}")


def walk(entry: Row) -> list[Outcome]:
    """Every case of every argument of `entry`; a first Outcome 'good call fails' when the row is stale."""
    goods = {name: arg.good for name, arg in entry.args.items()}
    unbuilt = [good.error for good in goods.values() if isinstance(good, Unbuilt)]
    if unbuilt:
        error = unbuilt[0]
        return [Outcome(entry.name, "-", "good values", "good call fails", f"{type(error).__name__}: {error}")]
    result, error, _ = invoke(entry, goods)
    if error is not None:
        return [Outcome(entry.name, "-", "good values", "good call fails", f"{type(error).__name__}: {error}")]
    return [classify(entry, name, case, goods) for name, arg in entry.args.items() for case in arg.cases]


# Rows that fail in modules other engineers own (issue 14 session): strict xfails, so a fix turns the
# row red until its line here is deleted.
KNOWN_FAILURES = {
}


def row_params():
    return [pytest.param(entry, id=entry.name, marks=[pytest.mark.xfail(strict=True, reason=KNOWN_FAILURES[entry.name])]
                         if entry.name in KNOWN_FAILURES else []) for entry in ROWS]


def test_every_row_names_a_distinct_entry_point():
    names = [entry.name for entry in ROWS]
    assert len(names) == len(set(names)), [n for n in names if names.count(n) > 1]
    assert set(KNOWN_FAILURES) <= set(names)


@pytest.mark.parametrize("entry", row_params())
def test_bad_input(entry):
    failures = [o for o in walk(entry) if not o.ok]
    assert not failures, "\n".join(f"{o.argument} = {o.case}: {o.kind} ({o.detail})" for o in failures)


# --- the findings of issue 14 that cross modules (the others are tested beside their code) -------------

def test_finding_1_complex_input_is_a_type_error_in_numpy_and_torch_entry_points():
    with pytest.raises(TypeError, match="^input_tensor: expected a real-valued array, got an array of shape "
                                        r"\(2, 2\) and dtype complex128$"):
        fw.TanH().forward(np.ones((2, 2)) + 0.5j)
    for model in (torch_rnn.ElmanRNN(1, 3, 1), torch_rnn.FastElmanRNN(1, 3, 1), torch_lstm.LSTM(1, 3, 1),
                  torch_lstm.FastLSTM(1, 3, 1)):
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # no "casting discards the imaginary part" warning either
            with pytest.raises(TypeError, match=r"^x: expected real values \(not complex\), got a Tensor"):
                model(torch.ones(2, 4, 1, dtype=torch.complex64))


def test_finding_2_a_tensor_that_requires_grad_is_rejected_by_numpy_code_and_taken_by_torch_code():
    x = torch.ones(2, 3, dtype=torch.float64, requires_grad=True)
    with pytest.raises(TypeError, match=r"^input_tensor: .*\(call \.detach\(\) first\), "
                                        r"got a Tensor .* requires grad$"):
        fw.ReLU().forward(x)
    np.testing.assert_array_equal(fw.ReLU().forward(x.detach()), np.ones((2, 3)))
    output, _ = torch_rnn.ElmanRNN(3, 4, 2)(x[None])
    assert output.requires_grad


def test_the_walk_classifies_a_broken_entry_point_as_failing():
    """The walk itself can fail: an entry point that accepts everything, or crashes unclearly, is caught."""
    silent = row("silent", lambda value: np.asarray(value, dtype=object).shape, value=floats(2, 3))
    crashing = row("crashing", lambda value: value if type(value) is int else value.missing, value=size(3))
    assert "accepted" in {o.kind for o in walk(silent)}
    assert "unclear error" in {o.kind for o in walk(crashing)}
    assert all(o.ok for o in walk(row("checked", lambda value: validate.positive_int("value", value), value=size())))


def main(prefixes: list[str]) -> int:
    """Walk the rows whose names start with one of `prefixes` (all rows without any); print the counts."""
    counts, failing = Counter(), []
    arguments = 0
    rows = [entry for entry in ROWS if not prefixes or entry.name.startswith(tuple(prefixes))]
    for entry in rows:
        outcomes = walk(entry)
        arguments += len(entry.args)
        counts.update(o.kind for o in outcomes)
        failing += [o for o in outcomes if not o.ok]
    total = sum(counts.values())
    print(f"entry points: {len(rows)}   arguments: {arguments}   cases: {total}")
    for kind, count in counts.most_common():
        print(f"  {kind:<18} {count:5d}")
    for o in failing:
        print(f"FAIL {o.entry}: {o.argument} = {o.case}: {o.kind} ({o.detail})")
    return 1 if failing else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
