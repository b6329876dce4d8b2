import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from minibert.ops import (gelu_backward, gelu_forward, relu_backward, relu_forward, tanh_backward,
                          tanh_forward)
from ops.checks import LIMIT, SETTINGS, bounded, check_op
from reference_libraries import require


def _gelu_exact_scalar(v):
    return 0.5 * v * (1.0 + math.erf(v / math.sqrt(2.0)))


def _gelu_tanh_scalar(v):
    return 0.5 * v * (1.0 + math.tanh(math.sqrt(2.0 / math.pi) * (v + 0.044715 * v ** 3)))


def _exact_gelu_atol(x):
    """backend.erf is accurate to 1e-14 absolute, so 0.5 * x * (1 + erf) is to 0.5 * |x| * 1e-14
    (for negative x, 1 + erf cancels and this absolute bound is all that is left)."""
    return 0.5 * np.abs(x).max() * 1e-14


def _away_from_zero(x):
    """ReLU has a kink at 0; keep finite differences from straddling it."""
    return np.where(np.abs(x) < 1e-3, x + 0.01, x)


ACTIVATIONS = {
    "gelu_exact": (lambda x: gelu_forward(x), gelu_backward),
    "gelu_approximate": (lambda x: gelu_forward(x, approximate=True), gelu_backward),
    "tanh": (tanh_forward, tanh_backward),
    "relu": (relu_forward, relu_backward),
}


@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
@SETTINGS
@given(seed=st.integers(0, 2**31 - 1), shape=st.lists(st.integers(1, 4), min_size=1, max_size=3),
       limit=st.floats(0.1, LIMIT))
def test_activation_gradients(name, seed, shape, limit):
    forward, backward = ACTIVATIONS[name]
    rng = np.random.default_rng(seed)
    x = _away_from_zero(bounded(rng, shape, limit))
    check_op(forward, lambda dy, cache: {"x": backward(dy, cache)}, {"x": x}, rng, 1e-7)


def test_gelu_forward_matches_scalar_formulas():
    x = np.concatenate([np.linspace(-8, 8, 1601), [-1e-8, 0.0, 1e-8, 20.0, -20.0]])
    exact, _ = gelu_forward(x)
    approximate, _ = gelu_forward(x, approximate=True)
    np.testing.assert_allclose(exact, [_gelu_exact_scalar(v) for v in x], rtol=1e-14,
                               atol=_exact_gelu_atol(x))
    np.testing.assert_allclose(approximate, [_gelu_tanh_scalar(v) for v in x], rtol=1e-14,
                               atol=1e-15)


def test_gelu_forward_matches_torch():
    torch = require("torch")
    x = np.random.default_rng(0).normal(size=(4, 50)) * 3
    for approximate, torch_name in ((False, "none"), (True, "tanh")):
        y, _ = gelu_forward(x, approximate=approximate)
        expected = torch.nn.functional.gelu(torch.from_numpy(x), approximate=torch_name).numpy()
        np.testing.assert_allclose(y, expected, rtol=1e-14,
                                   atol=_exact_gelu_atol(x) if not approximate else 1e-15)


def test_gelu_variants_differ():
    """The two GELUs are distinct functions (BERT's KerasHub and HF FFNs differ by this)."""
    exact, _ = gelu_forward(np.array([1.5]))
    approximate, _ = gelu_forward(np.array([1.5]), approximate=True)
    assert abs(exact[0] - approximate[0]) > 1e-5


def test_relu_and_tanh_forward():
    x = np.array([-2.0, -0.0, 0.0, 0.5, 3.0])
    y, cache = relu_forward(x)
    np.testing.assert_array_equal(y, [0, 0, 0, 0.5, 3])
    np.testing.assert_array_equal(relu_backward(np.ones(5), cache), [0, 0, 0, 1, 1])
    y, _ = tanh_forward(x)
    np.testing.assert_array_equal(y, [math.tanh(v) for v in x])
