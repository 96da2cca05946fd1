"""helpers.parameter_counts: the matched RNN size is the closest count, and bad sizes are named.
(The formulas against the built models: tests/test_memory.py.)"""
from __future__ import annotations

import pytest

from helpers.parameter_counts import lstm_parameter_count, matching_rnn_hidden_size, rnn_parameter_count


@pytest.mark.parametrize("lstm_hidden, D, O", [(32, 11, 10), (8, 6, 5), (50, 3, 2), (1, 1, 1), (128, 1, 10)])
def test_matching_rnn_hidden_size_is_the_closest_count(lstm_hidden, D, O):
    target = lstm_parameter_count(D, lstm_hidden, O)
    best = min(range(1, 400), key=lambda h: (abs(rnn_parameter_count(D, h, O) - target), h))
    assert matching_rnn_hidden_size(lstm_hidden, D, O) == best


@pytest.mark.parametrize("call, message", [
    (lambda: matching_rnn_hidden_size(0, 10, 9), "lstm_hidden_size"),
    (lambda: matching_rnn_hidden_size(8, 1.5, 9), "input_size"),
    (lambda: rnn_parameter_count(3, -1, 2), "hidden_size"),
    (lambda: lstm_parameter_count(3, 4, 0), "output_size"),
])
def test_bad_sizes_name_the_argument(call, message):
    with pytest.raises((ValueError, TypeError), match=message):
        call()
