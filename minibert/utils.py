"""Random seeds: one call makes weight initialisation, dropout and masking reproducible."""
import numpy as np

from minibert import backend

_host_rng = np.random.default_rng()


def set_random_seed(seed):
    """Seed every random draw minibert makes from here on (as ``keras.utils.set_random_seed``).

    Weight initialisers and the MLM masker draw from one host generator; each dropout layer
    gets its own generator of the active backend, seeded from the host generator when the
    layer is built. Two runs that call ``set_random_seed(s)`` first are identical.
    """
    global _host_rng
    _host_rng = np.random.default_rng(seed)


def host_rng():
    """The shared NumPy generator (weights are initialised on the host, then moved)."""
    return _host_rng


def new_device_rng(seed=None):
    """A fresh generator of the active backend, seeded by ``seed`` or by the host generator."""
    if seed is None:
        seed = int(_host_rng.integers(0, 2**63 - 1))
    return backend.default_rng(seed)
