"""helpers.digits: disjoint stratified splits, the data layer, configs, a run that keeps its best
validation step, the run cache (parameters and batch-norm statistics restored), the choice on validation."""
from __future__ import annotations

import numpy as np
import pytest

from helpers import digits
from helpers.history import History


def test_splits_are_disjoint_stratified_and_fixed():
    splits = digits.load_splits()
    assert [len(s) for s in splits.values()] == [1078, 360, 359]
    indices = [set(s.index.tolist()) for s in splits.values()]
    assert not (indices[0] & indices[1]) and not (indices[0] & indices[2]) and not (indices[1] & indices[2])
    assert len(set().union(*indices)) == 1797
    for split in splits.values():
        counts = np.bincount(split.labels, minlength=10)
        assert counts.max() - counts.min() <= 0.05 * len(split) + 2
        assert split.images.shape == (len(split), 1, 8, 8) and 0 <= split.images.min() and split.images.max() <= 1
    again = digits.load_splits.__wrapped__(0)
    assert all(np.array_equal(a.index, b.index) for a, b in zip(splits.values(), again.values()))


def test_training_subset_is_balanced():
    subset = digits.training_split(digits.config(train_size=200))
    assert len(subset) == 200 and np.all(np.bincount(subset.labels) == 20)
    assert set(subset.index.tolist()) <= set(digits.load_splits()["train"].index.tolist())
    assert len(digits.training_split(digits.config())) == 1078


def test_data_layer_covers_every_image_once_per_epoch_and_is_seeded():
    split = digits.training_split(digits.config(train_size=100))
    layer = digits.DigitsBatches(split, 20, seed=3)
    seen = []
    for _ in range(5):
        images, labels = layer.next()
        assert images.shape == (20, 1, 8, 8) and labels.shape == (20, 10) and np.all(labels.sum(axis=1) == 1)
        seen.append(images.reshape(20, -1))
    epoch = np.concatenate(seen)
    assert len(np.unique(epoch, axis=0)) == len(np.unique(split.images.reshape(100, -1), axis=0))
    first = digits.DigitsBatches(split, 20, seed=3).next()[0]
    assert np.array_equal(first, seen[0].reshape(20, 1, 8, 8))


@pytest.mark.parametrize("overrides, error, message", [
    (dict(regularizer="dropout"), ValueError, "regularizer: expected one of"),
    (dict(keep_probability=1.5), ValueError, "keep_probability"),
    (dict(iterations=0), ValueError, "iterations: expected a positive integer"),
    (dict(batch_norm=1), TypeError, "batch_norm: expected a bool"),
    (dict(train_size=5), ValueError, "train_size: expected an integer >= 10"),
    (dict(epochs=3), ValueError, "overrides: expected settings among"),
])
def test_config_rejects_bad_settings(overrides, error, message):
    with pytest.raises(error, match=message):
        digits.config(**overrides)


def test_run_keeps_the_best_validation_step_and_the_cache_restores_it(tmp_path):
    c = digits.config(iterations=20, eval_every=5, train_size=100, batch_norm=True, keep_probability=0.8,
                      learning_rate=2e-3, seed=1)
    net, history = digits.run(c, tmp_path)
    steps, accuracies = history.metric("validation accuracy")
    assert steps == [5, 10, 15, 20] and history.steps == list(range(1, 21))
    assert history.chosen_step == steps[int(np.argmax(accuracies))]
    validation = digits.load_splits()["validation"]
    assert digits.evaluate(net, validation)[0] == history.final["validation accuracy"] == max(accuracies)
    loaded, again = digits.run(c, tmp_path)
    assert again.from_cache and again.final == history.final
    assert np.array_equal(digits.probabilities(loaded, validation.images), digits.probabilities(net, validation.images))


def test_choose_takes_each_variants_best_rate_then_the_best_variant():
    def runs(*accuracies):
        return [History(final={"validation accuracy": a}) for a in accuracies]

    results = {("a", 1e-3): runs(0.80, 0.82), ("a", 1e-2): runs(0.90, 0.88),
               ("b", 1e-3): runs(0.88, 0.85), ("b", 1e-2): runs(0.50, 0.60)}
    learning_rates, best = digits.choose(results)
    assert learning_rates == {"a": 1e-2, "b": 1e-3} and best == "a"


def test_confusion_matrix_counts_true_rows_and_predicted_columns():
    matrix = digits.confusion_matrix(np.array([0, 0, 1, 9]), np.array([0, 1, 1, 0]))
    assert matrix[0, 0] == 1 and matrix[0, 1] == 1 and matrix[1, 1] == 1 and matrix[9, 0] == 1 and matrix.sum() == 4
