"""Fast residual + layer norm: LayerNorm(x + dropout(h + bias)) in one pass per block of rows.

The plain twins are ``minibert.ops.layer_norm.layer_norm_forward`` / ``layer_norm_backward``
(and the dropout and residual lines of ``minibert.layers.transformer_encoder``); the agreement
test is tests/ops/test_fast_layer_norm.py.

This is the "add & norm" of a post-LN encoder block: h is the output of a dense layer without its
bias, so the bias add, the dropout, the residual sum and the normalisation read each row once,
and the backward returns both the residual gradient and the dense layer's bias gradient.
Computed in x's dtype (the fast path runs float32 and float64 only, where that is the plain op's
accumulation dtype too).
"""
from minibert import backend
from minibert.ops.fast import threads


def add_layer_norm_forward(x, h, bias, gamma, beta, epsilon, keep=None, keep_scale=1.0):
    """y = LayerNorm(x + dropout(h + bias)), row by row.

    x, h (N, H); bias, gamma, beta (H,); keep (N, H) bool or None (no dropout), keep_scale =
    1 / (1 - rate). Returns (y, cache), cache = (xhat, rstd, gamma, keep, keep_scale).
    """
    xp = backend.get_array_module(x, h)
    n, width = x.shape
    y = xp.empty_like(x)                                   # (N, H)
    xhat = xp.empty_like(x)                                # (N, H)
    rstd = xp.empty((n, 1), dtype=x.dtype)                 # (N, 1)
    dtype = x.dtype.type

    def run(start, stop):
        s = h[start:stop] + bias                           # (rows, H) dense output + bias
        if keep is not None:
            s *= keep[start:stop]
            s *= dtype(keep_scale)
        s += x[start:stop]                                 # + residual
        s -= s.mean(axis=-1, keepdims=True)                # centred
        var = xp.einsum("ij,ij->i", s, s)[:, None] / dtype(width)
        r = rstd[start:stop]
        xp.sqrt(var + dtype(epsilon), out=r)
        xp.divide(1, r, out=r)
        xh = xhat[start:stop]
        xp.multiply(s, r, out=xh)
        out = y[start:stop]
        xp.multiply(xh, gamma, out=out)
        out += beta
    threads.parallel_for(xp, n, threads.rows_per_block(width * x.itemsize), run)
    return y, (xhat, rstd, gamma, keep, keep_scale)


def add_layer_norm_backward(dy, cache, input_grad=True, param_grads=True):
    """Gradients of add_layer_norm_forward.

    dy (N, H)  ->  dx (N, H), dh (N, H), dgamma (H,), dbeta (H,)

        dx    = rstd * (g - mean(g) - xhat * mean(g * xhat)),   g = dy * gamma
        dh    = dx * keep * keep_scale          (dx itself when there is no dropout)

    dx is the gradient of the residual input x and of the sum; dh that of the dense output h
    (and of its bias: the bias gradient is ``column_sum(dh)``). Skipped slots are None
    (input_grad=False skips dx and dh; param_grads=False dgamma and dbeta).
    """
    xhat, rstd, gamma, keep, keep_scale = cache
    xp = backend.get_array_module(dy)
    n, width = dy.shape
    dtype = xhat.dtype.type
    dx = xp.empty_like(xhat) if input_grad else None
    dh = (xp.empty_like(xhat) if keep is not None else dx) if input_grad else None
    row_blocks = threads.rows_per_block(width * xhat.itemsize)
    partials = {}                                          # block start -> (dgamma, dbeta)

    def run(start, stop):
        d = dy[start:stop]
        xh = xhat[start:stop]
        if param_grads:
            partials[start] = (xp.einsum("ij,ij->j", d, xh), d.sum(axis=0))
        if not input_grad:
            return
        g = d * gamma                                      # (rows, H)
        g_mean = g.mean(axis=-1, keepdims=True)
        gx_mean = xp.einsum("ij,ij->i", g, xh)[:, None] / dtype(width)
        out = dx[start:stop]
        xp.multiply(xh, gx_mean, out=out)
        xp.subtract(g, out, out=out)
        out -= g_mean
        out *= rstd[start:stop]
        if keep is not None:
            o = dh[start:stop]
            xp.multiply(out, keep[start:stop], out=o)
            o *= dtype(keep_scale)
    threads.parallel_for(xp, n, row_blocks, run)
    dgamma = dbeta = None
    if param_grads:
        parts = [partials[k] for k in sorted(partials)]
        dgamma = parts[0][0].copy()
        dbeta = parts[0][1].copy()
        for a, b in parts[1:]:
            dgamma += a
            dbeta += b
    return dx, dh, dgamma, dbeta


def column_sum(a):
    """a.sum(axis=0) for a (N, F) array, its rows split over the pool."""
    xp = backend.get_array_module(a)
    n, width = a.shape
    partials = {}

    def run(start, stop):
        partials[start] = a[start:stop].sum(axis=0)
    threads.parallel_for(xp, n, max(64, threads.rows_per_block(width * a.itemsize)),
                         run)
    parts = [partials[k] for k in sorted(partials)]
    total = parts[0] if len(parts) == 1 else parts[0].copy()
    for p in parts[1:]:
        total += p
    return total
