"""Layer: the Keras-style object that owns Variables and sublayers and calls the pure ops.

Contract (every layer in minibert follows it):
    y = layer(inputs, training=False)   runs ``forward`` and keeps what ``backward`` needs
    dx = layer.backward(dy)             returns the gradient of the inputs and *adds* the
                                        gradient of each of its Variables into ``Variable.grad``

One forward, then one backward: ``backward`` takes the cache the last ``forward`` stored with
``self.save_cache(...)`` through ``self.pop_cache()``, which raises a clear error when there
is none (no forward yet, that forward was already used by a backward, or it ran inside
``no_grad()``, which keeps no caches: an inference forward then holds no activations).

Sublayers are found by attribute assignment (``self.dense = Dense(...)``, also lists of
layers), in assignment order; that order is the order of ``weights``.
"""
import contextlib
import re
import threading

from minibert import backend, dtype_policies
from minibert.layers import initializers
from minibert.layers.variable import Variable


_STATE = threading.local()


def caching():
    """False inside ``no_grad()``: forwards keep nothing for a backward."""
    return getattr(_STATE, "caching", True)


@contextlib.contextmanager
def no_grad():
    """Forwards inside this block keep no cache for a backward (as ``torch.no_grad``).

    Each layer's activations are freed as soon as the next layer has used them, so an
    inference forward holds only the arrays in flight (for BERT base at 8 x 128, about 0.6 GB
    less). The outputs are the same; a ``backward`` after such a forward raises (the caches of
    earlier forwards are dropped: a backward always belongs to the last forward). ``predict``
    and ``evaluate`` run their forwards this way. Applies to the calling thread.
    """
    previous = caching()
    _STATE.caching = False
    try:
        yield
    finally:
        _STATE.caching = previous


def _snake_case(name):
    """Keras's default layer name: "BertMaskedLMPreprocessor" -> "bert_masked_lm_preprocessor"."""
    name = re.sub(r"(.)([A-Z][a-z]+)", r"\1_\2", name)
    return re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", name).lower()


