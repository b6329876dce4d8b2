"""Elementwise activations: GELU (exact and tanh-approximate), tanh, ReLU.

Derivation: docs/ops/activations.md. Gradient check: tests/ops/test_activations.py.
"""
import math

from minibert import backend

_SQRT_HALF = math.sqrt(0.5)
_INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)
_SQRT_2_OVER_PI = math.sqrt(2.0 / math.pi)
_GELU_CUBIC = 0.044715


def gelu_forward(x, approximate=False):
    """Gaussian error linear unit, elementwise. x (...) -> y (...).

    exact:        y = 0.5 * x * (1 + erf(x / sqrt(2)))            = x * Phi(x)
    approximate:  y = 0.5 * x * (1 + tanh(sqrt(2/pi) * (x + 0.044715 * x^3)))

    KerasHub's BERT feed-forward uses the approximate form; HF BERT, DistilBERT and the MLM
    head use the exact one. Returns (y, cache).

    Python-float constants would promote bfloat16 to float32, so results are cast back to x's
    dtype (a no-op for float16/32/64).
    """
    xp = backend.get_array_module(x)
    if approximate:
        t = xp.tanh(_SQRT_2_OVER_PI * (x + _GELU_CUBIC * x * x * x))  # (...)
        y = (0.5 * x * (1.0 + t)).astype(x.dtype, copy=False)  # (...)
        return y, (x, t, True)
    cdf = 0.5 * (1.0 + backend.erf(x * _SQRT_HALF))        # (...) Phi(x)
    y = (x * cdf).astype(x.dtype, copy=False)              # (...)
    return y, (x, cdf, False)


def gelu_backward(dy, cache):
    """Gradient of gelu_forward. dy (...) -> dx (...).

    exact:        dy/dx = Phi(x) + x * phi(x),   phi(x) = exp(-x^2 / 2) / sqrt(2 pi)
    approximate:  dy/dx = 0.5 * (1 + t) + 0.5 * x * (1 - t^2) * dz/dx,
                  dz/dx = sqrt(2/pi) * (1 + 3 * 0.044715 * x^2),   t = tanh(z)
    """
    x, stored, approximate = cache   # stored is tanh(...) or Phi(x), whichever the variant used
    xp = backend.get_array_module(x)
    if approximate:
        t = stored
        inner_grad = _SQRT_2_OVER_PI * (1.0 + 3.0 * _GELU_CUBIC * x * x)  # (...)
        slope = 0.5 * (1.0 + t) + 0.5 * x * (1.0 - t * t) * inner_grad  # (...)
    else:
        # phi(x) is recomputed (one exp); Phi(x) was stored since erf is the costly part.
        pdf = _INV_SQRT_2PI * xp.exp(-0.5 * x * x)         # (...)
        slope = stored + x * pdf                           # (...)
    return (dy * slope).astype(dy.dtype, copy=False)


def tanh_forward(x):
    """y = tanh(x), elementwise. x (...) -> y (...). Returns (y, cache)."""
    xp = backend.get_array_module(x)
    y = xp.tanh(x)                                         # (...)
    return y, y


def tanh_backward(dy, cache):
    """dx = dy * (1 - y^2), where y = tanh(x) is the cached output."""
    y = cache
    return (dy * (1.0 - y * y)).astype(dy.dtype, copy=False)


def relu_forward(x):
    """y = max(x, 0), elementwise. x (...) -> y (...). Returns (y, cache)."""
    xp = backend.get_array_module(x)
    positive = x > 0                                       # (...) bool
    y = xp.where(positive, x, 0)                           # (...)
    return y, positive


def relu_backward(dy, cache):
    """dx = dy where x > 0, else 0 (the derivative at x = 0 is taken as 0)."""
    xp = backend.get_array_module(dy)
    positive = cache
    return xp.where(positive, dy, 0)
