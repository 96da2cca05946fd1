"""helpers.framework.NeuralNetwork: training a small classifier, phases, regularization loss, save/load."""
from __future__ import annotations

import numpy as np
import pytest

from helpers.framework import (Adam, BatchNormalization, Constant, CrossEntropyLoss, Dropout,
                               FullyConnected, He, L2_Regularizer, NeuralNetwork, ReLU, Sgd, SoftMax,
                               TanH, UniformRandom, Xavier, load, save)


def blobs(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """n points in 2-D around three centres, with their integer labels."""
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 3, n)
    centres = np.array([[0.0, 2.0], [2.0, -1.0], [-2.0, -1.0]])
    return centres[labels] + 0.6 * rng.standard_normal((n, 2)), labels


class BlobData:
    """Data layer: `next()` returns a fresh batch of blobs and one-hot labels (its own generator)."""

    def __init__(self, batch_size: int, seed: int):
        self.batch_size = batch_size
        self.seed = seed

    def next(self):
        x, y = blobs(self.batch_size, self.seed)
        self.seed += 1
        return x, np.eye(3)[y]


def classifier(optimizer=None, dropout=False) -> NeuralNetwork:
    net = NeuralNetwork(optimizer or Adam(0.01, 0.9, 0.999), He(), Constant(0.1))
    net.data_layer = BlobData(32, seed=100)
    net.loss_layer = CrossEntropyLoss()
    for layer in [FullyConnected(2, 16), ReLU(), BatchNormalization(16)] + ([Dropout(0.8)] if dropout else []) + \
                 [FullyConnected(16, 3), SoftMax()]:
        net.append_layer(layer)
    return net


def accuracy(net: NeuralNetwork, seed: int = 7) -> float:
    x, y = blobs(500, seed)
    return float(np.mean(net.test(x).argmax(axis=1) == y))


def test_network_trains_a_small_classifier_to_high_accuracy():
    np.random.seed(0)
    net = classifier(dropout=True)
    net.train(1)
    before = accuracy(net)  # after one step: BatchNormalization needs a training batch for its averages
    net.train(149)
    after = accuracy(net)
    print(f"accuracy {before:.3f} -> {after:.3f}; loss {net.loss[0]:.2f} -> {np.mean(net.loss[-10:]):.2f}")
    assert len(net.loss) == 150
    assert before < 0.8 and after >= 0.95
    assert np.mean(net.loss[-10:]) < 0.3 * net.loss[0]


def test_append_layer_gives_each_trainable_layer_its_own_optimizer_and_initializes_it():
    optimizer = Sgd(0.1)
    net = NeuralNetwork(optimizer, Constant(0.25), Constant(-1.0))
    first, second, activation = FullyConnected(3, 2), FullyConnected(2, 2), TanH()
    for layer in (first, activation, second):
        net.append_layer(layer)
    assert net.layers == [first, activation, second]
    assert first.optimizer is not optimizer and second.optimizer is not optimizer
    assert first.optimizer is not second.optimizer and isinstance(first.optimizer, Sgd)
    np.testing.assert_array_equal(first.weights[:-1], 0.25)
    np.testing.assert_array_equal(first.weights[-1], -1.0)


def test_phase_sets_testing_phase_on_every_layer_and_train_test_switch_it():
    np.random.seed(1)
    net = classifier(dropout=True)
    net.phase = True
    assert all(layer.testing_phase for layer in net.layers)
    net.train(1)
    assert net.phase is False and not any(layer.testing_phase for layer in net.layers)
    x, _ = blobs(5, 3)
    first = net.test(x)
    assert net.phase is True and all(layer.testing_phase for layer in net.layers)
    np.testing.assert_array_equal(net.test(x), first)  # no dropout noise, no batch statistics


def test_forward_adds_the_regularization_loss_of_every_trainable_layer():
    np.random.seed(2)
    optimizer = Sgd(0.01)
    optimizer.add_regularizer(L2_Regularizer(0.05))
    net = classifier(optimizer)
    state = np.random.get_state()
    total = net.forward()
    net.data_layer.seed -= 1
    np.random.set_state(state)
    x, labels = net.data_layer.next()
    for layer in net.layers:
        x = layer.forward(x)
    data_loss = CrossEntropyLoss().forward(x, labels)
    trainable = [layer for layer in net.layers if layer.trainable]
    penalty = sum(0.05 * np.sum(layer.weights ** 2) for layer in trainable) + \
        sum(0.05 * np.sum(layer.bias ** 2) for layer in trainable if isinstance(layer, BatchNormalization))
    assert penalty > 0
    assert total == pytest.approx(data_loss + penalty, rel=1e-12)
    assert net.calculate_regularization_loss() == pytest.approx(penalty, rel=1e-12)


def test_save_and_load_round_trip(tmp_path):
    np.random.seed(3)
    net = classifier(dropout=True)
    net.train(20)
    x, _ = blobs(10, 4)
    expected = net.test(x)
    path = tmp_path / "net.pkl"
    net.data_layer = (batch for batch in [])  # a generator cannot be pickled: save must drop it
    save(path, net)
    assert net.data_layer is not None  # saving leaves the live network alone
    data = BlobData(32, seed=5)
    loaded = load(path, data)
    assert loaded.data_layer is data
    np.testing.assert_array_equal(loaded.test(x), expected)
    assert loaded.loss == net.loss
    for ours, theirs in zip(loaded.layers, net.layers):
        if ours.trainable:
            np.testing.assert_array_equal(ours.weights, theirs.weights)
            assert ours.optimizer is not theirs.optimizer and isinstance(ours.optimizer, Adam)
    loaded.train(2)  # the loaded network keeps training with its own optimizer state
    assert len(loaded.loss) == 22


