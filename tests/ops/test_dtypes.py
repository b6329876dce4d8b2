"""Every op returns its input's dtype in half precision (float16, and bfloat16 where NumPy
promotes bfloat16 to float32 on meeting a Python float or in a matmul)."""
import ml_dtypes
import numpy as np
import pytest

from minibert import ops

HALF = [np.dtype(np.float16), np.dtype(ml_dtypes.bfloat16)]


def _run(forward, backward, *inputs, **kwargs):
    y, cache = forward(*inputs, **kwargs)
    return y, backward(np.ones_like(y), cache)


@pytest.mark.parametrize("dtype", HALF, ids=str)
def test_elementwise_and_normalizing_ops_keep_dtype(dtype):
    x = np.linspace(-3, 3, 24).reshape(2, 3, 4).astype(dtype)
    cases = {
        "gelu": _run(ops.gelu_forward, ops.gelu_backward, x),
        "gelu_approximate": _run(ops.gelu_forward, ops.gelu_backward, x, approximate=True),
        "tanh": _run(ops.tanh_forward, ops.tanh_backward, x),
        "relu": _run(ops.relu_forward, ops.relu_backward, x),
        "softmax": _run(ops.softmax_forward, ops.softmax_backward, x),
        "dropout": _run(ops.dropout_forward, ops.dropout_backward, x, 0.5, np.random.default_rng(0)),
    }
    for name, (y, dx) in cases.items():
        assert (y.dtype, dx.dtype) == (dtype, dtype), name


@pytest.mark.parametrize("dtype", HALF, ids=str)
def test_matmul_ops_keep_dtype(dtype):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(2, 3, 4)).astype(dtype)
    kernel, bias = rng.normal(size=(4, 5)).astype(dtype), np.zeros(5, dtype)
    y, cache = ops.dense_forward(x, kernel, bias)
    assert y.dtype == dtype
    assert all(g.dtype == dtype for g in ops.dense_backward(np.ones_like(y), cache))
    logits, cache = ops.reverse_embedding_forward(x, kernel.T)
    assert logits.dtype == dtype
    assert all(g.dtype == dtype for g in ops.reverse_embedding_backward(np.ones_like(logits), cache))
    qkv = rng.normal(size=(2, 3, 2, 2)).astype(dtype)
    out, cache = ops.attention_forward(qkv, qkv, qkv, np.array([[1, 1, 0], [0, 0, 0]]), 0.1,
                                       np.random.default_rng(0))
    assert out.dtype == dtype and np.isfinite(out.astype(np.float32)).all()
    assert all(g.dtype == dtype for g in ops.attention_backward(np.ones_like(out), cache))
