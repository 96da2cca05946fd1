"""The NumPy layer framework of the course (DESIGN.md section 3): layers, initializers, optimizers,
regularizers, the loss and the network. Names follow the course so students can drop them in."""
from helpers.framework.base import BaseLayer, TrainableLayer, own_copy
from helpers.framework.batch_normalization import BatchNormalization
from helpers.framework.conv import Conv
from helpers.framework.dropout import Dropout
from helpers.framework.flatten import Flatten
from helpers.framework.fully_connected import FullyConnected
from helpers.framework.initializers import Constant, He, UniformRandom, Xavier
from helpers.framework.losses import CrossEntropyLoss
from helpers.framework.lstm import LSTM
from helpers.framework.network import NeuralNetwork, load, save
from helpers.framework import lenet as LeNet  # noqa: N812 (the course's module name)
from helpers.framework.optimizers import Adam, Optimizer, RMSProp, Sgd, SgdWithMomentum
from helpers.framework.pooling import Pooling
from helpers.framework.recurrent import RecurrentLayer
from helpers.framework.regularizers import L1_Regularizer, L2_Regularizer
from helpers.framework.relu import ReLU
from helpers.framework.rnn import RNN
from helpers.framework.sigmoid import Sigmoid
from helpers.framework.softmax import SoftMax
from helpers.framework.tanh import TanH
