"""Streaming metrics with Keras's names and weighting: ``Mean`` and ``SparseCategoricalAccuracy``.

A metric accumulates ``update_state`` calls into a running ``total`` and ``count`` and reports
``result() = total / count`` (0 when count is 0). The accumulators are 0-d arrays on the backend
of the values, in float32 as Keras's, so an update costs no host sync; ``result()`` syncs once.

Weighting follows Keras's ``reduce_to_samplewise_values`` exactly. With values of shape
(B, ...) and sample_weight of shape (B, ...):

    values <- values * sample_weight, both then averaged over every axis after the first
    total  += sum(values);  count += sum(sample_weight)   (count += B without weights)

so a weighted accuracy over (B, M) mask slots is sum(w * correct) / sum(w): padded slots
(weight 0) do not count, unlike in the loss, which divides by B*M.
"""
from minibert import backend

__all__ = ["Metric", "Mean", "MeanMetricWrapper", "SparseCategoricalAccuracy",
           "sparse_categorical_accuracy", "get"]


class Metric:
    """Base class: ``update_state(...)``, ``result()`` (a float), ``reset_state()``.

    ``direction`` is "up" for metrics that improve upwards (accuracy), "down" for ones that
    improve downwards (losses), or None; callbacks in mode "auto" read it.
    """

    direction = None

    def __init__(self, name=None, dtype="float32"):
        self.name = name or type(self).__name__.lower()
        self.dtype = dtype

    def update_state(self, *args, **kwargs):
        raise NotImplementedError

    def result(self):
        raise NotImplementedError

    def reset_state(self):
        raise NotImplementedError

    def get_config(self):
        return {"name": self.name, "dtype": self.dtype}

    @classmethod
    def from_config(cls, config):
        return cls(**config)

    def __repr__(self):
        return f"<{type(self).__name__} name={self.name!r}>"


def _samplewise(values, sample_weight, xp):
    """Keras's ``reduce_to_samplewise_values`` with ``mean``: -> values (B,) or (), weight."""
    if sample_weight is not None:
        if sample_weight.ndim == values.ndim + 1 and sample_weight.shape[-1] == 1:
            sample_weight = sample_weight[..., 0]
        elif values.ndim == sample_weight.ndim + 1 and values.shape[-1] == 1:
            values = values[..., 0]
        if values.ndim > sample_weight.ndim:
            values = values.mean(axis=tuple(range(sample_weight.ndim, values.ndim)))
        sample_weight = xp.broadcast_to(sample_weight, values.shape)
        values = values * sample_weight
        if sample_weight.ndim > 1:
            sample_weight = sample_weight.mean(axis=tuple(range(1, sample_weight.ndim)))
    if values.ndim > 1:
        values = values.mean(axis=tuple(range(1, values.ndim)))
    return values, sample_weight


class Mean(Metric):
    """The (weighted) mean of every value given to ``update_state(values, sample_weight)``."""

    def __init__(self, name="mean", dtype="float32"):
        super().__init__(name=name, dtype=dtype)
        self.reset_state()

    def reset_state(self):
        self._total = None          # 0-d arrays, created on the backend of the first update
        self._count = None

    def update_state(self, values, sample_weight=None):
        """values: array or number; sample_weight: None, a number, or an array (see module)."""
        values = backend.asarray(values)
        xp = backend.get_array_module(values)
        values = values.astype(self.dtype, copy=False)
        if sample_weight is not None:
            sample_weight = backend.asarray(sample_weight).astype(self.dtype, copy=False)
        values, sample_weight = _samplewise(values, sample_weight, xp)
        if sample_weight is not None:
            count = sample_weight.sum()
        else:
            count = values.shape[0] if values.ndim else 1
        total = values.sum()
        if self._total is None:
            self._total = xp.zeros((), dtype=self.dtype)
            self._count = xp.zeros((), dtype=self.dtype)
        self._total += total.astype(self.dtype)
        self._count += xp.asarray(count, dtype=self.dtype)

    def result(self):
        """total / count as a float (0.0 before any update or when count is 0)."""
        if self._total is None:
            return 0.0
        count = float(self._count)
        return float(self._total) / count if count else 0.0


class MeanMetricWrapper(Mean):
    """The running mean of ``fn(y_true, y_pred)``, weighted by ``sample_weight``."""

    def __init__(self, fn, name=None, dtype="float32"):
        super().__init__(name=name or fn.__name__, dtype=dtype)
        self._fn = fn

    def update_state(self, y_true, y_pred, sample_weight=None):
        super().update_state(self._fn(y_true, y_pred), sample_weight=sample_weight)


def sparse_categorical_accuracy(y_true, y_pred):
    """1.0 where argmax(y_pred, -1) equals the integer label, else 0.0.

    y_true (...) or (..., 1), y_pred (..., C)  ->  float32 (...), on y_pred's backend.
    """
    y_pred = backend.asarray(y_pred)
    xp = backend.get_array_module(y_pred)
    labels = backend.asarray(y_true)
    if labels.ndim == y_pred.ndim and labels.shape[-1] == 1:
        labels = labels[..., 0]
    predicted = xp.argmax(y_pred, axis=-1)                                  # (...)
    return (predicted == labels.astype(predicted.dtype)).astype("float32")


class SparseCategoricalAccuracy(MeanMetricWrapper):
    """How often argmax(y_pred) equals the integer label, as
    ``keras.metrics.SparseCategoricalAccuracy``."""

    direction = "up"

    def __init__(self, name="sparse_categorical_accuracy", dtype="float32"):
        super().__init__(sparse_categorical_accuracy, name=name, dtype=dtype)


_METRICS = {"sparse_categorical_accuracy": SparseCategoricalAccuracy,
            "accuracy": SparseCategoricalAccuracy, "acc": SparseCategoricalAccuracy}


def get(identifier):
    """A metric from an instance (returned as is) or a name. "accuracy" and "acc" give a
    SparseCategoricalAccuracy named after the string, as Keras does for integer labels."""
    if isinstance(identifier, Metric):
        return identifier
    if isinstance(identifier, str) and identifier in _METRICS:
        return _METRICS[identifier](name=identifier)
    raise ValueError(f"metric: expected a minibert Metric or one of {sorted(_METRICS)}; got "
                     f"{identifier!r}")
