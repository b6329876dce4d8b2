"""backend.erf (NumPy has none) against the standard library's math.erf."""
import math

import numpy as np

from minibert import backend


def _math_erf(x):
    return np.array([math.erf(float(v)) for v in x.ravel()]).reshape(x.shape)


def test_erf_float64_matches_math_erf_over_the_real_line():
    tiny = np.geomspace(1e-300, 1e-2, 300)
    grid = np.concatenate([
        np.linspace(-10, 10, 200001),                  # dense: both expansions and their seam
        np.linspace(2.4, 2.6, 20001), -np.linspace(2.4, 2.6, 20001),  # series / fraction switch
        np.linspace(5.9, 6.1, 2001),                   # saturation threshold
        tiny, -tiny, np.geomspace(10, 1e300, 100), -np.geomspace(10, 1e300, 100),
        [0.0, -0.0, 5e-324, -5e-324, np.inf, -np.inf],
    ])
    result = backend.erf(grid)
    assert result.dtype == np.float64
    assert np.abs(result - _math_erf(grid)).max() <= 1e-14


def test_erf_is_odd_and_exact_at_zero():
    x = np.linspace(0, 7, 7001)
    np.testing.assert_array_equal(backend.erf(-x), -backend.erf(x))
    assert backend.erf(np.array([0.0]))[0] == 0.0


def test_erf_float32_inputs_round_correctly():
    x = np.linspace(-7, 7, 100001).astype(np.float32)
    result = backend.erf(x)
    assert result.dtype == np.float32
    # Computed in float64 (error <= 1e-14), then rounded: within half a float32 ulp of the truth.
    reference = _math_erf(x)
    half_ulp = np.spacing(np.abs(reference).astype(np.float32)).astype(np.float64) / 2
    assert (np.abs(result.astype(np.float64) - reference) <= half_ulp + 1e-14).all()


def test_erf_of_a_zero_dimensional_array():
    for value in (0.5, 3.0, 7.0):
        result = backend.erf(np.array(value))
        assert np.shape(result) == () and abs(float(result) - math.erf(value)) <= 1e-14
