"""Shared pieces of the training tests: minibert Variables from arrays, evidence on failure."""
import numpy as np

from minibert.layers.layer import Layer


class Holder(Layer):
    """A layer that only owns Variables with given names and initial values."""

    def __init__(self, arrays, dtype=None):
        super().__init__(name="holder", dtype=dtype)
        self.variables = []
        for name, value in arrays.items():
            variable = self.add_weight(name, np.shape(value))
            variable.assign(value)
            self.variables.append(variable)


def compare(name, ours, reference, tolerance, scale=None):
    """Assert max |ours - reference| <= tolerance * scale (scale: max(1, max |reference|));
    the failure message shows the error and the first values of both."""
    ours = np.asarray(ours, dtype=np.float64)
    reference = np.asarray(reference, dtype=np.float64)
    assert ours.shape == reference.shape, f"{name}: shape {ours.shape} != {reference.shape}"
    if scale is None:
        scale = max(1.0, float(np.abs(reference).max(initial=0.0)))
    error = float(np.abs(ours - reference).max(initial=0.0))
    assert error <= tolerance * scale, (
        f"{name}: max abs error {error:.3e} > {tolerance:.1e} * {scale:.3g}\n"
        f"  ours      {ours.ravel()[:5]}\n  reference {reference.ravel()[:5]}")
    return error
