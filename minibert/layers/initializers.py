"""Weight initialisers with Keras's names and semantics. Values are drawn on the host with the
shared generator of ``minibert.utils`` (so a seed reproduces them on any backend)."""
import contextlib
import math

import numpy as np

from minibert import utils


class Initializer:
    """Callable ``(shape, dtype) -> numpy.ndarray``."""

    def __call__(self, shape, dtype):
        raise NotImplementedError

    def get_config(self):
        return {}


class Zeros(Initializer):
    def __call__(self, shape, dtype):
        return np.zeros(shape, dtype=dtype)


class Ones(Initializer):
    def __call__(self, shape, dtype):
        return np.ones(shape, dtype=dtype)


class RandomUniform(Initializer):
    """Uniform(minval, maxval) (Keras's "uniform", the default for embeddings)."""

    def __init__(self, minval=-0.05, maxval=0.05, seed=None):
        self.minval, self.maxval, self.seed = minval, maxval, seed

    def __call__(self, shape, dtype):
        rng = np.random.default_rng(self.seed) if self.seed is not None else utils.host_rng()
        return rng.uniform(self.minval, self.maxval, size=shape).astype(dtype)

    def get_config(self):
        return {"minval": self.minval, "maxval": self.maxval, "seed": self.seed}


class TruncatedNormal(Initializer):
    """Normal(mean, stddev) with every value beyond two standard deviations drawn again."""

    def __init__(self, mean=0.0, stddev=0.05, seed=None):
        self.mean, self.stddev, self.seed = mean, stddev, seed

    def __call__(self, shape, dtype):
        rng = np.random.default_rng(self.seed) if self.seed is not None else utils.host_rng()
        values = rng.standard_normal(shape)
        outside = np.abs(values) > 2.0
        while outside.any():                                 # redraw until all are inside
            values[outside] = rng.standard_normal(int(outside.sum()))
            outside = np.abs(values) > 2.0
        return (self.mean + self.stddev * values).astype(dtype)

    def get_config(self):
        return {"mean": self.mean, "stddev": self.stddev, "seed": self.seed}


class GlorotUniform(Initializer):
    """Uniform(-l, l) with l = sqrt(6 / (fan_in + fan_out)) (Keras's default for kernels)."""

    def __init__(self, seed=None):
        self.seed = seed

    def __call__(self, shape, dtype):
        rng = np.random.default_rng(self.seed) if self.seed is not None else utils.host_rng()
        fan_in, fan_out = (shape[0], shape[-1]) if len(shape) >= 2 else (shape[0], shape[0])
        if len(shape) > 2:                                   # einsum kernels: fold inner axes
            receptive = math.prod(shape[1:-1])
            fan_in, fan_out = shape[0] * receptive, shape[-1] * receptive
        limit = math.sqrt(6.0 / (fan_in + fan_out))
        return rng.uniform(-limit, limit, size=shape).astype(dtype)

    def get_config(self):
        return {"seed": self.seed}


_BY_NAME = {"zeros": Zeros, "ones": Ones, "glorot_uniform": GlorotUniform, "uniform": RandomUniform,
            "truncated_normal": TruncatedNormal}


def get(identifier):
    """An Initializer from an instance or a Keras name ("zeros", "glorot_uniform", ...)."""
    if isinstance(identifier, Initializer):
        return identifier
    if identifier in _BY_NAME:
        return _BY_NAME[identifier]()
    raise ValueError(f"initializer: expected one of {sorted(_BY_NAME)} or an Initializer, "
                     f"got {identifier!r}")


_deferred = False


@contextlib.contextmanager
def deferred_initialization(enabled=True):
    """Inside this block, new weights get storage but no values (``Variable.initialized`` is
    False). A preset loader builds a model this way, assigns the weights it reads, then calls
    ``initialize_unset`` for the rest: drawing millions of random numbers only to overwrite
    them would cost more than reading the file."""
    global _deferred
    previous, _deferred = _deferred, enabled
    try:
        yield
    finally:
        _deferred = previous


def is_deferred():
    return _deferred


def initialize_unset(layer):
    """Initialize every weight of ``layer`` that was created deferred and never assigned."""
    for variable in layer.weights:
        if not variable.initialized:
            variable.initialize()
