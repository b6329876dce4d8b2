"""Fast softmax cross-entropy: blocks of rows on the pool, one exp per logit, no one-hot.

The plain twins are ``minibert.ops.cross_entropy.softmax_cross_entropy_forward`` /
``softmax_cross_entropy_backward`` (read those first, and docs/ops/cross_entropy.md);
tests/ops/test_fast_cross_entropy.py checks that they agree. The cache has the plain op's
layout, so either backward takes either forward's cache.

A masked LM's logits are large: (B * M, V) = (640, 30522) for bert_tiny at 32 x 128 with 20
masks a row, 78 MB of float32. The plain op makes five arrays of that size on one core
(shifted, exp(shifted), log_probs, probs, and in the backward a one-hot and a difference) and
takes exp twice. Here each block of rows goes through the cache once:

    m = max(z);  p = exp(z - m);  s = sum(p);  ce = log(s) - (z[label] - m);  p /= s

the same ce as the plain op (the same shifted logits, summed the same way), and probabilities
computed as exp(shifted) / s instead of exp(shifted - log s): a rounding apart. The backward,

    dlogits = p * dce,  then  dlogits[label] -= dce        (= (p - onehot) * dce)

writes into the cached probabilities in place: one backward per forward.
"""
from minibert import backend
from minibert.ops.cross_entropy import check_reduction, weighted_reduction
from minibert.ops.fast import threads
from minibert.ops.precision import accumulation_dtype


def softmax_cross_entropy_forward_fast(logits, labels, sample_weight=None,
                                       reduction="sum_over_batch_size"):
    """Same contract as ``softmax_cross_entropy_forward``. logits (..., V), labels (...) in
    [0, V), sample_weight (...) or None. Returns (loss, cache)."""
    check_reduction(reduction)
    xp = backend.get_array_module(logits, labels)
    dtype = accumulation_dtype(xp, logits.dtype)
    classes = logits.shape[-1]
    z = logits.astype(dtype, copy=False).reshape(-1, classes)     # (N, V)
    label_column = labels.reshape(-1, 1)                           # (N, 1)
    probs = xp.empty_like(z)                                       # (N, V)
    ce = xp.empty(z.shape[0], dtype=dtype)                         # (N,)

    def run(start, stop):
        p = probs[start:stop]
        zmax = z[start:stop].max(axis=1, keepdims=True)            # (rows, 1)
        xp.subtract(z[start:stop], zmax, out=p)                    # shifted, <= 0
        picked = xp.take_along_axis(p, label_column[start:stop], axis=1)   # (rows, 1)
        xp.exp(p, out=p)
        total = p.sum(axis=1, keepdims=True)                       # (rows, 1)
        ce[start:stop] = (xp.log(total) - picked)[:, 0]
        p /= total
    threads.parallel_for(xp, z.shape[0], threads.rows_per_block(classes * z.itemsize), run)
    loss, weight_scale = weighted_reduction(ce.reshape(labels.shape), sample_weight, reduction)
    return loss, (probs.reshape(logits.shape), labels, weight_scale, logits.dtype)


def softmax_cross_entropy_backward_fast(dloss, cache):
    """Gradient of the forward with respect to the logits, as ``softmax_cross_entropy_backward``:
    dloss () (or (...) for reduction "none") -> dlogits (..., V), written over the cached
    probabilities. Elements with zero weight get exactly zero gradient."""
    probs, labels, weight_scale, logits_dtype = cache
    xp = backend.get_array_module(probs)
    classes = probs.shape[-1]
    p2 = probs.reshape(-1, classes)                                # (N, V) view
    dce = xp.broadcast_to((dloss * weight_scale).astype(probs.dtype, copy=False),
                          labels.shape).reshape(-1, 1)             # (N, 1) d loss / d ce
    flat_labels = labels.reshape(-1)                               # (N,)

    def run(start, stop):
        p = p2[start:stop]
        d = dce[start:stop]
        p *= d                                                     # p * dce
        p[xp.arange(stop - start), flat_labels[start:stop]] -= d[:, 0]   # - onehot * dce
    threads.parallel_for(xp, p2.shape[0], threads.rows_per_block(classes * p2.itemsize), run)
    return probs.astype(logits_dtype, copy=False)
