"""Fast multi-head attention on the fused query/key/value projection, block by block.

The plain twins are ``minibert.ops.attention.attention_forward`` / ``attention_backward``
(read those first); tests/ops/test_fast_attention.py checks that the two agree, with and
without padding and dropout.

What differs, for speed:
- the input is the three projections side by side in one array, [x Wq | x Wk | x Wv], seen
  as (B, T, 3, NH, D); the per-head operands are strided views of it (no transposed copies),
  and the three biases and the 1/sqrt(D) scale are applied in place, block by block;
- the work is cut into blocks of (one batch row, a few heads): scores, mask, softmax, dropout
  and the two products of a block run while its (heads, T, T) scores sit in the cache, and the
  blocks run on the thread pool with one BLAS thread each (``threads.single_thread_blas``);
- the output is written straight into a (B, T, NH, D) array, ready for the output projection;
  the backward writes dq, dk, dv straight into one (B, T, 3, NH, D) array, whose column blocks
  the products back through Wq, Wk, Wv read as they are;
- each batch row scores only its keys up to its last real one: the keys after it are masked,
  so their probabilities are exactly 0 and their products are skipped (a batch padded to its
  longest row costs each row its own length; masked keys before the last real one still go
  through the mask);
- the masked-fill / softmax / zero-the-masked-keys steps run in place on the block; the backward
  does not mask again: the stored probabilities are exactly zero at masked keys, so the softmax
  backward (dS = P * (dP - sum(dP * P))) is zero there already.

The dropout mask is the plain op's (``rng.random`` of the whole (B, NH, Tq, Tk) shape, in order,
drawn on the pool by ``dropout.draw_keep``), so both paths drop the same entries for the same
seed.
"""
import math

import numpy as np

from minibert import backend
from minibert.ops.fast import threads
from minibert.ops.fast.dropout import draw_keep

_FLOAT16_MASK_VALUE = -3e4


