"""Notebook 06's check cells reject plausible bugs (mutation test, see tests/check_mutation.py).

Bugs in a teaching copy of the notebook (regularizers, Dropout, BatchNormalization, the convolution and
pooling functions) are injected into its cell; bugs in code the checks reach through `helpers` (the
optimizer, the Conv penalty, the network, save/load) are injected there with `target`.
"""
from __future__ import annotations

from check_mutation import Bug, mutation_tests
from conftest import ROOT

NOTEBOOK = ROOT / "notebooks" / "06_regularization_lenet.ipynb"
OPTIMIZER = "helpers.framework.optimizers.Optimizer.calculate_update"
NETWORK = "helpers.framework.network."

BUGS = [
    # check:regularizers: update (3), gradients (2), network loss (4)
    Bug("L2 gradient with the factor 2", "return self.alpha * w\n", "return 2 * self.alpha * w\n", "regularizers",
        "L2"),
    Bug("L1 gradient alpha * w", "return self.alpha * np.sign(w)", "return self.alpha * w", "regularizers", "L1"),
    Bug("L2 norm without alpha", "return float(self.alpha * np.sum(w ** 2))", "return float(np.sum(w ** 2))",
        "regularizers", "L2"),
    Bug("penalty at the updated weights", "self.regularizer.calculate_gradient(weight_tensor)",
        "self.regularizer.calculate_gradient(updated)", "regularizers", "step 1", target=OPTIMIZER),
    Bug("penalty inside Adam's moments",
        ("updated = self._step(weight_tensor, gradient_tensor)",
         "updated = updated - self.learning_rate * self.regularizer.calculate_gradient(weight_tensor)"),
        ("updated = self._step(weight_tensor, gradient_tensor if self.regularizer is None else "
         "gradient_tensor + self.regularizer.calculate_gradient(weight_tensor))", "pass"),
        "regularizers", "Adam", target=OPTIMIZER),
    Bug("network loss without the penalties", " + self.calculate_regularization_loss()", "", "regularizers",
        "network loss", target=NETWORK + "NeuralNetwork.forward"),
    # check:dropout
    Bug("no 1/p scaling", "< self.probability) / self.probability", "< self.probability) * 1.0", "dropout",
        r"E\[y\]"),
    Bug("units kept with probability 1 - p", "(np.random.random_sample(input_tensor.shape) < self.probability)",
        "(np.random.random_sample(input_tensor.shape) >= self.probability)", "dropout", r"E\[y\]|probability p"),
    Bug("backward ignores the mask", "return error_tensor * self.mask", "return error_tensor / self.probability",
        "dropout", "backward|input"),
    Bug("testing phase scales by p", "            return input_tensor\n",
        "            return input_tensor * self.probability\n", "dropout", "identity"),
    Bug("masks drawn in the testing phase too", "if self.testing_phase:\n            self.mask = np.ones_like",
        "if False:\n            self.mask = np.ones_like", "dropout", "identity"),
    # check:batchnorm
    Bug("mean term of (8) dropped", "gradient = rows - rows.mean(axis=0) - self._normalized",
        "gradient = rows - self._normalized", "batchnorm", "input"),
    Bug("variance term of (8) dropped", " - self._normalized * np.mean(rows * self._normalized, axis=0)", "",
        "batchnorm", "input"),
    Bug("gamma gradient without x-hat", "self.gradient_weights = np.sum(rows * self._normalized, axis=0)",
        "self.gradient_weights = np.sum(rows, axis=0)", "batchnorm", "weights"),
    Bug("moving-average weights swapped",
        "self.moving_mean = self.momentum * self.moving_mean + (1.0 - self.momentum) * mean",
        "self.moving_mean = (1.0 - self.momentum) * self.moving_mean + self.momentum * mean", "batchnorm",
        "moving mean"),
    Bug("unbiased batch variance", "rows.var(axis=0)", "rows.var(axis=0, ddof=1)", "batchnorm", "output|input"),
    Bug("reformat with the wrong axis order", ".transpose(0, 2, 3, 1).reshape(-1, self.channels)",
        ".transpose(0, 3, 2, 1).reshape(-1, self.channels)", "batchnorm", "output|input|round-trip"),
    # check:conv
    Bug("extra zero of an even kernel before the input", "return (kernel_size - 1) // 2, kernel_size // 2",
        "return kernel_size // 2, (kernel_size - 1) // 2", "conv", "kernel"),
    Bug("output size floor(Y / s)", "out_size = (-(-x.shape[2] // stride[0]), -(-x.shape[3] // stride[1]))",
        "out_size = (x.shape[2] // stride[0], x.shape[3] // stride[1])", "conv", "ceil"),
    Bug("col2im ignores the stride", "summed[:, :, i:i + sy * u:sy, j:j + sx * v:sx] += cols[:, i, j]",
        "summed[:, :, i:i + u, j:j + v] += cols[:, i, j]", "conv", "input"),
    Bug("col2im overwrites where windows overlap", "] += cols[:, i, j]", "] = cols[:, i, j]", "conv", "input"),
    Bug("bias gradient as a mean", "d_bias = e.sum(axis=1)", "d_bias = e.mean(axis=1)", "conv", "bias"),
    Bug("weight gradient averaged over the batch", "d_weights = (e @ cols.T).reshape(weights.shape)",
        "d_weights = (e @ cols.T).reshape(weights.shape) / error.shape[0]", "conv", "weights"),
    Bug("Conv penalty without its bias",
        ("norm of the weights plus that of the bias", "regularizer.norm(self._weights) + regularizer.norm(self._bias)"),
        ("norm of the weights plus that of the bias", "regularizer.norm(self._weights)"), "conv", "Conv penalty"),
    # check:pooling
    Bug("flat index with the height", "return out, rows * x.shape[3] + cols", "return out, rows * x.shape[2] + cols",
        "pooling", "input"),
    Bug("overlapping gradients overwrite",
        "summed = np.bincount((where + plane_start).ravel(), weights=error.ravel(), minlength=b * c * y * x)",
        "summed = np.zeros(b * c * y * x)\n    summed[(where + plane_start).ravel()] = error.ravel()",
        "pooling", "input|overlapping"),
    Bug("argmax column without the stride", "cols = sx * np.arange(v)[None, :] + best % q",
        "cols = np.arange(v)[None, :] + best % q", "pooling", "input"),
    Bug("first entry of the window instead of its maximum", "best = candidates.argmax(axis=0)",
        "best = np.zeros(candidates.shape[1:], dtype=int)", "pooling", "output|input"),
    Bug("min pooling", "best = candidates.argmax(axis=0)", "best = candidates.argmin(axis=0)", "pooling",
        "output|input"),
    # check:lenet
    Bug("ReLU after the pooling", "net.append_layer(ReLU())\n        net.append_layer(Pooling((2, 2), (2, 2)))",
        "net.append_layer(Pooling((2, 2), (2, 2)))\n        net.append_layer(ReLU())", "lenet", "layers must be"),
    Bug("batch norm after the ReLU",
        ("        if batch_norm:\n            net.append_layer(BatchNormalization(kernels))\n", "        net.append_layer(Pooling"),
        ("", "        if batch_norm:\n            net.append_layer(BatchNormalization(kernels))\n        net.append_layer(Pooling"),
        "lenet", "layers must be"),
    Bug("no SoftMax", "    net.append_layer(SoftMax())\n", "", "lenet", "layers must be"),
    Bug("strided convolutions", "Conv((1, 1), (channels, kernel_size, kernel_size), kernels)",
        "Conv((2, 2), (channels, kernel_size, kernel_size), kernels)", "lenet", "stride 1"),
    Bug("first fully connected width after one pooling", "width = channels * (image_size // 4) ** 2",
        "width = channels * (image_size // 2) ** 2", "lenet", "fully connected"),
    Bug("regularizer left out", "        optimizer.add_regularizer(", "        (", "lenet", "L2_Regularizer"),
    Bug("Xavier instead of He", "NeuralNetwork(optimizer, He(), Constant(0.1))",
        "NeuralNetwork(optimizer, Xavier(), Constant(0.1))", "lenet", "initializers"),
    # check:saveload
    Bug("load forgets the data layer", "net.data_layer = data_layer", "net.data_layer = None", "saveload",
        "data layer", target=NETWORK + "load"),
    Bug("the data layer is pickled", 'state["data_layer"] = None', "pass", "saveload", "refused|data layer",
        target=NETWORK + "NeuralNetwork.__getstate__"),
    Bug("optimizers re-created on load", "self.__dict__.update(state)",
        "self.__dict__.update(state)\n    for layer in self.layers:\n        if layer.trainable:\n"
        "            layer.optimizer = own_copy(self.optimizer)", "saveload", "optimizer state",
        target=NETWORK + "NeuralNetwork.__setstate__"),
    Bug("the network's optimizer left out of the pickle", 'state["data_layer"] = None',
        'state["data_layer"] = None\n    state["optimizer"] = None', "saveload", "optimizer",
        target=NETWORK + "NeuralNetwork.__getstate__"),
    Bug("the initializers left out of the pickle", 'state["data_layer"] = None',
        'state["data_layer"] = None\n    state["weights_initializer"] = state["bias_initializer"] = None', "saveload",
        "initializers", target=NETWORK + "NeuralNetwork.__getstate__"),
]


outcomes, test_check_catches_bug, test_every_check_is_tried_with_five_bugs = mutation_tests(NOTEBOOK, BUGS)
