"""Layer normalization over the last axis.

Derivation: docs/ops/layer_norm.md. Gradient check: tests/ops/test_layer_norm.py.
"""
from minibert import backend
from minibert.ops.precision import accumulation_dtype


def layer_norm_forward(x, gamma, beta, epsilon):
    """Normalize each feature vector to zero mean and unit variance, then scale and shift.

    x (..., H), gamma (H,), beta (H,)  ->  y (..., H)

        mu   = mean(x)                          over the last axis
        var  = mean((x - mu)^2)                 (biased, as Keras and torch)
        rstd = 1 / sqrt(var + epsilon)
        xhat = (x - mu) * rstd
        y    = xhat * gamma + beta

    Statistics are computed in float32 at least (float64 stays float64); y is cast back to
    x's dtype. Returns (y, cache).
    """
    xp = backend.get_array_module(x, gamma, beta)
    dtype = accumulation_dtype(xp, x.dtype)
    xc = x.astype(dtype, copy=False)                       # (..., H)
    mu = xc.mean(axis=-1, keepdims=True)                   # (..., 1)
    centered = xc - mu                                     # (..., H)
    var = (centered * centered).mean(axis=-1, keepdims=True)  # (..., 1)
    rstd = 1.0 / xp.sqrt(var + epsilon)                    # (..., 1)
    xhat = centered * rstd                                 # (..., H)
    gamma_c = gamma.astype(dtype, copy=False)              # (H,)
    y = xhat * gamma_c + beta.astype(dtype, copy=False)    # (..., H)
    # xhat is kept instead of x: backward needs it directly, and it costs the same memory.
    cache = (xhat, rstd, gamma_c, x.dtype)
    return y.astype(x.dtype, copy=False), cache


def layer_norm_backward(dy, cache, input_grad=True, param_grads=True):
    """Gradients of layer_norm_forward.

    dy (..., H)  ->  dx (..., H), dgamma (H,), dbeta (H,)

        dbeta  = sum of dy            over every leading position
        dgamma = sum of dy * xhat     over every leading position
        g      = dy * gamma
        dx     = rstd * (g - mean(g) - xhat * mean(g * xhat))     (means over the last axis)

    dgamma and dbeta are in the compute dtype, dx in x's dtype. Skipped slots are None.
    """
    xhat, rstd, gamma_c, x_dtype = cache
    dyc = dy.astype(xhat.dtype, copy=False)                # (..., H)
    dx = dgamma = dbeta = None
    if param_grads:
        leading = tuple(range(dyc.ndim - 1))
        dbeta = dyc.sum(axis=leading)                      # (H,)
        dgamma = (dyc * xhat).sum(axis=leading)            # (H,)
    if input_grad:
        g = dyc * gamma_c                                  # (..., H)
        g_mean = g.mean(axis=-1, keepdims=True)            # (..., 1)
        gx_mean = (g * xhat).mean(axis=-1, keepdims=True)  # (..., 1)
        dx = (rstd * (g - g_mean - xhat * gx_mean)).astype(x_dtype, copy=False)  # (..., H)
    return dx, dgamma, dbeta
