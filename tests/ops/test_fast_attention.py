"""The fused attention (minibert.ops.fast.attention) against the plain attention op."""
import numpy as np
import pytest

from minibert.ops import attention_backward, attention_forward
from minibert.ops.fast import attention_backward_fused, attention_forward_fused


def _case(rng, batch, length, heads, dim, dtype):
    qkv = rng.normal(size=(batch, length, 3, heads, dim)).astype(dtype)
    bias = rng.normal(size=(3, heads, dim)).astype(dtype)
    lengths = rng.integers(1, length + 1, batch)
    lengths[0] = length
    if batch > 2:
        lengths[-1] = 0                                     # a row with no real token
    mask = (np.arange(length)[None, :] < lengths[:, None]).astype("int32")
    dout = rng.normal(size=(batch, length, heads, dim)).astype(dtype)
    return qkv, bias, mask, dout


@pytest.mark.parametrize("dropout_rate", [0.0, 0.25])
@pytest.mark.parametrize("padding", [True, False])
@pytest.mark.parametrize("dtype, tolerance", [(np.float64, 1e-12), (np.float32, 2e-5)])
@pytest.mark.parametrize("length, heads", [(7, 3), (40, 12)])   # 40 x 12: several head blocks
def test_fused_attention_matches_the_plain_op(dropout_rate, padding, dtype, tolerance, length,
                                              heads):
    rng = np.random.default_rng(length + heads)
    qkv, bias, mask, dout = _case(rng, 4, length, heads, 5, dtype)
    _assert_fused_matches_plain(qkv, bias, mask if padding else None, dout, dropout_rate,
                                tolerance)


def _assert_fused_matches_plain(qkv, bias, mask, dout, dropout_rate, tolerance):
    """Output and the three input gradients of the fused op against the plain op (the same
    dropout draws), in qkv's dtype; returns the fused cache."""
    with_bias = qkv + bias                                    # (B, T, 3, NH, D)
    out, cache = attention_forward(with_bias[:, :, 0], with_bias[:, :, 1], with_bias[:, :, 2],
                                   mask, dropout_rate, np.random.default_rng(7))
    dq, dk, dv = attention_backward(dout, cache)
    fused_out, fused_cache = attention_forward_fused(qkv.copy(), bias, mask, dropout_rate,
                                                     np.random.default_rng(7))
    dqkv = attention_backward_fused(dout, fused_cache)
    for name, a, e in (("out", fused_out, out), ("dq", dqkv[:, :, 0], dq),
                       ("dk", dqkv[:, :, 1], dk), ("dv", dqkv[:, :, 2], dv)):
        assert a.dtype == qkv.dtype, name
        np.testing.assert_allclose(a, e, rtol=tolerance, atol=tolerance, err_msg=name)
    return fused_cache


def test_fused_attention_gives_padded_keys_zero_gradient_and_padded_rows_zero_output():
    rng = np.random.default_rng(3)
    qkv, bias, mask, dout = _case(rng, 3, 6, 2, 4, np.float64)
    out, cache = attention_forward_fused(qkv, bias, mask)
    dqkv = attention_backward_fused(dout, cache)
    padded = mask == 0
    assert np.all(dqkv[:, :, 1][padded] == 0) and np.all(dqkv[:, :, 2][padded] == 0)
    assert np.all(out[2] == 0)                                # the row with no real token


def test_fused_attention_without_bias_and_mask():
    rng = np.random.default_rng(4)
    qkv = rng.normal(size=(2, 5, 3, 2, 3))
    out, cache = attention_forward(qkv[:, :, 0], qkv[:, :, 1], qkv[:, :, 2])
    fused_out, _ = attention_forward_fused(qkv.copy())
    np.testing.assert_allclose(fused_out, out, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("dropout_rate", [0.0, 0.25])
def test_fused_attention_scores_keys_up_to_the_last_real_one_also_with_holes(dropout_rate):
    """The fused op skips the keys after each row's last real token; masked keys before it
    (holes) still go through the mask. Same results as the plain op."""
    rng = np.random.default_rng(5)
    qkv, bias, _, dout = _case(rng, 4, 9, 2, 3, np.float64)
    mask = np.array([[1, 0, 1, 1, 0, 0, 0, 0, 0],            # holes, then padding
                     [0, 0, 0, 0, 0, 0, 0, 0, 1],            # only the last key
                     [1, 1, 1, 1, 1, 1, 1, 1, 1],
                     [0, 1, 0, 0, 0, 0, 0, 0, 0]], "int32")
    fused_cache = _assert_fused_matches_plain(qkv, bias, mask, dout, dropout_rate, 1e-12)
    assert np.all(fused_cache[1][0, :, :, 4:] == 0)           # unscored keys: probability 0
