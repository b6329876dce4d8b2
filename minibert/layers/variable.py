"""Variable: one named weight array, its gradient, and whether training may change it."""
import numpy as np

from minibert import backend


class Variable:
    """A weight owned by a layer.

    Attributes:
        name: the last part of the path ("kernel", "bias", "embeddings", "gamma", ...).
        value: the array, on the active backend, in the owner's variable dtype.
        grad: None until a backward pass adds into it; then an array shaped like ``value``.
        trainable: False if the variable itself, or any layer above it, is frozen.
        path: a Keras-like path such as ``transformer_layer_0/self_attention/query/kernel``.
    """

    def __init__(self, value, name, owner, trainable=True, initializer=None):
        self.value = value
        self.name = name
        self.grad = None
        self.initializer = initializer
        self.initialized = value is not None
        self._owner = owner
        self._trainable = trainable

    @property
    def path(self):
        prefix = self._owner.path
        return f"{prefix}/{self.name}" if prefix else self.name

    @property
    def trainable(self):
        return self._trainable and self._owner.trainable

    @trainable.setter
    def trainable(self, value):
        self._trainable = bool(value)

    @property
    def shape(self):
        return tuple(self.value.shape)

    @property
    def dtype(self):
        return self.value.dtype

    @property
    def size(self):
        return int(self.value.size)

    def add_grad(self, grad, owned=False):
        """Add ``grad`` into ``self.grad`` (a tied weight collects several gradients).

        Frozen variables ignore it; callers check ``trainable`` first to skip the work.
        ``owned=True`` says that nobody else holds ``grad`` (a fresh result of a backward op):
        the first gradient is then kept as it is instead of copied.
        """
        if not self.trainable:
            return
        same_dtype = grad.dtype == self.value.dtype
        grad = grad.astype(self.value.dtype, copy=False)
        if self.grad is None:
            self.grad = grad if owned or not same_dtype else grad.copy()
        else:
            self.grad += grad

    def assign(self, value, copy=True):
        """Replace the value with ``value`` (any backend or a list), checking the shape.

        ``copy=False`` lets the variable keep ``value`` itself when it already has the right
        backend and dtype (a loader handing over arrays it just read); by default the variable
        holds its own copy, so later changes to ``value`` do not reach it.
        """
        value = backend.asarray(value)
        if tuple(value.shape) != self.shape:
            raise ValueError(f"assign {self.path}: expected shape {self.shape}, "
                             f"got {tuple(value.shape)}")
        self.value = value.astype(self.value.dtype, copy=copy)
        self.initialized = True

    def initialize(self):
        """Draw a fresh value from the variable's initializer (drawn on the host, in float64,
        then cast: the same numbers on every backend and dtype)."""
        self.assign(self.initializer(self.shape, np.float64))

    def numpy(self):
        """A host numpy.ndarray copy of the value (later updates do not change it)."""
        return np.array(backend.to_numpy(self.value))

    def __repr__(self):
        return f"<Variable path={self.path!r} shape={self.shape} dtype={self.dtype}>"
