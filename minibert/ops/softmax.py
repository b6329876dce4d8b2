"""Softmax along one axis.

Derivation: docs/ops/softmax.md. Gradient check: tests/ops/test_softmax.py.
"""
from minibert import backend
from minibert.ops.precision import accumulation_dtype


def softmax_forward(x, axis=-1):
    """y = exp(x - max(x)) / sum(exp(x - max(x))) along ``axis``. x (...) -> y (...).

    Subtracting the max changes nothing mathematically and keeps every exp in (0, 1]. The
    computation runs in float32 (float64 stays float64) and y is cast back to x's dtype.
    Returns (y, cache); the cache keeps y in the compute dtype.
    """
    xp = backend.get_array_module(x)
    dtype = accumulation_dtype(xp, x.dtype)
    xc = x.astype(dtype, copy=False)                       # (...)
    e = xp.exp(xc - xc.max(axis=axis, keepdims=True))      # (...)
    y = e / e.sum(axis=axis, keepdims=True)                # (...)
    return y.astype(x.dtype, copy=False), (y, axis, x.dtype)


def softmax_backward(dy, cache):
    """Gradient of softmax_forward. dy (...) -> dx (...).

        dx = y * (dy - sum(dy * y))          (the sum along ``axis``)
    """
    y, axis, x_dtype = cache
    dyc = dy.astype(y.dtype, copy=False)                   # (...)
    dx = y * (dyc - (dyc * y).sum(axis=axis, keepdims=True))  # (...)
    return dx.astype(x_dtype, copy=False)
