import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from minibert.ops import softmax_cross_entropy_backward, softmax_cross_entropy_forward
from ops.checks import LIMIT, SETTINGS, bounded, check_op
from reference_libraries import require

REDUCTIONS = ["sum_over_batch_size", "mean_with_sample_weight", "sum", "none"]


def _log_softmax(logits):
    shifted = logits - logits.max(-1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(-1, keepdims=True))


@pytest.mark.parametrize("reduction", REDUCTIONS)
@SETTINGS
@given(seed=st.integers(0, 2**31 - 1), batch=st.integers(1, 3), positions=st.integers(1, 3),
       vocab=st.integers(2, 6), weighted=st.booleans())
def test_cross_entropy_gradients(reduction, seed, batch, positions, vocab, weighted):
    rng = np.random.default_rng(seed)
    logits = bounded(rng, (batch, positions, vocab), LIMIT)
    labels = rng.integers(0, vocab, size=(batch, positions))
    weight = None
    if weighted:
        weight = rng.uniform(0.5, 2.0, size=labels.shape) * (rng.random(labels.shape) < 0.7)

    def forward(logits):
        return softmax_cross_entropy_forward(logits, labels, weight, reduction)

    def backward(dloss, cache):
        return {"logits": softmax_cross_entropy_backward(dloss, cache)}

    # For "none" the loss is per element and r weights each one; otherwise r is a scalar.
    grads = check_op(forward, backward, {"logits": logits}, rng, 1e-7)
    if weighted:
        assert (grads["logits"][weight == 0] == 0).all()


def test_per_element_loss_and_reductions_by_hand():
    rng = np.random.default_rng(0)
    logits = rng.normal(size=(2, 3, 5))
    labels = np.array([[0, 4, 2], [1, 1, 3]])
    weight = np.array([[1.0, 0.0, 2.0], [0.5, 0.0, 1.0]])
    ce = -np.take_along_axis(_log_softmax(logits), labels[..., None], -1)[..., 0]
    expected = {"none": weight * ce, "sum": (weight * ce).sum(),
                "sum_over_batch_size": (weight * ce).sum() / 6,
                "mean_with_sample_weight": (weight * ce).sum() / weight.sum()}
    for reduction, value in expected.items():
        loss, _ = softmax_cross_entropy_forward(logits, labels, weight, reduction)
        np.testing.assert_allclose(loss, value, rtol=1e-14)
    loss, _ = softmax_cross_entropy_forward(logits, labels)
    np.testing.assert_allclose(loss, ce.mean(), rtol=1e-14)


def test_cross_entropy_matches_torch():
    torch = require("torch")
    rng = np.random.default_rng(1)
    logits = rng.normal(size=(4, 7)) * 3
    labels = np.array([3, -100, 0, 6])             # torch ignores -100
    kept = labels != -100
    per_element, _ = softmax_cross_entropy_forward(logits, np.where(kept, labels, 0),
                                                   reduction="none")
    expected = torch.nn.functional.cross_entropy(torch.from_numpy(logits), torch.from_numpy(labels),
                                                 reduction="none").numpy()
    np.testing.assert_allclose(per_element[kept], expected[kept], rtol=1e-14)
    mean, _ = softmax_cross_entropy_forward(logits, np.where(kept, labels, 0), kept.astype(float),
                                            "mean_with_sample_weight")
    expected_mean = torch.nn.functional.cross_entropy(torch.from_numpy(logits),
                                                      torch.from_numpy(labels)).item()
    np.testing.assert_allclose(mean, expected_mean, rtol=1e-14)


def test_sum_over_batch_size_matches_keras_sample_weight():
    keras = require("keras")
    rng = np.random.default_rng(2)
    logits = rng.normal(size=(2, 4, 9)).astype(np.float32)
    labels = rng.integers(0, 9, size=(2, 4))
    weight = np.array([[1, 1, 0, 0], [1, 0, 0, 0]], dtype=np.float32)
    loss, _ = softmax_cross_entropy_forward(logits, labels, weight)
    expected = keras.losses.SparseCategoricalCrossentropy(from_logits=True)(
        labels, logits, sample_weight=weight)
    assert loss.dtype == np.float32
    np.testing.assert_allclose(loss, keras.ops.convert_to_numpy(expected), rtol=1e-6)


def test_all_zero_weights_give_zero_loss_and_gradient():
    logits = np.random.default_rng(3).normal(size=(2, 3, 4))
    loss, cache = softmax_cross_entropy_forward(logits, np.zeros((2, 3), int), np.zeros((2, 3)),
                                                "mean_with_sample_weight")
    assert loss == 0 and np.isfinite(loss)
    assert (softmax_cross_entropy_backward(1.0, cache) == 0).all()


def test_large_logits_are_stable_and_half_precision_computes_in_float32():
    logits = np.array([[1e4, 0.0, -1e4]])
    loss, cache = softmax_cross_entropy_forward(logits, np.array([1]), reduction="sum")
    assert loss == 1e4
    np.testing.assert_array_equal(softmax_cross_entropy_backward(1.0, cache), [[1, -1, 0]])
    half = np.array([[30.0, 10.0, 0.0]], dtype=np.float16)    # exp(30) overflows float16
    loss, cache = softmax_cross_entropy_forward(half, np.array([2]), reduction="sum")
    assert loss.dtype == np.float32
    np.testing.assert_allclose(loss, -_log_softmax(np.array([30.0, 10.0, 0.0]))[2], rtol=1e-6)
    assert softmax_cross_entropy_backward(1.0, cache).dtype == np.float16


def test_unknown_reduction_is_rejected():
    with pytest.raises(ValueError, match="reduction"):
        softmax_cross_entropy_forward(np.zeros((1, 2)), np.zeros(1, int), reduction="mean")
