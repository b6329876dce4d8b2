"""Dense (fully connected) layer: y = x @ kernel + bias.

Derivation: docs/ops/dense.md. Gradient check: tests/ops/test_dense.py.
"""
from minibert import backend
from minibert.ops.precision import matmul


def dense_forward(x, kernel, bias=None, product=matmul):
    """Affine map over the last axis.

    x (..., IN), kernel (IN, OUT), bias (OUT,) or None  ->  y (..., OUT)

        y = x @ kernel + bias

    The leading axes of x are flattened into one row axis N for a single GEMM; the reshape is a
    view when x is contiguous. ``product(xp, a, b)`` computes the GEMMs here and in the backward
    (``minibert.ops.precision.matmul``, a @ b; the layers' fast paths pass
    ``minibert.ops.fast.gemm.matmul``). Returns (y, cache).
    """
    xp = backend.get_array_module(x, kernel)
    in_dim, out_dim = kernel.shape
    x2 = x.reshape(-1, in_dim)                             # (N, IN)
    y2 = product(xp, x2, kernel)                           # (N, OUT)
    if bias is not None:
        y2 += bias                                         # (N, OUT)
    y = y2.reshape(*x.shape[:-1], out_dim)                 # (..., OUT)
    cache = (x2, kernel, x.shape, bias is not None, product)
    return y, cache


def dense_backward(dy, cache, input_grad=True, param_grads=True):
    """Gradients of dense_forward.

    dy (..., OUT)  ->  dx (..., IN), dkernel (IN, OUT), dbias (OUT,)

        dx      = dy @ kernel.T
        dkernel = x.T @ dy        (summed over every leading position)
        dbias   = sum of dy over every leading position

    input_grad=False skips dx and param_grads=False skips dkernel/dbias (a frozen layer costs no
    gradient work); a skipped slot is None, and dbias is None when the forward had no bias.
    """
    x2, kernel, x_shape, has_bias, product = cache
    xp = backend.get_array_module(dy, kernel)
    dy2 = dy.reshape(-1, kernel.shape[1])                  # (N, OUT)
    dx = dkernel = dbias = None
    if input_grad:
        dx = product(xp, dy2, kernel.T).reshape(x_shape)   # (..., IN)
    if param_grads:
        dkernel = product(xp, x2.T, dy2)                   # (IN, OUT)
        if has_bias:
            dbias = dy2.sum(axis=0)                        # (OUT,)
    return dx, dkernel, dbias
