"""The fast softmax cross-entropy (minibert.ops.fast.cross_entropy) against the plain op."""
import numpy as np
import pytest

from minibert.ops import softmax_cross_entropy_backward, softmax_cross_entropy_forward
from minibert.ops.cross_entropy import REDUCTIONS
from minibert.ops.fast import (softmax_cross_entropy_backward_fast,
                               softmax_cross_entropy_forward_fast)


def _case(dtype, rng, batch=6, masks=5, vocab=40000):
    logits = (3 * rng.normal(size=(batch, masks, vocab))).astype(dtype)   # several blocks
    labels = rng.integers(0, vocab, (batch, masks))
    weight = (rng.random((batch, masks)) > 0.3).astype(dtype)
    return logits, labels, weight


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("dtype, tolerance", [(np.float64, 1e-13), (np.float32, 1e-6)])
def test_fast_cross_entropy_matches_the_plain_op(reduction, dtype, tolerance):
    rng = np.random.default_rng(0)
    logits, labels, weight = _case(dtype, rng)
    loss, cache = softmax_cross_entropy_forward(logits, labels, weight, reduction)
    loss_fast, fast_cache = softmax_cross_entropy_forward_fast(logits, labels, weight, reduction)
    assert loss_fast.dtype == loss.dtype == dtype and loss_fast.shape == loss.shape
    # The same shifted logits summed the same way: the per-element losses are the plain ones.
    np.testing.assert_allclose(loss_fast, loss, rtol=tolerance, atol=0)
    np.testing.assert_allclose(fast_cache[0], cache[0], rtol=tolerance, atol=tolerance / 1e3)
    dloss = rng.normal(size=loss.shape).astype(dtype)
    dlogits = softmax_cross_entropy_backward(dloss, cache)
    dlogits_fast = softmax_cross_entropy_backward_fast(dloss, fast_cache)
    assert dlogits_fast.dtype == dtype and dlogits_fast.shape == logits.shape
    np.testing.assert_allclose(dlogits_fast, dlogits, rtol=tolerance, atol=tolerance / 1e3)


def test_fast_cross_entropy_is_exact_where_weights_are_zero_and_the_plain_backward_agrees():
    rng = np.random.default_rng(1)
    logits, labels, weight = _case(np.float32, rng, batch=3, masks=4, vocab=1000)
    weight[0] = 0
    _, cache = softmax_cross_entropy_forward_fast(logits, labels, weight)
    plain = softmax_cross_entropy_backward(1.0, cache)        # the plain backward reads it too
    fast = softmax_cross_entropy_backward_fast(1.0, cache)
    assert not np.any(fast[0]) and not np.any(plain[0])
    np.testing.assert_allclose(fast, plain, rtol=1e-6, atol=1e-12)


def test_fast_cross_entropy_takes_half_precision_logits_in_float32():
    rng = np.random.default_rng(2)
    logits = (20 * rng.normal(size=(4, 300))).astype(np.float16)
    labels = rng.integers(0, 300, 4)
    loss, cache = softmax_cross_entropy_forward(logits, labels)
    loss_fast, fast_cache = softmax_cross_entropy_forward_fast(logits, labels)
    assert loss_fast.dtype == np.float32
    np.testing.assert_allclose(loss_fast, loss, rtol=1e-6)
    dlogits = softmax_cross_entropy_backward_fast(1.0, fast_cache)
    assert dlogits.dtype == np.float16
    np.testing.assert_allclose(dlogits.astype(np.float32),
                               softmax_cross_entropy_backward(1.0, cache).astype(np.float32),
                               rtol=1e-3, atol=1e-7)


def test_fast_cross_entropy_rejects_an_unknown_reduction():
    with pytest.raises(ValueError, match="reduction must be one of"):
        softmax_cross_entropy_forward_fast(np.zeros((2, 3)), np.zeros(2, int), reduction="avg")
