"""Parameter counts of the Elman RNN and the LSTM (eq. 8 of notebook 04) and the RNN hidden size whose
count matches an LSTM's: for comparisons at equal parameter counts (notebooks 04 and 05)."""
from __future__ import annotations

import math

from helpers import validate
from helpers.checked import checked


def sizes_arguments(input_size, hidden_size, output_size) -> dict:
    """Checked arguments of the parameter counts: three positive integer sizes."""
    return {"input_size": validate.positive_int("input_size", input_size),
            "hidden_size": validate.positive_int("hidden_size", hidden_size),
            "output_size": validate.positive_int("output_size", output_size)}


def matching_arguments(lstm_hidden_size, input_size, output_size) -> dict:
    """Checked arguments of `matching_rnn_hidden_size`: three positive integer sizes."""
    return {"lstm_hidden_size": validate.positive_int("lstm_hidden_size", lstm_hidden_size),
            "input_size": validate.positive_int("input_size", input_size),
            "output_size": validate.positive_int("output_size", output_size)}


@checked(sizes_arguments)
def rnn_parameter_count(input_size: int, hidden_size: int, output_size: int) -> int:
    """H (D + H + 1) recurrent plus O (H + 1) read-out parameters of the Elman RNN."""
    D, H, O = input_size, hidden_size, output_size
    return H * (D + H + 1) + O * (H + 1)


@checked(sizes_arguments)
def lstm_parameter_count(input_size: int, hidden_size: int, output_size: int) -> int:
    """4 H (D + H + 1) gate plus O (H + 1) read-out parameters of the LSTM."""
    D, H, O = input_size, hidden_size, output_size
    return 4 * H * (D + H + 1) + O * (H + 1)


@checked(matching_arguments)
def matching_rnn_hidden_size(lstm_hidden_size: int, input_size: int, output_size: int) -> int:
    """The RNN hidden size whose parameter count is closest to that of an LSTM with `lstm_hidden_size`.

    Solves H^2 + (D + O + 1) H + O = P for the LSTM's count P and rounds to the nearer integer count.
    """
    H, D, O = lstm_hidden_size, input_size, output_size
    target = lstm_parameter_count(D, H, O)
    b = D + O + 1
    root = (-b + math.sqrt(b * b - 4 * (O - target))) / 2
    candidates = {max(1, math.floor(root)), math.floor(root) + 1}
    return min(candidates, key=lambda h: (abs(rnn_parameter_count(D, h, O) - target), h))
