"""Softmax cross-entropy from logits, with sample weights and Keras/HF reductions.

Derivation: docs/ops/cross_entropy.md. Gradient check: tests/ops/test_cross_entropy.py.
"""
from minibert import backend
from minibert.ops.precision import accumulation_dtype

REDUCTIONS = ("sum_over_batch_size", "mean_with_sample_weight", "sum", "none")


def softmax_cross_entropy_forward(logits, labels, sample_weight=None,
                                  reduction="sum_over_batch_size"):
    """Cross-entropy between softmax(logits) and integer labels.

    logits (..., V), labels (...) integer in [0, V), sample_weight (...) or None (= ones)

        ce[i] = logsumexp(logits[i]) - logits[i, labels[i]]    (= -log softmax(logits[i])[label])

    reduction:
        "sum_over_batch_size"  sum(w * ce) / labels.size          (Keras's default: B*M for MLM)
        "mean_with_sample_weight"    sum(w * ce) / sum(w), 0 if sum(w) == 0   (HF's mean over kept labels)
        "sum"                  sum(w * ce)
        "none"                 w * ce, per element (...)

    Computed in float32 (float64 stays float64) through a max-subtracted log-softmax.
    Returns (loss, cache): loss is a 0-d array, or (...) for "none".
    """
    check_reduction(reduction)
    xp = backend.get_array_module(logits, labels)
    dtype = accumulation_dtype(xp, logits.dtype)
    z = logits.astype(dtype, copy=False)                   # (..., V)
    shifted = z - z.max(axis=-1, keepdims=True)            # (..., V) every entry <= 0
    log_probs = shifted - xp.log(xp.exp(shifted).sum(axis=-1, keepdims=True))  # (..., V)
    ce = -xp.take_along_axis(log_probs, labels[..., None], axis=-1)[..., 0]  # (...)
    loss, weight_scale = weighted_reduction(ce, sample_weight, reduction)
    # probs are kept (not logits): backward is softmax - onehot.
    cache = (xp.exp(log_probs), labels, weight_scale, logits.dtype)
    return loss, cache


def check_reduction(reduction):
    """Raise ValueError unless ``reduction`` is one of REDUCTIONS."""
    if reduction not in REDUCTIONS:
        raise ValueError(f"softmax_cross_entropy_forward: reduction must be one of "
                         f"{REDUCTIONS}, got {reduction!r}")


def weighted_reduction(ce, sample_weight, reduction):
    """The reduction of ``softmax_cross_entropy_forward`` over per-element losses ce (...).

    Returns (loss, weight_scale): weight_scale (...) = w / denominator is d loss / d ce
    (times dloss for reduction "none")."""
    xp = backend.get_array_module(ce)
    dtype = ce.dtype
    if sample_weight is None:
        weight = xp.ones(ce.shape, dtype=dtype)            # (...)
    else:
        weight = sample_weight.astype(dtype, copy=False)   # (...)
    weighted = weight * ce                                 # (...)
    if reduction == "none":
        loss, denominator = weighted, 1.0
    elif reduction == "sum":
        loss, denominator = weighted.sum(), 1.0
    elif reduction == "sum_over_batch_size":
        denominator = float(ce.size)
        loss = weighted.sum() / denominator
    else:
        total_weight = weight.sum()                        # () stays on the device
        nonzero = total_weight != 0
        denominator = xp.where(nonzero, total_weight, 1.0)  # () avoids 0/0
        loss = xp.where(nonzero, weighted.sum() / denominator, 0.0).astype(dtype)
    return loss, weight / denominator


def softmax_cross_entropy_backward(dloss, cache):
    """Gradient of softmax_cross_entropy_forward with respect to the logits.

    dloss () (or (...) for reduction "none")  ->  dlogits (..., V)

        dlogits[i] = dloss * w[i] / denominator * (softmax(logits[i]) - onehot(labels[i]))

    Elements with zero weight get exactly zero gradient.
    """
    probs, labels, weight_scale, logits_dtype = cache
    xp = backend.get_array_module(probs)
    dce = (dloss * weight_scale).astype(probs.dtype, copy=False)  # (...) d loss / d ce
    onehot = xp.arange(probs.shape[-1]) == labels[..., None]  # (..., V) bool
    dlogits = (probs - onehot) * dce[..., None]            # (..., V)
    return dlogits.astype(logits_dtype, copy=False)
