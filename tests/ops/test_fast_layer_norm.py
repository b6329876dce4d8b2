"""The fused add & norm (minibert.ops.fast.layer_norm) against the plain layer norm, dropout
and residual sum."""
import numpy as np
import pytest

from minibert.ops import dropout_backward, layer_norm_backward, layer_norm_forward
from minibert.ops.fast import add_layer_norm_backward, add_layer_norm_forward, column_sum


def _plain(x, h, bias, gamma, beta, epsilon, keep, scale, dy):
    """LayerNorm(x + dropout(h + bias)) with the plain ops, and its gradients."""
    dropped = (h + bias) if keep is None else (h + bias) * keep * scale
    y, cache = layer_norm_forward(x + dropped, gamma, beta, epsilon)
    dsum, dgamma, dbeta = layer_norm_backward(dy, cache)
    dh = dsum if keep is None else dropout_backward(dsum, (keep, scale))
    return y, dsum, dh, dh.sum(axis=0), dgamma, dbeta


@pytest.mark.parametrize("dropout", [False, True])
@pytest.mark.parametrize("dtype, tolerance", [(np.float64, 1e-12), (np.float32, 2e-5)])
def test_add_layer_norm_matches_the_plain_ops(dropout, dtype, tolerance):
    rng = np.random.default_rng(0)
    n, width = 900, 48                                          # several blocks of rows
    x, h, dy = (rng.normal(size=(n, width)).astype(dtype) for _ in range(3))
    bias, beta = (rng.normal(size=width).astype(dtype) for _ in range(2))
    gamma = (1 + 0.1 * rng.normal(size=width)).astype(dtype)
    keep = rng.random((n, width)) >= 0.2 if dropout else None
    scale = 1 / 0.8 if dropout else 1.0
    expected = _plain(x, h, bias, gamma, beta, 1e-12, keep, scale, dy)
    y, cache = add_layer_norm_forward(x, h, bias, gamma, beta, 1e-12, keep, scale)
    dx, dh, dgamma, dbeta = add_layer_norm_backward(dy, cache)
    actual = (y, dx, dh, column_sum(dh), dgamma, dbeta)
    for name, a, e in zip(("y", "dx", "dh", "dbias", "dgamma", "dbeta"), actual, expected):
        assert a.dtype == dtype, name
        np.testing.assert_allclose(a, e, rtol=tolerance, atol=tolerance * 10, err_msg=name)


def test_add_layer_norm_skips_what_is_not_asked():
    rng = np.random.default_rng(1)
    x, h = rng.normal(size=(2, 5, 4))
    _, cache = add_layer_norm_forward(x, h, np.zeros(4), np.ones(4), np.zeros(4), 1e-5)
    dx, dh, dgamma, dbeta = add_layer_norm_backward(np.ones((5, 4)), cache, param_grads=False)
    assert dgamma is None and dbeta is None and dh is dx
    dx, dh, dgamma, dbeta = add_layer_norm_backward(np.ones((5, 4)), cache, input_grad=False)
    assert dx is None and dh is None and dgamma.shape == (4,)


def test_column_sum_matches_numpy_sum():
    a = np.random.default_rng(2).normal(size=(5000, 33))
    np.testing.assert_allclose(column_sum(a), a.sum(axis=0), rtol=1e-12, atol=1e-12)