def test_initializer_choice_reaches_the_layers():
    np.random.seed(4)
    for initializer in (UniformRandom(), Xavier(), He()):
        net = NeuralNetwork(Sgd(0.1), initializer, Constant(0.0))
        net.append_layer(FullyConnected(50, 40))
        np.testing.assert_array_equal(net.layers[0].weights[-1], 0.0)
        assert np.unique(net.layers[0].weights[:-1]).size == 50 * 40


# --- bad input ----------------------------------------------------------------------------------

def test_iterations_must_be_positive():
    with pytest.raises(ValueError, match="iterations"):
        classifier().train(0)


def test_phase_must_be_a_bool():
    with pytest.raises(TypeError, match="phase"):
        classifier().phase = "test"


@pytest.mark.parametrize("arguments, name", [
    ((0.1, He(), Constant()), "optimizer"),
    ((Sgd(0.1), "He", Constant()), "weights_initializer"),
    ((Sgd(0.1), He(), None), "bias_initializer"),
])
def test_network_arguments_must_follow_the_protocols(arguments, name):
    with pytest.raises(TypeError, match=name):
        NeuralNetwork(*arguments)


def test_append_layer_rejects_non_layers():
    with pytest.raises(TypeError, match="layer"):
        classifier().append_layer(np.ones(3))


def test_forward_without_data_layer():
    net = NeuralNetwork(Sgd(0.1), He(), Constant())
    with pytest.raises(RuntimeError, match="data_layer"):
        net.forward()


def test_save_rejects_other_objects(tmp_path):
    with pytest.raises(TypeError, match="net"):
        save(tmp_path / "x.pkl", [1, 2])


# --- a class where an instance belongs (issue 14) ---------------------------------------------------

@pytest.mark.parametrize("mistake, message", [
    (lambda: classifier().append_layer(ReLU), r"^layer: .*, got the class ReLU; pass an instance: ReLU\(\)$"),
    (lambda: setattr(FullyConnected(2, 3), "optimizer", Sgd),
     r"^optimizer: .*, got the class Sgd; pass an instance: Sgd\(learning_rate\)$"),
    (lambda: FullyConnected(2, 3).set_optimizer(Adam),
     r"^optimizer: .*, got the class Adam; pass an instance: Adam\(learning_rate\)$"),
    (lambda: Sgd(0.1).add_regularizer(L2_Regularizer),
     r"^regularizer: .*, got the class L2_Regularizer; pass an instance: L2_Regularizer\(alpha\)$"),
    (lambda: NeuralNetwork(Sgd, He(), Constant()), r"^optimizer: .*, got the class Sgd; pass an instance"),
    (lambda: NeuralNetwork(Sgd(0.1), He, Constant()),
     r"^weights_initializer: .*, got the class He; pass an instance: He\(\)$"),
    (lambda: FullyConnected(2, 3).initialize(He(), Constant),
     r"^bias_initializer: .*, got the class Constant; pass an instance: Constant\(\)$"),
    (lambda: BatchNormalization(3).initialize(Xavier, None), r"^weights_initializer: .*, got the class Xavier"),
])
def test_a_class_where_an_instance_belongs_is_a_type_error_that_says_pass_an_instance(mistake, message):
    with pytest.raises(TypeError, match=message):
        mistake()


# --- load: trusted files only (issue 14) ------------------------------------------------------------

class RunsACommand:
    """What a crafted pickle does: unpickling calls os.system."""

    def __init__(self, command):
        self.command = command

    def __reduce__(self):
        import os
        return os.system, (self.command,)


def test_load_refuses_a_crafted_pickle_before_it_runs_anything(tmp_path):
    import pickle

    marker = tmp_path / "ran"
    path = tmp_path / "crafted.pkl"
    path.write_bytes(pickle.dumps(RunsACommand(f"touch {marker}")))
    with pytest.raises(ValueError, match=r"^filename: expected a file written by save\(filename, net\), "
                                         r"got .*crafted.pkl that does not load as one "
                                         r"\(UnpicklingError: refused (posix|os|nt)\.system"):
        load(path, None)
    assert not marker.exists()


def test_load_refuses_a_function_of_the_framework_too(tmp_path):
    import pickle

    path = tmp_path / "calls_save.pkl"
    path.write_bytes(pickle.dumps(save))  # a global that is not a class
    with pytest.raises(ValueError, match=r"refused helpers\.framework\.network\.save"):
        load(path, None)


@pytest.mark.parametrize("content", [b"", b"not a pickle at all, just text\n", b"\x80\x05K"])
def test_a_file_that_is_not_a_saved_network_gets_a_clear_error(tmp_path, content):
    path = tmp_path / "other.pkl"
    path.write_bytes(content)
    with pytest.raises(ValueError, match=r"^filename: expected a file written by save\(filename, net\), "
                                         r"got .*other.pkl that does not load as one \("):
        load(path, None)


def test_a_truncated_save_gets_a_clear_error(tmp_path):
    path = tmp_path / "net.pkl"
    save(path, classifier())
    path.write_bytes(path.read_bytes()[:200])
    with pytest.raises(ValueError, match=r"^filename: .* that does not load as one \("):
        load(path, None)


@pytest.mark.parametrize("filename", [None, 3, ["net.pkl"]])
def test_save_and_load_need_a_path(filename):
    with pytest.raises(TypeError, match=r"^filename: expected a path \(str or pathlib.Path\), got "):
        load(filename, None)
    with pytest.raises(TypeError, match=r"^filename: expected a path"):
        save(filename, classifier())


def test_save_and_load_document_that_pickle_files_must_be_trusted():
    import helpers.framework.network as network

    assert "trust" in save.__doc__ and "Load only files you trust" in load.__doc__
    assert "runs it" in network.__doc__
