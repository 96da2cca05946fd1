"""LeNet.build(): the course's architecture and training setup, the regularization loss of the whole
network, the composite backward against finite differences, save/load, and bad arguments."""
from __future__ import annotations

import numpy as np
import pytest

from helpers import gradcheck
from helpers.framework import (Adam, BatchNormalization, Constant, Conv, Dropout, FullyConnected, He,
                               L1_Regularizer, L2_Regularizer, LeNet, Pooling, SoftMax, load, save)


class FixedBatch:
    def __init__(self, images, labels):
        self.images, self.labels = images, labels

    def next(self):
        return self.images, self.labels


def digit_batch(size=8, seed=0):
    rng = np.random.default_rng(seed)
    return rng.random((size, 1, 8, 8)), np.eye(10)[rng.integers(0, 10, size)]


def test_build_is_the_course_lenet_for_8x8_digits():
    np.random.seed(0)
    net = LeNet.build()
    kinds = [type(layer).__name__ for layer in net.layers]
    assert kinds == ["Conv", "ReLU", "Pooling", "Conv", "ReLU", "Pooling", "Flatten", "FullyConnected", "ReLU",
                     "FullyConnected", "ReLU", "FullyConnected", "SoftMax"]
    convs = [layer for layer in net.layers if isinstance(layer, Conv)]
    assert [c.weights.shape for c in convs] == [(6, 1, 3, 3), (16, 6, 3, 3)]
    assert [layer.weights.shape for layer in net.layers if isinstance(layer, FullyConnected)] == \
        [(65, 120), (121, 84), (85, 10)]
    assert isinstance(net.optimizer, Adam) and net.optimizer.learning_rate == 5e-4
    assert isinstance(net.optimizer.regularizer, L2_Regularizer) and net.optimizer.regularizer.alpha == 4e-4
    assert isinstance(net.weights_initializer, He) and isinstance(net.bias_initializer, Constant)
    assert all(isinstance(layer.optimizer, Adam) and layer.optimizer is not net.optimizer
               for layer in net.layers if layer.trainable)
    assert all(np.all(c.bias == 0.1) for c in convs)
    out = net.test(digit_batch()[0])
    assert out.shape == (8, 10) and np.allclose(out.sum(axis=1), 1.0)


def test_build_for_mnist_and_the_optional_layers():
    mnist = LeNet.build(image_size=28, kernel_size=5)
    first_fc = next(layer for layer in mnist.layers if isinstance(layer, FullyConnected))
    assert first_fc.weights.shape == (16 * 7 * 7 + 1, 120)
    assert mnist.test(np.zeros((2, 1, 28, 28))).shape == (2, 10)
    full = LeNet.build(keep_probability=0.5, batch_norm=True, regularizer="l1", alpha=0.1)
    assert sum(isinstance(layer, Dropout) for layer in full.layers) == 2
    assert sum(isinstance(layer, BatchNormalization) for layer in full.layers) == 2
    assert isinstance(full.optimizer.regularizer, L1_Regularizer)
    assert LeNet.build(regularizer="none").optimizer.regularizer is None
    assert isinstance(full.layers[-1], SoftMax) and sum(isinstance(layer, Pooling) for layer in full.layers) == 2


def test_network_loss_adds_the_penalty_of_every_trainable_layer():
    np.random.seed(1)
    net = LeNet.build(regularizer="l2", alpha=0.01, batch_norm=True)
    images, labels = digit_batch(seed=2)
    net.data_layer = FixedBatch(images, labels)
    loss = net.forward()
    output = net.layers[-1].activations
    data_loss = -np.sum(np.log(output[labels == 1] + np.finfo(float).eps))
    penalty = sum(0.01 * (np.sum(layer.weights ** 2) + (np.sum(layer.bias ** 2) if hasattr(layer, "bias") else 0.0))
                  for layer in net.layers if layer.trainable)
    assert loss == pytest.approx(data_loss + penalty, rel=1e-12)
    assert any(isinstance(layer, Conv) for layer in net.layers)


def test_composite_backward_matches_finite_differences():
    np.random.seed(3)
    net = LeNet.build(regularizer="none")
    for layer in net.layers:
        if layer.trainable:
            layer.optimizer = None
    images, labels = digit_batch(size=3, seed=4)

    def loss():
        return net.loss_layer.forward(net._through_layers(images), labels)

    loss()
    error = net.loss_layer.backward(labels)
    for layer in reversed(net.layers):
        error = layer.backward(error)
    numeric = gradcheck.numerical_gradient(loss, images)
    assert gradcheck.rel_error(error, numeric) <= 1e-7
    first = net.layers[0]
    numeric_w = gradcheck.numerical_gradient(loss, first._weights)
    assert gradcheck.rel_error(first.gradient_weights, numeric_w) <= 1e-7


def test_training_lowers_the_loss_and_save_load_keeps_everything(tmp_path):
    np.random.seed(5)
    net = LeNet.build(keep_probability=0.8, batch_norm=True, learning_rate=2e-3)
    images, labels = digit_batch(size=32, seed=6)
    net.data_layer = FixedBatch(images, labels)
    net.train(30)
    assert np.mean(net.loss[-5:]) < np.mean(net.loss[:5])
    save(tmp_path / "lenet.pkl", net)
    loaded = load(tmp_path / "lenet.pkl", FixedBatch(images, labels))
    assert np.array_equal(net.test(images), loaded.test(images))
    assert loaded.optimizer.regularizer.alpha == 4e-4 and isinstance(loaded.weights_initializer, He)
    state = np.random.get_state()
    net.train(3)
    np.random.set_state(state)
    loaded.train(3)
    assert net.loss[-3:] == loaded.loss[-3:]


@pytest.mark.parametrize("arguments, error, message", [
    (dict(regularizer="l3"), ValueError, "regularizer: expected one of"),
    (dict(keep_probability=0.0), ValueError, "keep_probability: expected"),
    (dict(image_size=3), ValueError, "image_size: expected an integer >= 4"),
    (dict(kernel_size=0), ValueError, "kernel_size: expected a positive integer"),
    (dict(batch_norm="yes"), TypeError, "batch_norm: expected a bool"),
    (dict(learning_rate=-1.0), ValueError, "learning_rate: expected"),
])
def test_bad_arguments(arguments, error, message):
    with pytest.raises(error, match=message):
        LeNet.build(**arguments)
