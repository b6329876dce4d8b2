"""The gradient-check pattern every op test uses, written once."""
import numpy as np
from hypothesis import settings

from minibert.testing.gradient_check import check_gradients

# Shapes and seeds come from hypothesis; 15 examples per property keeps the suite fast, and a
# fixed generation seed keeps it deterministic in CI.
SETTINGS = settings(max_examples=15, deadline=None, derandomize=True)

# A central difference resolves a derivative only down to its rounding floor, about
# 1e-16 * |L| / eps = 1e-10 for a loss of order one. Where an op saturates (tanh, the GELU tails,
# a softmax row dominated by one logit) the true gradient sinks towards that floor and the check
# would measure noise. Inputs of the saturating ops are therefore drawn from [-LIMIT, LIMIT]:
# there tanh' >= 1e-2, |gelu'| >= 1e-2 away from its single root, and softmax probabilities of a
# row differ by at most e^(2 * LIMIT) ~ 400.
LIMIT = 3.0

# For an op that is linear in each input separately (dense, the embeddings, dropout) the central
# difference has no truncation error at any step, so a large step only lowers the rounding floor:
# with eps = 1e-3 it is 1e-13 * |L|, and a small gradient (a kernel gradient is proportional to
# x, which may be tiny) stays well above it.
LINEAR_EPS = 1e-3


def bounded(rng, shape, limit):
    """Uniform values in [-limit, limit] (limit <= LIMIT: see the note above)."""
    return rng.uniform(-limit, limit, size=shape)


def check_op(forward, backward, inputs, rng, tolerance, eps=1e-6, center_axis=None):
    """Gradient-check one op in float64 and return its analytic gradients.

    forward(**inputs) -> (y, cache); backward(dy, cache) -> {name: gradient} for the inputs to
    check. The scalar loss is L = sum(y * r) with a fixed random r, so dL/dy = r and every
    element of y matters. eps is the finite-difference step. center_axis: remove the mean of r
    along that axis (for outputs that sum to a constant along it; see test_softmax.py).
    """
    y, cache = forward(**inputs)
    r = rng.normal(size=np.shape(y))
    if center_axis is not None:
        r -= r.mean(axis=center_axis, keepdims=True)
    analytic = backward(r, cache)
    report = check_gradients(lambda: (forward(**inputs)[0] * r).sum(),
                             {name: inputs[name] for name in analytic}, analytic, eps)
    assert report.max_relative_error <= tolerance, f"\n{report}"
    return analytic
