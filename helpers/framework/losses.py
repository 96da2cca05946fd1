"""The cross-entropy loss on probabilities (after SoftMax), summed over the batch."""
from __future__ import annotations

import numpy as np

from helpers import validate

EPS = np.finfo(float).eps


def one_hot(label_tensor, num_classes: int, name: str = "label_tensor") -> np.ndarray:
    """(N, K) one-hot labels as given, or integer labels (N,) in [0, K) turned into one-hot (N, K)."""
    labels = validate.array(name, label_tensor, ndim=(1, 2))
    if labels.ndim == 2:
        return validate.one_hot_labels(name, labels, num_classes).astype(float)
    labels = validate.labels(name, labels, num_classes)
    return np.eye(num_classes)[labels]


class CrossEntropyLoss:
    """L = sum_n -log(y_hat[n, label_n] + eps) for predictions y_hat (N, K) and labels (N, K) or (N,)."""

    def __init__(self):
        self.prediction_tensor = None

    def forward(self, prediction_tensor, label_tensor) -> float:
        prediction = validate.array("prediction_tensor", prediction_tensor, ndim=2)
        if np.any(prediction < 0) or np.any(prediction > 1):
            validate.fail("prediction_tensor", "probabilities in [0, 1] (apply SoftMax first)", prediction)
        labels = one_hot(label_tensor, prediction.shape[1])
        validate.shape("label_tensor", labels, prediction.shape)
        self.prediction_tensor = prediction
        return float(-np.sum(np.log(prediction[labels == 1] + EPS)))

    def backward(self, label_tensor) -> np.ndarray:
        """dL/dy_hat = -label / (y_hat + eps), shape (N, K)."""
        if self.prediction_tensor is None:
            raise RuntimeError("backward: call forward first (nothing stored from a forward pass)")
        labels = one_hot(label_tensor, self.prediction_tensor.shape[1])
        validate.shape("label_tensor", labels, self.prediction_tensor.shape)
        return -labels / (self.prediction_tensor + EPS)
