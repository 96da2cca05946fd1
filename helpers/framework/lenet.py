"""The course's LeNet variant (sheet 003 §1.5): "same" convolutions, ReLU, max pooling, three fully
connected layers and SoftMax, trained with Adam(5e-4) and an L2 regularizer of weight 4e-4.

`build()` gives the variant for the 8 x 8 digits of scikit-learn (3 x 3 kernels, as two 2 x 2 poolings
leave 2 x 2 maps); `build(image_size=28, kernel_size=5)` is the sheet's MNIST network. The optimizer
and the initializers are stored in the network, so `save` / `load` bring the whole training setup back.
"""
from __future__ import annotations

from helpers import validate
from helpers.checked import checked
from helpers.framework.batch_normalization import BatchNormalization
from helpers.framework.conv import Conv
from helpers.framework.dropout import Dropout
from helpers.framework.flatten import Flatten
from helpers.framework.fully_connected import FullyConnected
from helpers.framework.initializers import Constant, He
from helpers.framework.losses import CrossEntropyLoss
from helpers.framework.network import NeuralNetwork
from helpers.framework.optimizers import Adam
from helpers.framework.pooling import Pooling
from helpers.framework.regularizers import L1_Regularizer, L2_Regularizer
from helpers.framework.relu import ReLU
from helpers.framework.softmax import SoftMax

REGULARIZERS = {"l2": L2_Regularizer, "l1": L1_Regularizer, "none": None}
KERNELS = (6, 16)
HIDDEN = (120, 84)
NUM_CLASSES = 10


def build_arguments(image_size, kernel_size, learning_rate, regularizer, alpha, keep_probability,
                    batch_norm) -> dict:
    """Checked arguments of `build`: image size >= 4, kernel size > 0, a known regularizer, keep
    probability in (0, 1] or None, batch_norm a bool (learning_rate and alpha: their classes check them)."""
    image_size = validate.integer("image_size", image_size, minimum=4)
    kernel_size = validate.positive_int("kernel_size", kernel_size)
    validate.choice("regularizer", regularizer, tuple(REGULARIZERS))
    if keep_probability is not None:
        keep_probability = validate.probability("keep_probability", keep_probability)
    if not isinstance(batch_norm, bool):
        validate.fail("batch_norm", "a bool", batch_norm, TypeError)
    return {"image_size": image_size, "kernel_size": kernel_size, "learning_rate": learning_rate,
            "regularizer": regularizer, "alpha": alpha, "keep_probability": keep_probability,
            "batch_norm": batch_norm}


@checked(build_arguments)
def build(*, image_size: int = 8, kernel_size: int = 3, learning_rate: float = 5e-4, regularizer: str = "l2",
          alpha: float = 4e-4, keep_probability: float | None = None, batch_norm: bool = False) -> NeuralNetwork:
    """LeNet for (b, 1, image_size, image_size) images and 10 classes, loss layer included.

    Conv(6) [BN] ReLU Pool · Conv(16) [BN] ReLU Pool · Flatten · FC(120) ReLU [Dropout] · FC(84) ReLU
    [Dropout] · FC(10) SoftMax. Adam(`learning_rate`) with `regularizer` ("l2", "l1" or "none") of
    weight `alpha`; He weights, constant 0.1 biases. `keep_probability` None: no dropout layers.
    """
    ### BEGIN SOLUTION implement LeNet.build: the layers, optimizer, regularizer and initializers of the list above (section 6)
    optimizer = Adam(learning_rate)
    if regularizer != "none":
        optimizer.add_regularizer((L2_Regularizer if regularizer == "l2" else L1_Regularizer)(alpha))
    net = NeuralNetwork(optimizer, He(), Constant(0.1))
    channels = 1
    for kernels in KERNELS:
        net.append_layer(Conv((1, 1), (channels, kernel_size, kernel_size), kernels))
        if batch_norm:
            net.append_layer(BatchNormalization(kernels))
        net.append_layer(ReLU())
        net.append_layer(Pooling((2, 2), (2, 2)))
        channels = kernels
    net.append_layer(Flatten())
    width = channels * (image_size // 4) ** 2
    for hidden in HIDDEN:
        net.append_layer(FullyConnected(width, hidden))
        net.append_layer(ReLU())
        if keep_probability is not None:
            net.append_layer(Dropout(keep_probability))
        width = hidden
    net.append_layer(FullyConnected(width, NUM_CLASSES))
    net.append_layer(SoftMax())
    net.loss_layer = CrossEntropyLoss()
    return net
    ### END SOLUTION
