import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from minibert.ops import dense_backward, dense_forward, fast
from minibert.ops.fast.gemm import matmul as pooled
from minibert.ops.precision import matmul as plain
from ops.checks import LINEAR_EPS, SETTINGS, check_op


@SETTINGS
@given(seed=st.integers(0, 2**31 - 1), lead=st.lists(st.integers(1, 3), min_size=1, max_size=3),
       in_dim=st.integers(1, 5), out_dim=st.integers(1, 5), with_bias=st.booleans())
def test_dense_gradients(seed, lead, in_dim, out_dim, with_bias):
    rng = np.random.default_rng(seed)
    inputs = {"x": rng.normal(size=(*lead, in_dim)), "kernel": rng.normal(size=(in_dim, out_dim)),
              "bias": rng.normal(size=out_dim) if with_bias else None}

    def backward(dy, cache):
        dx, dkernel, dbias = dense_backward(dy, cache)
        assert (dbias is None) == (not with_bias)
        return {"x": dx, "kernel": dkernel, **({"bias": dbias} if with_bias else {})}

    check_op(dense_forward, backward, inputs, rng, 1e-7, LINEAR_EPS)


def test_dense_forward_matches_loop_reference():
    rng = np.random.default_rng(0)
    x, kernel, bias = rng.normal(size=(2, 3, 4)), rng.normal(size=(4, 5)), rng.normal(size=5)
    y, _ = dense_forward(x, kernel, bias)
    expected = np.array([[[sum(x[b, t, i] * kernel[i, o] for i in range(4)) + bias[o]
                           for o in range(5)] for t in range(3)] for b in range(2)])
    np.testing.assert_allclose(y, expected, rtol=1e-13, atol=1e-13)


def test_dense_flags_skip_work():
    rng = np.random.default_rng(1)
    x, kernel, bias = rng.normal(size=(2, 3, 4)), rng.normal(size=(4, 5)), rng.normal(size=5)
    y, cache = dense_forward(x, kernel, bias)
    dy = rng.normal(size=y.shape)
    dx, dkernel, dbias = dense_backward(dy, cache, input_grad=False)
    assert dx is None and dkernel.shape == (4, 5) and dbias.shape == (5,)
    dx, dkernel, dbias = dense_backward(dy, cache, param_grads=False)
    assert dx.shape == x.shape and dkernel is None and dbias is None
    assert dense_backward(dy, cache, input_grad=False, param_grads=False) == (None, None, None)


def test_the_dense_layer_hands_the_fast_paths_pooled_product_to_the_op():
    """Dense layers (the masked-LM head, the pooler) and the tied projection take the pooled
    product on the fast paths (no BLAS thread left spinning), the plain one otherwise, and the
    backward reuses the forward's."""
    assert fast.product("float32") is (pooled if fast.enabled() else plain)
    with fast.enabled_as(True):
        assert fast.product("float32") is pooled and fast.product("float64") is pooled
        assert fast.product("bfloat16") is plain and fast.product("float16") is plain
    with fast.disabled():
        assert fast.product("float32") is plain
    rng = np.random.default_rng(3)
    x, kernel = rng.standard_normal((6, 4)), rng.standard_normal((4, 3))
    calls = []

    def recording(xp, a, b):
        calls.append((a.shape, b.shape))
        return plain(xp, a, b)
    y, cache = dense_forward(x, kernel, None, product=recording)
    dense_backward(np.ones_like(y), cache)
    assert calls == [((6, 4), (4, 3)), ((6, 3), (3, 4)), ((4, 6), (6, 3))]
