"""The fast GELU and float32 erf (minibert.ops.fast.activations) against the plain ops and
math.erf."""
import math

import numpy as np
import pytest

from minibert import backend
from minibert.ops import gelu_backward, gelu_forward
from minibert.ops.fast import erf_float32, gelu_backward_fused, gelu_forward_fused

# The stated bound of erf_float32 (see its comment): absolute error <= 1e-7 (float32's epsilon is
# 1.19e-7) and at most 2 ulp of the exact value.
ERF_FLOAT32_ABS_BOUND = 1e-7
ERF_FLOAT32_ULP_BOUND = 2.0


def _math_erf(x):
    return np.array([math.erf(float(v)) for v in x.ravel()]).reshape(x.shape)


def test_erf_float32_is_within_its_stated_bound_of_math_erf():
    x = np.concatenate([
        np.linspace(-5, 5, 400001),                         # dense, both pieces and the seam
        np.linspace(0.90, 0.94, 20001), -np.linspace(0.90, 0.94, 20001),
        np.linspace(3.9, 4.1, 2001),                        # saturation
        np.geomspace(1e-38, 1e-2, 500), -np.geomspace(1e-38, 1e-2, 500),
        [0.0, -0.0, 1e30, -1e30],
    ]).astype(np.float32)
    result = erf_float32(x)
    assert result.dtype == np.float32
    exact = _math_erf(x)
    error = np.abs(result.astype(np.float64) - exact)
    ulp = np.spacing(np.abs(exact).astype(np.float32)).astype(np.float64)
    assert error.max() <= ERF_FLOAT32_ABS_BOUND, f"max abs error {error.max():.3e}"
    assert (error / ulp).max() <= ERF_FLOAT32_ULP_BOUND, f"max {(error / ulp).max():.2f} ulp"


def test_erf_float32_is_odd_exact_at_zero_and_saturates():
    x = np.linspace(0, 7, 7001).astype(np.float32)
    np.testing.assert_array_equal(erf_float32(-x), -erf_float32(x))
    assert erf_float32(np.zeros(3, np.float32)).tolist() == [0.0, 0.0, 0.0]
    np.testing.assert_array_equal(erf_float32(np.array([4, 10, np.inf], np.float32)), [1, 1, 1])
    assert np.isnan(erf_float32(np.array([np.nan], np.float32)))[0]


def test_erf_float32_leaves_float64_to_the_accurate_backend_erf():
    x = np.linspace(-6, 6, 1001)
    np.testing.assert_array_equal(erf_float32(x), backend.erf(x))


def test_erf_float32_on_a_large_array_uses_blocks_consistently():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(300, 1000)).astype(np.float32)      # several blocks, on the pool
    flat = erf_float32(x.copy().reshape(-1)).reshape(x.shape)
    np.testing.assert_array_equal(erf_float32(x), flat)
    assert np.abs(erf_float32(x) - _math_erf(x)).max() <= ERF_FLOAT32_ABS_BOUND


@pytest.mark.parametrize("approximate", [False, True])
@pytest.mark.parametrize("dtype, tolerance", [(np.float64, 1e-13), (np.float32, 1e-6)])
def test_fused_gelu_matches_the_plain_op(approximate, dtype, tolerance):
    """The reference is the plain op in float64 on the same inputs (z + bias rounded to dtype,
    as the fused op adds the bias in dtype). Not the plain op in float32: its tanh slope
    0.5 (1 + t) + 0.5 x (1 - t^2) c (...) loses the second term once t rounds to 1 (x > 5),
    about 1e-6, which the fused op's sigmoid form keeps."""
    rng = np.random.default_rng(1)
    z = rng.normal(scale=2.0, size=(700, 96)).astype(dtype)   # 700 rows: several blocks
    bias = rng.normal(size=96).astype(dtype)
    dy = rng.normal(size=(700, 96)).astype(dtype)
    y_plain, cache = gelu_forward((z + bias).astype(np.float64), approximate)
    dz_plain = gelu_backward(dy.astype(np.float64), cache)
    y_fast, fast_cache = gelu_forward_fused(z.copy(), bias, approximate)
    dz_fast = gelu_backward_fused(dy.copy(), fast_cache)
    assert y_fast.dtype == dz_fast.dtype == dtype
    np.testing.assert_allclose(y_fast, y_plain, rtol=tolerance, atol=tolerance)
    np.testing.assert_allclose(dz_fast, dz_plain, rtol=tolerance, atol=tolerance)


def test_fused_tanh_gelu_saturates_without_overflow_or_nan():
    x = np.array([[-1e4, -200.0, -30.0, -10.0, 0.0, 10.0, 30.0, 200.0, 1e4]], np.float32)
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        y, cache = gelu_forward_fused(x.copy(), None, True)
        dz = gelu_backward_fused(np.ones_like(x), cache)
    np.testing.assert_array_equal(y[0, 4:], [0, 10, 30, 200, 1e4])
    assert np.all(y[0, :4] <= 0) and np.all(np.abs(y[0, :4]) < 1e-30)
    np.testing.assert_array_equal(dz[0, 5:], [1, 1, 1, 1])
    # The slope's exp is clipped at exp(80): its tail is 2u' x e^80 / (1 + e^80)^2, not 0.
    assert np.all(np.abs(dz[0, :4]) < 1e-20) and dz[0, 4] == 0.5


def test_fused_gelu_works_in_place_on_its_private_buffers():
    z = np.linspace(-3, 3, 12).reshape(3, 4)
    bias = np.ones(4)
    y, cache = gelu_forward_fused(z, bias)
    assert cache[0] is z and z[0, 0] == -2.0                 # the bias went into z
    dy = np.ones_like(y)
    assert gelu_backward_fused(dy, cache) is dy
