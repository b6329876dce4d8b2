"""Inverted dropout.

Derivation: docs/ops/dropout.md. Gradient check: tests/ops/test_dropout.py.
"""


def dropout_forward(x, rate, rng=None):
    """Zero each element with probability ``rate``, scale the survivors by 1 / (1 - rate).

    x (...) -> y (...),   keep = rng.random(x.shape) >= rate,   y = x * keep / (1 - rate)

    so that E[y] = x. ``rng`` is a Generator of x's backend (numpy.random.Generator API). With
    rate == 0 or rng None (inference) y is x itself and the cache says "identity".
    Returns (y, cache); cache = (keep, scale), keep None for the identity.
    """
    if not 0.0 <= rate < 1.0:
        raise ValueError(f"dropout_forward: rate must be in [0, 1), got {rate!r}")
    if rate == 0.0 or rng is None:
        return x, (None, 1.0)
    keep = rng.random(x.shape) >= rate                     # (...) bool
    scale = 1.0 / (1.0 - rate)
    y = (x * keep * scale).astype(x.dtype, copy=False)     # (...) cast back: bfloat16 promotes
    return y, (keep, scale)


def dropout_backward(dy, cache):
    """dx = dy * keep / (1 - rate): the same mask and scale as the forward (dy for the identity)."""
    keep, scale = cache
    if keep is None:
        return dy
    return (dy * keep * scale).astype(dy.dtype, copy=False)
