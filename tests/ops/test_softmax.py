import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from minibert.ops import softmax_backward, softmax_forward
from ops.checks import LIMIT, SETTINGS, bounded, check_op
from reference_libraries import require


@SETTINGS
@given(seed=st.integers(0, 2**31 - 1), shape=st.lists(st.integers(1, 5), min_size=1, max_size=3),
       axis_choice=st.integers(0, 2), limit=st.floats(0.1, LIMIT))
def test_softmax_gradients(seed, shape, axis_choice, limit):
    axis = -1 - axis_choice % len(shape)
    rng = np.random.default_rng(seed)
    x = bounded(rng, shape, limit)
    # Softmax outputs sum to 1 along the axis, so the mean of r along it adds a constant to L:
    # no gradient, only rounding noise. With two entries dx is proportional to r0 - r1, and an
    # r with r0 ~ r1 would leave dx at the noise floor of an L of order one. Centering r removes
    # that constant (the gradient is unchanged).
    check_op(lambda x: softmax_forward(x, axis=axis),
             lambda dy, cache: {"x": softmax_backward(dy, cache)}, {"x": x}, rng, 1e-7,
             center_axis=axis)


def test_softmax_forward_matches_torch():
    torch = require("torch")
    x = np.random.default_rng(0).normal(size=(3, 4, 6)) * 5
    for axis in (-1, 0, 1):
        y, _ = softmax_forward(x, axis=axis)
        np.testing.assert_allclose(y, torch.softmax(torch.from_numpy(x), dim=axis).numpy(),
                                   rtol=1e-14, atol=1e-16)


def test_softmax_is_stable_for_large_inputs():
    y, _ = softmax_forward(np.array([1000.0, 1001.0, -1e9]))
    e = np.exp([-1.0, 0.0])
    np.testing.assert_allclose(y, [e[0] / e.sum(), e[1] / e.sum(), 0.0], rtol=1e-15)


def test_softmax_float16_computes_in_float32():
    # A float16 sum over 4096 probabilities is off by ~1e-3 relative, which moves thousands of
    # outputs by an ulp; the float32 sum rounds to the same float16 outputs as a float32 softmax.
    x = np.random.default_rng(0).normal(size=(2, 4096)).astype(np.float16)
    y, cache = softmax_forward(x)
    assert y.dtype == np.float16
    x32 = x.astype(np.float32)
    e = np.exp(x32 - x32.max(-1, keepdims=True))
    np.testing.assert_array_equal(y, (e / e.sum(-1, keepdims=True)).astype(np.float16))
    assert softmax_backward(np.ones_like(y), cache).dtype == np.float16
