import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from minibert.ops import attention_backward, attention_forward
from ops.checks import SETTINGS, check_op
from reference_libraries import require


def _loop_reference(query, key, value, key_mask):
    """Attention one (batch, head) at a time, written straight from the formula."""
    batch, q_len, heads, dim = query.shape
    out = np.zeros_like(query)
    for b in range(batch):
        for h in range(heads):
            scores = (query[b, :, h] / math.sqrt(dim)) @ key[b, :, h].T       # (Tq, Tk)
            scores = np.where(key_mask[b], scores, -1e9)
            probs = np.exp(scores - scores.max(-1, keepdims=True))
            probs = np.where(key_mask[b], probs / probs.sum(-1, keepdims=True), 0.0)
            out[b, :, h] = probs @ value[b, :, h]
    return out


def _random_inputs(rng, batch, q_len, k_len, heads, dim):
    return {"query": rng.normal(size=(batch, q_len, heads, dim)),
            "key": rng.normal(size=(batch, k_len, heads, dim)),
            "value": rng.normal(size=(batch, k_len, heads, dim))}


def _backward(dout, cache):
    return dict(zip(("query", "key", "value"), attention_backward(dout, cache)))


@SETTINGS
@given(seed=st.integers(0, 2**31 - 1), batch=st.integers(1, 2), q_len=st.integers(1, 3),
       k_len=st.integers(1, 4), heads=st.integers(1, 2), dim=st.integers(1, 3),
       dropout_rate=st.sampled_from([0.0, 0.3]))
def test_masked_attention_gradients(seed, batch, q_len, k_len, heads, dim, dropout_rate):
    rng = np.random.default_rng(seed)
    inputs = _random_inputs(rng, batch, q_len, k_len, heads, dim)
    key_mask = rng.random((batch, k_len)) < 0.7       # some rows may end up fully padded

    def forward(query, key, value):
        return attention_forward(query, key, value, key_mask, dropout_rate,
                                 np.random.default_rng(seed))

    grads = check_op(forward, _backward, inputs, rng, 1e-5)
    padded = ~key_mask                                 # (B, Tk)
    assert (grads["key"][padded] == 0).all() and (grads["value"][padded] == 0).all()
    fully_padded = ~key_mask.any(axis=1)               # (B,)
    assert (grads["query"][fully_padded] == 0).all()


@SETTINGS
@given(seed=st.integers(0, 2**31 - 1), batch=st.integers(1, 3), q_len=st.integers(1, 4),
       k_len=st.integers(1, 5), heads=st.integers(1, 3), dim=st.integers(1, 4))
def test_attention_forward_matches_loop_reference(seed, batch, q_len, k_len, heads, dim):
    rng = np.random.default_rng(seed)
    inputs = _random_inputs(rng, batch, q_len, k_len, heads, dim)
    key_mask = rng.random((batch, k_len)) < 0.7
    out, _ = attention_forward(**inputs, key_mask=key_mask)
    np.testing.assert_allclose(out, _loop_reference(**inputs, key_mask=key_mask),
                               rtol=1e-12, atol=1e-13)


def test_attention_forward_matches_torch_sdpa():
    torch = require("torch")
    rng = np.random.default_rng(0)
    inputs = _random_inputs(rng, 3, 4, 5, 2, 8)
    key_mask = np.array([[1, 1, 1, 1, 1], [1, 1, 1, 0, 0], [0, 1, 0, 1, 0]], dtype=bool)
    out, _ = attention_forward(**inputs, key_mask=key_mask)
    q, k, v = (torch.from_numpy(inputs[n]).transpose(1, 2) for n in ("query", "key", "value"))
    expected = torch.nn.functional.scaled_dot_product_attention(
        q, k, v, attn_mask=torch.from_numpy(key_mask)[:, None, None, :]).transpose(1, 2).numpy()
    np.testing.assert_allclose(out, expected, rtol=1e-12, atol=1e-13)


def test_no_mask_equals_all_ones_mask_and_int_mask_equals_bool_mask():
    rng = np.random.default_rng(1)
    inputs = _random_inputs(rng, 2, 3, 4, 2, 4)
    unmasked, _ = attention_forward(**inputs)
    ones, _ = attention_forward(**inputs, key_mask=np.ones((2, 4), dtype=np.int32))
    np.testing.assert_allclose(unmasked, ones, rtol=1e-15, atol=1e-15)
    int_mask = np.array([[1, 0, 1, 1], [0, 0, 1, 0]], dtype=np.int32)
    from_int, _ = attention_forward(**inputs, key_mask=int_mask)
    from_bool, _ = attention_forward(**inputs, key_mask=int_mask.astype(bool))
    np.testing.assert_array_equal(from_int, from_bool)


@pytest.mark.parametrize("dtype", [np.float64, np.float32, np.float16])
def test_fully_padded_row_gives_zeros_not_nan(dtype):
    rng = np.random.default_rng(2)
    inputs = {n: a.astype(dtype) for n, a in _random_inputs(rng, 2, 3, 4, 2, 4).items()}
    key_mask = np.array([[1, 1, 0, 0], [0, 0, 0, 0]], dtype=bool)
    out, cache = attention_forward(**inputs, key_mask=key_mask)
    assert out.dtype == dtype and np.isfinite(out).all() and (out[1] == 0).all()
    grads = attention_backward(np.ones_like(out), cache)
    assert all(g.dtype == dtype and np.isfinite(g).all() for g in grads)
    assert all((g[1] == 0).all() for g in grads)
