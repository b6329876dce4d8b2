"""Activation functions by Keras name, each a (forward, backward) pair of ops.

Names: None / "linear", "relu", "tanh", "gelu" (exact, erf), "gelu_approximate" (tanh form),
"softmax" (over the last axis).
"""
import functools

from minibert.ops import activations, softmax


def _linear_forward(x):
    return x, None


def _linear_backward(dy, cache):
    return dy


_ACTIVATIONS = {
    "linear": (_linear_forward, _linear_backward),
    "relu": (activations.relu_forward, activations.relu_backward),
    "tanh": (activations.tanh_forward, activations.tanh_backward),
    "gelu": (functools.partial(activations.gelu_forward, approximate=False),
             activations.gelu_backward),
    "gelu_approximate": (functools.partial(activations.gelu_forward, approximate=True),
                         activations.gelu_backward),
    "softmax": (softmax.softmax_forward, softmax.softmax_backward),
}


def get(name):
    """(forward, backward) for an activation name; None means "linear"."""
    name = "linear" if name is None else name
    if name not in _ACTIVATIONS:
        raise ValueError(f"activation: expected one of {sorted(_ACTIVATIONS)} or None, "
                         f"got {name!r}")
    return _ACTIVATIONS[name]


def serialize(name):
    """The name Keras writes in configs ("linear" for None)."""
    return "linear" if name is None else name
