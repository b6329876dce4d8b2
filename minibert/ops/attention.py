"""Masked multi-head scaled dot-product attention, as KerasHub's MultiHeadAttention applies it.

Derivation: docs/ops/attention.md. Gradient check: tests/ops/test_attention.py.
"""
import math

from minibert import backend
from minibert.ops.dropout import dropout_backward, dropout_forward
from minibert.ops.precision import matmul
from minibert.ops.softmax import softmax_backward, softmax_forward

# float16 cannot hold -1e9 (its largest magnitude is 65504); Keras fills with -3e4 there.
_FLOAT16_MASK_VALUE = -3e4


def attention_forward(query, key, value, key_mask=None, dropout_rate=0.0, rng=None,
                      mask_value=-1e9):
    """Attend from every query position to every (unmasked) key position, head by head.

    query (B, Tq, NH, D), key and value (B, Tk, NH, D), key_mask (B, Tk) bool or int
    (1 = real token, 0 = padding) or None  ->  out (B, Tq, NH, D)

        q      = query / sqrt(D)                        (scaled before the product)
        scores = q @ k^T                                (B, NH, Tq, Tk)
        scores = where(mask, scores, mask_value)
        probs  = softmax(scores) over keys
        probs  = where(mask, probs, 0)                  (a fully padded row gives zeros)
        probs  = dropout(probs, dropout_rate, rng)
        out    = probs @ v

    Returns (out, cache). Padded query rows are computed like any other row.
    """
    xp = backend.get_array_module(query, key, value)
    head_dim = query.shape[-1]
    scale = 1.0 / math.sqrt(head_dim)
    # The cast undoes NumPy's promotion of bfloat16 * Python float to float32.
    q = (query * scale).astype(query.dtype, copy=False)    # (B, Tq, NH, D)
    q = q.transpose(0, 2, 1, 3)                            # (B, NH, Tq, D) view
    k = key.transpose(0, 2, 1, 3)                          # (B, NH, Tk, D) view
    v = value.transpose(0, 2, 1, 3)                        # (B, NH, Tk, D) view
    scores = matmul(xp, q, k.swapaxes(-1, -2))             # (B, NH, Tq, Tk)
    mask = None
    if key_mask is not None:
        if key_mask.dtype != xp.bool_:
            key_mask = key_mask > 0.5                      # (B, Tk) as Keras converts it
        mask = key_mask[:, None, None, :]                  # (B, 1, 1, Tk) for all heads, queries
        if scores.dtype == xp.float16:
            mask_value = max(mask_value, _FLOAT16_MASK_VALUE)
        filled = xp.where(mask, scores, mask_value)        # (B, NH, Tq, Tk)
        scores = filled.astype(scores.dtype, copy=False)       # bfloat16 would become float64
    probs, softmax_cache = softmax_forward(scores, axis=-1)  # (B, NH, Tq, Tk)
    if mask is not None:
        probs = xp.where(mask, probs, 0)                   # (B, NH, Tq, Tk)
    probs, dropout_cache = dropout_forward(probs, dropout_rate, rng)  # (B, NH, Tq, Tk)
    out = matmul(xp, probs, v)                             # (B, NH, Tq, D)
    # The one copy: back to (B, Tq, NH, D) contiguous, so the output projection can flatten the
    # heads with a view.
    out = xp.ascontiguousarray(out.transpose(0, 2, 1, 3))  # (B, Tq, NH, D)
    cache = (q, k, v, mask, probs, softmax_cache, dropout_cache, scale)
    return out, cache


def attention_backward(dout, cache):
    """Gradients of attention_forward. dout (B, Tq, NH, D) -> dquery, dkey, dvalue.

        dprobs  = dout @ v^T                dv = probs^T @ dout     (probs after dropout)
        dprobs  = dropout_backward(dprobs), then zero where masked
        dscores = softmax_backward(dprobs), then zero where masked
        dq      = dscores @ k / sqrt(D)     dk = dscores^T @ q      (q already scaled)

    Padded keys get exactly zero dkey and dvalue.
    """
    q, k, v, mask, probs, softmax_cache, dropout_cache, scale = cache
    xp = backend.get_array_module(dout)
    dout = dout.transpose(0, 2, 1, 3)                      # (B, NH, Tq, D) view
    dv = matmul(xp, probs.swapaxes(-1, -2), dout)          # (B, NH, Tk, D)
    dprobs = matmul(xp, dout, v.swapaxes(-1, -2))          # (B, NH, Tq, Tk)
    dprobs = dropout_backward(dprobs, dropout_cache)       # (B, NH, Tq, Tk)
    if mask is not None:
        dprobs = xp.where(mask, dprobs, 0)
    dscores = softmax_backward(dprobs, softmax_cache)      # (B, NH, Tq, Tk)
    if mask is not None:
        # The filled scores were constants: no gradient flows to them.
        dscores = xp.where(mask, dscores, 0)
    dq = (matmul(xp, dscores, k) * scale).astype(k.dtype, copy=False)  # (B, NH, Tq, D)
    dk = matmul(xp, dscores.swapaxes(-1, -2), q)           # (B, NH, Tk, D)
    # Copies back to the (B, T, NH, D) layout of the inputs.
    return tuple(xp.ascontiguousarray(g.transpose(0, 2, 1, 3)) for g in (dq, dk, dv))