class Layer:
    """Base class of every layer and model."""

    #: Models (backbones and tasks) do not put their own name into their variables' paths,
    #: as in Keras where a functional model's layers are created outside its name scope.
    is_model = False

    def __init__(self, name=None, dtype=None, trainable=True):
        object.__setattr__(self, "_sublayers", [])
        object.__setattr__(self, "_parent", None)
        self._variables = []
        self._caches = {}
        self._trainable = bool(trainable)
        self.name = name or _snake_case(type(self).__name__)
        self.dtype_policy = dtype_policies.get(dtype)

    # --------------------------------------------------------------------------- structure
    def __setattr__(self, name, value):
        for layer in value if isinstance(value, (list, tuple)) else [value]:
            if isinstance(layer, Layer) and layer._parent is None and layer is not self:
                object.__setattr__(layer, "_parent", self)
                self._sublayers.append(layer)
        object.__setattr__(self, name, value)

    @property
    def path(self):
        """Names from the outermost non-model layer down to this one, joined by "/"."""
        if self.is_model:
            return ""
        parent = self._parent.path if self._parent is not None else ""
        return f"{parent}/{self.name}" if parent else self.name

    @property
    def layers(self):
        """Direct sublayers, in the order they were assigned."""
        return list(self._sublayers)

    def _flatten_layers(self):
        yield self
        for layer in self._sublayers:
            yield from layer._flatten_layers()

    def add_weight(self, name, shape, initializer="zeros", trainable=True):
        """Create a Variable in the policy's variable dtype, drawn from ``initializer``
        (or left unset inside ``initializers.deferred_initialization()``)."""
        variable = Variable(None, name, self, trainable, initializers.get(initializer))
        variable.value = backend.xp().empty(tuple(shape), dtype=self.dtype_policy.variable_dtype)
        if not initializers.is_deferred():
            variable.initialize()
        self._variables.append(variable)
        return variable

    @property
    def dtype(self):
        """The variable dtype (as Keras's ``layer.dtype``)."""
        return self.dtype_policy.variable_dtype

    @property
    def compute_dtype(self):
        return self.dtype_policy.compute_dtype

    # ------------------------------------------------------------------------------ weights
    @property
    def trainable(self):
        parent_trainable = self._parent.trainable if self._parent is not None else True
        return self._trainable and parent_trainable

    @trainable.setter
    def trainable(self, value):
        """``layer.trainable = False`` freezes every variable below this layer."""
        self._trainable = bool(value)

    @property
    def weights(self):
        """Every Variable below this layer, each once, own variables first."""
        seen, result = set(), []
        for layer in self._flatten_layers():
            for variable in layer._variables:
                if id(variable) not in seen:
                    seen.add(id(variable))
                    result.append(variable)
        return result

    @property
    def trainable_weights(self):
        return [v for v in self.weights if v.trainable]

    @property
    def non_trainable_weights(self):
        return [v for v in self.weights if not v.trainable]

    def get_weights(self):
        """The values of ``weights`` as host numpy arrays."""
        return [v.numpy() for v in self.weights]

    def set_weights(self, values):
        """Assign a list of arrays, in the order of ``weights``; shapes must match."""
        weights = self.weights
        if len(values) != len(weights):
            raise ValueError(f"set_weights on {self.name!r}: expected {len(weights)} arrays, "
                             f"got {len(values)}")
        for variable, value in zip(weights, values):
            variable.assign(value)

    def count_params(self):
        return sum(v.size for v in self.weights)

    def zero_grad(self):
        """Forget the gradients of every Variable below this layer."""
        for variable in self.weights:
            variable.grad = None

    # ------------------------------------------------------------------------------ running
    def __call__(self, *args, **kwargs):
        return self.forward(*args, **kwargs)

    def forward(self, inputs, training=False):
        raise NotImplementedError

    def backward(self, dy):
        raise NotImplementedError

    def save_cache(self, cache, slot="forward"):
        """Keep what ``backward`` needs (called at the end of ``forward``).

        A layer used in two ways in one step (a tied embedding: lookup and reverse projection)
        keeps one cache per ``slot``. Inside ``no_grad()`` nothing is kept, and the cache of
        an earlier forward is dropped too: a backward always belongs to the last forward.
        """
        if caching():
            self._caches[slot] = cache
        else:
            self._caches.pop(slot, None)

    def clear_caches(self):
        """Forget the caches of this layer and every layer below it (a layer whose fast path
        replaces its sublayers' forward calls this, so a stale sublayer cache is never used)."""
        for layer in self._flatten_layers():
            layer._caches.clear()

    def pop_cache(self, slot="forward"):
        """Take the cache of the last forward; a second take, or none, is an error."""
        if slot not in self._caches:
            raise RuntimeError(
                f"{type(self).__name__} {self.name!r}: backward() needs a forward() first, and "
                "each forward() serves exactly one backward(). Call the layer again before "
                "calling backward() again (and not inside minibert.no_grad(), whose forwards "
                "keep nothing for a backward).")
        return self._caches.pop(slot)

    # ------------------------------------------------------------------------ serialisation
    def get_config(self):
        return {"name": self.name, "trainable": self._trainable,
                "dtype": self.dtype_policy.get_config()}

    @classmethod
    def from_config(cls, config):
        return cls(**config)

    def summary(self, print_fn=print):
        """Print each direct sublayer with its class, weight shapes and parameter count."""
        rows = [(layer.name, type(layer).__name__,
                 ", ".join(str(v.shape) for v in layer.weights[:2]) +
                 (", ..." if len(layer.weights) > 2 else ""),
                 layer.count_params()) for layer in self._sublayers]
        widths = [max([len(str(r[i])) for r in rows] + [len(h)])
                  for i, h in enumerate(("Layer", "Class", "Weights", "Params"))]
        line = "  ".join("{:<%d}" % w for w in widths)
        print_fn(f'{type(self).__name__} "{self.name}"')
        print_fn(line.format("Layer", "Class", "Weights", "Params"))
        print_fn(line.format(*("-" * w for w in widths)))
        for row in rows:
            print_fn(line.format(*(str(c) for c in row[:3]), f"{row[3]:,}"))
        trainable = sum(v.size for v in self.trainable_weights)
        print_fn(f"Total params: {self.count_params():,} (trainable {trainable:,})")

    def __repr__(self):
        return f"<{type(self).__name__} name={self.name!r}>"