def _head_block(num_heads, length, itemsize):
    """Heads per block: a block's (heads, T, T) scores take about 768 KiB (all 12 heads of
    BERT base at T = 128: fewer, larger NumPy calls; measured 6% faster than 512 KiB)."""
    return max(1, min(num_heads, (768 * 1024) // max(1, length * length * itemsize)))


def _units(xp, batch, num_heads, heads_per_block):
    """[(batch slice, head slice), ...]: on NumPy every batch row with its heads cut in blocks
    (each block's scores stay in cache); elsewhere (a GPU) one unit holding everything."""
    if xp is not np:
        return [(slice(0, batch), slice(0, num_heads))]
    return [(slice(b, b + 1), slice(h, min(h + heads_per_block, num_heads)))
            for b in range(batch) for h in range(0, num_heads, heads_per_block)]


def _scored_keys(xp, mask, length):
    """Per batch row, how many leading keys to score: up to the last real one. The keys after
    it are all masked, so their probabilities are exactly 0 and their products can be skipped
    (a batch padded to its longest row scores only each row's own length). None when every
    key is scored: no mask, or not NumPy, where one unit holds every row."""
    if mask is None or xp is not np:
        return None
    last_from_end = mask[:, ::-1].argmax(axis=1)                   # (B,) first real from the end
    return np.where(mask.any(axis=1), length - last_from_end, 0)  # (B,) 0: no real key


def _run_units(xp, units, work):
    """Run work(rows, heads) for every unit, on the pool with one BLAS thread per call
    (NumPy), or one after the other here."""
    def run(start, stop):
        for rows, heads in units[start:stop]:
            work(rows, heads)
    if threads.uses_pool(xp) and threads.can_limit_blas():
        with threads.single_thread_blas():
            threads.parallel_for(xp, len(units), 1, run)
    else:
        run(0, len(units))


def attention_forward_fused(qkv, bias=None, key_mask=None, dropout_rate=0.0, rng=None,
                            mask_value=-1e9):
    """Attention from the fused projection. qkv (B, T, 3, NH, D): [x Wq | x Wk | x Wv] without
    bias, a private buffer (bias and scale are applied to it in place); bias (3, NH, D) or None;
    key_mask (B, T) (1 = real token) or None.  ->  out (B, T, NH, D), cache.

    Same maths as ``minibert.ops.attention.attention_forward`` with query, key, value =
    qkv[:, :, 0] + bias[0], qkv[:, :, 1] + bias[1], qkv[:, :, 2] + bias[2].
    """
    xp = backend.get_array_module(qkv)
    batch, length, _, num_heads, head_dim = qkv.shape
    dtype = qkv.dtype.type
    scale = 1.0 / math.sqrt(head_dim)
    keep_mask = None
    if dropout_rate > 0.0 and rng is not None:
        keep_mask = draw_keep(rng, (batch, num_heads, length, length), dropout_rate)
    keep_scale = 1.0 / (1.0 - dropout_rate)
    maskf = None
    if key_mask is not None:
        mask = key_mask if key_mask.dtype == xp.bool_ else key_mask > 0.5     # (B, T)
        if xp is not np or not bool(mask.all()):
            maskf = mask.astype(qkv.dtype)                                     # (B, T) 1 / 0
    if qkv.dtype == xp.float16:
        mask_value = max(mask_value, _FLOAT16_MASK_VALUE)
    probs = xp.empty((batch, num_heads, length, length), dtype=qkv.dtype)     # softmax output
    dropped = xp.empty_like(probs) if keep_mask is not None else probs        # after dropout
    out = xp.empty((batch, length, num_heads, head_dim), dtype=qkv.dtype)     # (B, T, NH, D)
    heads_per_block = _head_block(num_heads, length, qkv.itemsize)
    units = _units(xp, batch, num_heads, heads_per_block)
    scored = _scored_keys(xp, None if maskf is None else mask, length)   # (B,) or None

    def prepare(start, stop):                  # bias and scale, once per batch row
        rows = qkv[start:stop]                                 # (b, T, 3, NH, D)
        if bias is not None:
            rows += bias
        rows[:, :, 0] *= dtype(scale)                          # q = (x Wq + bq) / sqrt(D)

    def work(rows, heads):
        n = length if scored is None else int(scored[rows.start])     # keys scored
        p_all = probs[rows, heads]                             # (b, h, T, T)
        if n < length:                                         # past the last real key: 0
            p_all[..., n:] = 0
            if dropped is not probs:
                dropped[rows, heads][..., n:] = 0
        if n == 0:                                             # no real key: zero output
            out[rows, :, heads] = 0
            return
        q = qkv[rows, :, 0, heads].transpose(0, 2, 1, 3)       # (b, h, T, D) views
        k = qkv[rows, :n, 1, heads].transpose(0, 2, 1, 3)      # (b, h, n, D)
        v = qkv[rows, :n, 2, heads].transpose(0, 2, 1, 3)
        p = p_all[..., :n]                                     # (b, h, T, n)
        xp.matmul(q, k.transpose(0, 1, 3, 2), out=p)           # scores
        if maskf is not None:
            m = maskf[rows][:, None, None, :n]                 # (b, 1, 1, n)
            xp.copyto(p, dtype(mask_value), where=m == 0)
        p -= p.max(axis=-1, keepdims=True)                     # softmax, in place
        xp.exp(p, out=p)
        p /= p.sum(axis=-1, keepdims=True)
        if maskf is not None:
            p *= m                                             # a fully padded row gives zeros
        pd = p
        if keep_mask is not None:
            pd = dropped[rows, heads][..., :n]
            xp.multiply(p, keep_mask[rows, heads][..., :n], out=pd)
            pd *= dtype(keep_scale)
        xp.matmul(pd, v, out=out[rows, :, heads].transpose(0, 2, 1, 3))
    threads.parallel_for(xp, batch, 1, prepare)
    _run_units(xp, units, work)
    cache = (qkv, probs, dropped, keep_mask, keep_scale, scale, heads_per_block, scored)
    return out, cache


def attention_backward_fused(dout, cache):
    """Gradients of attention_forward_fused. dout (B, T, NH, D) -> dqkv (B, T, 3, NH, D): the
    gradients of query, key and value (before the scale, i.e. of x Wq + bq etc.), side by side
    as the fused projection produced them.

        dv = P^T @ dout             (P after dropout)
        dP = dout @ v^T, then dropout's mask and scale
        dS = P * (dP - sum(dP * P))  (softmax backward; zero at masked keys since P is)
        dq = dS @ k / sqrt(D)       dk = dS^T @ q       (q already scaled)
    """
    qkv, probs, dropped, keep_mask, keep_scale, scale, heads_per_block, scored = cache
    xp = backend.get_array_module(dout)
    batch, length, _, num_heads, head_dim = qkv.shape
    dtype = qkv.dtype.type
    dqkv = xp.empty_like(qkv)                                  # (B, T, 3, NH, D)
    units = _units(xp, batch, num_heads, heads_per_block)

    def work(rows, heads):
        n = length if scored is None else int(scored[rows.start])     # keys scored
        dqkv[rows, n:, 1:, heads] = 0                          # unscored keys: no gradient
        if n == 0:
            dqkv[rows, :, 0, heads] = 0
            return
        q = qkv[rows, :, 0, heads].transpose(0, 2, 1, 3)       # (b, h, T, D) views
        k = qkv[rows, :n, 1, heads].transpose(0, 2, 1, 3)      # (b, h, n, D)
        v = qkv[rows, :n, 2, heads].transpose(0, 2, 1, 3)
        do = dout[rows, :, heads].transpose(0, 2, 1, 3)        # (b, h, T, D)
        p = probs[rows, heads][..., :n]                        # (b, h, T, n)
        xp.matmul(dropped[rows, heads][..., :n].transpose(0, 1, 3, 2), do,
                  out=dqkv[rows, :n, 2, heads].transpose(0, 2, 1, 3))    # dv
        dp = xp.matmul(do, v.transpose(0, 1, 3, 2))            # (b, h, T, n)
        if keep_mask is not None:
            dp *= keep_mask[rows, heads][..., :n]
            dp *= dtype(keep_scale)
        row_dot = xp.einsum("bhij,bhij->bhi", dp, p)[..., None]   # sum(dP * P) per row
        dp -= row_dot
        dp *= p                                                # dS
        dq = dqkv[rows, :, 0, heads].transpose(0, 2, 1, 3)
        xp.matmul(dp, k, out=dq)
        dq *= dtype(scale)
        xp.matmul(dp.transpose(0, 1, 3, 2), q,
                  out=dqkv[rows, :n, 1, heads].transpose(0, 2, 1, 3))    # dk
    _run_units(xp, units, work)
    return dqkv
