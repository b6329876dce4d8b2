"""Finite-difference gradient checking for the hand-written backward passes.

Usage (a scalar loss L = sum(y * r) makes every output element matter):

    x = rng.normal(size=(2, 3, 8))                        # float64
    r = rng.normal(size=(2, 3, 8))
    def loss():
        return (layer_norm_forward(x, gamma, beta, 1e-5)[0] * r).sum()
    y, cache = layer_norm_forward(x, gamma, beta, 1e-5)
    dx, dgamma, dbeta = layer_norm_backward(r, cache)     # dL/dy = r
    report = check_gradients(loss, {"x": x, "gamma": gamma, "beta": beta},
                             {"x": dx, "gamma": dgamma, "beta": dbeta})
    print(report)
    assert report.max_relative_error <= 1e-7
"""
import numpy as np

from minibert import backend

__all__ = ["numerical_gradient", "check_gradients", "GradientCheckReport"]


def numerical_gradient(f, x, eps=1e-6):
    """Central-difference gradient of a scalar function with respect to the float64 array x.

    f: a function of no arguments that reads x and returns a scalar (Python float or 0-d array).
    Each element x[i] is set to x[i] + eps, then x[i] - eps, and restored:

        grad[i] = (f(x + eps e_i) - f(x - eps e_i)) / (2 eps)

    The truncation error is O(eps^2) and the rounding error about 1e-16 * |f| / eps, so eps = 1e-6
    gives ~10 correct digits in float64. x is modified in place during the call and restored
    bit for bit. Returns a NumPy float64 array shaped like x.
    """
    if x.dtype != np.float64:
        raise ValueError(f"numerical_gradient: x must be float64 (a finite difference in lower "
                         f"precision is mostly rounding error), got {x.dtype}")
    grad = np.zeros(x.shape, dtype=np.float64)
    for index in np.ndindex(*x.shape):
        original = x[index]
        x[index] = original + eps
        f_plus = float(backend.to_numpy(f()))
        x[index] = original - eps
        f_minus = float(backend.to_numpy(f()))
        x[index] = original
        grad[index] = (f_plus - f_minus) / (2.0 * eps)
    return grad


class GradientCheckReport:
    """Per-tensor errors of an analytic gradient against a numerical one.

    ``errors`` maps each tensor's name to (max_abs_error, max_relative_error), where

        max_abs_error      = max |a - n|
        max_relative_error = max |a - n| / max(max |n|, max |a|, 1e-30)

    (a: analytic, n: numerical, maxima over the tensor's elements). Scaling by the tensor's
    largest entry, not element by element, keeps entries that are zero or tiny from turning
    rounding noise into a large relative error.
    """

    def __init__(self, errors):
        self.errors = errors

    @property
    def max_relative_error(self):
        """The largest relative error over all tensors."""
        return max(relative for _, relative in self.errors.values())

    @property
    def max_abs_error(self):
        """The largest absolute error over all tensors."""
        return max(absolute for absolute, _ in self.errors.values())

    def __str__(self):
        width = max(len(name) for name in self.errors)
        lines = [f"{'tensor':<{width}}  {'max abs err':>12}  {'max rel err':>12}"]
        for name, (absolute, relative) in self.errors.items():
            lines.append(f"{name:<{width}}  {absolute:12.3e}  {relative:12.3e}")
        return "\n".join(lines)

    __repr__ = __str__


def check_gradients(f, inputs, analytic, eps=1e-6):
    """Compare analytic gradients with central differences, tensor by tensor.

    f: () -> scalar, reading the arrays in ``inputs``.
    inputs: {name: float64 array} (a list or tuple is named "0", "1", ...).
    analytic: the analytic gradients, same names (or order) and shapes.
    Returns a GradientCheckReport (relative error defined there).
    """
    if not hasattr(inputs, "items"):
        inputs = {str(i): x for i, x in enumerate(inputs)}
        analytic = {str(i): g for i, g in enumerate(analytic)}
    errors = {}
    for name, x in inputs.items():
        numeric = numerical_gradient(f, x, eps)
        exact = np.asarray(backend.to_numpy(analytic[name]), dtype=np.float64)
        if exact.shape != numeric.shape:
            raise ValueError(f"check_gradients: analytic gradient {name!r} has shape "
                             f"{exact.shape}, expected {numeric.shape}")
        absolute = float(np.max(np.abs(exact - numeric), initial=0.0))
        scale = max(float(np.max(np.abs(numeric), initial=0.0)),
                    float(np.max(np.abs(exact), initial=0.0)), 1e-30)
        errors[name] = (absolute, absolute / scale)
    return GradientCheckReport(errors)
