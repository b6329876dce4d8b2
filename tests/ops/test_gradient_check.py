import numpy as np
import pytest

from minibert.testing.gradient_check import check_gradients, numerical_gradient


def test_numerical_gradient_of_a_cubic_and_restores_x():
    x = np.array([[0.5, -1.25], [2.0, 3.0]])
    before = x.copy()
    grad = numerical_gradient(lambda: (x ** 3).sum(), x)
    # d/dx x^3 = 3 x^2; rounding floor ~ 1e-16 * |f| / eps = 4e-9 for f = 36.6, truncation
    # eps^2 * f'''/6 = 1e-12.
    np.testing.assert_allclose(grad, 3 * before ** 2, rtol=0, atol=1e-8)
    np.testing.assert_array_equal(x, before)


def test_numerical_gradient_refuses_low_precision():
    with pytest.raises(ValueError, match="float64"):
        numerical_gradient(lambda: 0.0, np.zeros(2, np.float32))


def test_report_uses_the_stated_relative_error():
    a, b = np.array([1.0, -2.0]), np.array([[0.0, 3.0]])
    f = lambda: (a ** 2).sum() + (b * 2.0).sum()                   # grads: 2a and 2
    report = check_gradients(f, {"a": a, "b": b}, {"a": 2 * a, "b": np.array([[2.0, 2.5]])})
    abs_a, rel_a = report.errors["a"]
    assert abs_a < 1e-8 and rel_a < 1e-8
    # b: max|a - n| = 0.5, max|n| = 2, max|a| = 2.5 -> 0.5 / 2.5
    np.testing.assert_allclose(report.errors["b"], (0.5, 0.2), rtol=1e-8)
    assert report.max_relative_error == report.errors["b"][1]
    assert "a" in str(report) and "b" in str(report) and "max rel err" in str(report)


def test_sequences_are_named_by_position_and_shapes_are_checked():
    x = np.array([1.0, 2.0])
    report = check_gradients(lambda: (x * x).sum(), [x], [2 * x])
    assert list(report.errors) == ["0"] and report.max_relative_error < 1e-8
    with pytest.raises(ValueError, match="shape"):
        check_gradients(lambda: (x * x).sum(), [x], [np.zeros(3)])
