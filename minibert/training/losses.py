"""Losses with Keras's semantics, each with its gradient: ``forward`` / ``backward`` twins.

A loss has two stages, as ``keras.losses.Loss``:

    1. a per-element loss  values (...)  from y_true and y_pred (the subclass);
    2. the weighting and reduction (this base class):

        weighted = values * sample_weight          (sample_weight None = all ones)
        "sum_over_batch_size" (default; "mean" is the same)   sum(weighted) / values.size
        "mean_with_sample_weight"                             sum(weighted) / sum(sample_weight)
        "sum"                                                 sum(weighted)
        "none" or None                                        weighted, per element

For a masked LM, values has shape (B, M) (one entry per mask slot) and the default divides by
B*M, *not* by the number of real masks: padded slots have weight 0 but still count. Hugging
Face's models divide by the number of real labels instead; ``mean_with_sample_weight`` (or
``ignore_class``, below) gives that normalisation. docs/training.md compares the two.

A divisor of 0 gives a loss of 0 (Keras's ``divide_no_nan``). Losses compute in float32
(float64 stays float64), whatever the dtype of y_pred.

``sample_weight`` has the shape of the labels, or one more trailing axis of size 1, or one
fewer when the labels end in an axis of size 1 (Keras's rank adjustment), or is a scalar; axes
of size 1 broadcast.
"""
import numpy as np

from minibert import backend
from minibert.ops import fast
from minibert.ops.cross_entropy import (softmax_cross_entropy_backward,
                                        softmax_cross_entropy_forward)
from minibert.ops.precision import accumulation_dtype

__all__ = ["Loss", "SparseCategoricalCrossentropy", "get"]

REDUCTIONS = ("sum_over_batch_size", "mean", "mean_with_sample_weight", "sum", "none", None)

#: Keras's ``backend.epsilon()``: probabilities are clipped to [EPSILON, 1 - EPSILON].
EPSILON = 1e-7


class Loss:
    """Base class: weighting, reduction and the gradient of both.

    Subclasses implement ``_elementwise_forward(y_true, y_pred) -> (values, mask, cache)``
    (``mask`` is None, or a boolean array of elements that count) and
    ``_elementwise_backward(dvalues, cache) -> dy_pred``.
    """

    def __init__(self, name=None, reduction="sum_over_batch_size"):
        if reduction not in REDUCTIONS:
            raise ValueError(f"{type(self).__name__}: reduction must be one of {REDUCTIONS}, "
                             f"got {reduction!r}")
        self.name = name
        self.reduction = reduction

    def __call__(self, y_true, y_pred, sample_weight=None):
        """The loss as a Python float (a NumPy array for reduction "none")."""
        value, _ = self.forward(y_true, y_pred, sample_weight)
        value = backend.to_numpy(value)
        return value if value.ndim else float(value)

    def value_and_gradient(self, y_true, y_pred, sample_weight=None):
        """(loss, d loss / d y_pred): the loss a 0-d array of y_pred's backend (values
        (...) for "none"), the gradient shaped and typed like y_pred."""
        value, cache = self.forward(y_true, y_pred, sample_weight)
        xp = backend.get_array_module(value)
        return value, self.backward(xp.ones_like(value), cache)

    def forward(self, y_true, y_pred, sample_weight=None):
        """Returns (loss, cache); the loss is a 0-d array on y_pred's backend ((...) for
        "none")."""
        values, mask, elementwise_cache = self._elementwise_forward(y_true, y_pred)  # (...)
        xp = backend.get_array_module(values)
        weight = self._standardize_weight(sample_weight, values)            # (...), () or None
        weight = self._apply_mask(weight, mask, values, xp)
        weighted = values if weight is None else values * weight            # (...)
        if self.reduction in ("none", None):
            loss, scale = weighted, 1.0
        elif self.reduction == "sum":
            loss, scale = weighted.sum(), 1.0
        elif self.reduction == "mean_with_sample_weight" and weight is not None:
            divisor = weight.sum()                                          # () on the device
            nonzero = divisor != 0
            safe = xp.where(nonzero, divisor, 1.0).astype(values.dtype)     # divide_no_nan
            loss = xp.where(nonzero, weighted.sum() / safe, 0.0).astype(values.dtype)
            scale = xp.where(nonzero, 1.0 / safe, 0.0).astype(values.dtype)
        else:
            size = max(values.size, 1)
            loss, scale = weighted.sum() / size, 1.0 / size
        return loss, (elementwise_cache, weight, scale, values.shape, values.dtype, xp)

    def backward(self, dloss, cache):
        """d loss / d y_pred, given d(objective)/d loss (a scalar, or (...) for "none").

        A loss scale for mixed precision goes in here as ``dloss``: it multiplies the
        gradient while it is still float32, before it is cast to y_pred's dtype.
        """
        elementwise_cache, weight, scale, shape, dtype, xp = cache
        dvalues = xp.asarray(dloss * scale, dtype=dtype)                    # () or (...)
        if weight is not None:
            dvalues = dvalues * weight
        dvalues = xp.broadcast_to(dvalues, shape)                           # (...)
        return self._elementwise_backward(dvalues, elementwise_cache)

    # ---------------------------------------------------------------------------- helpers
    def _standardize_weight(self, sample_weight, values):
        if sample_weight is None:
            return None
        weight = backend.asarray(sample_weight).astype(values.dtype, copy=False)
        if weight.ndim == values.ndim + 1 and weight.shape[-1] == 1:
            weight = weight[..., 0]
        elif values.ndim == weight.ndim + 1 and values.shape[-1] == 1 and weight.ndim:
            weight = weight[..., None]
        if weight.ndim and (weight.ndim != values.ndim or any(
                w not in (1, v) for w, v in zip(weight.shape, values.shape))):
            raise ValueError(f"{type(self).__name__}: sample_weight must have the shape of the "
                             f"labels {tuple(values.shape)} (or broadcast to it); got "
                             f"{tuple(weight.shape)}")
        return weight

    def _apply_mask(self, weight, mask, values, xp):
        """Fold a mask of counted elements into the weights, as Keras's ``apply_mask``.

        For the averaging reductions the kept elements are scaled by size / (number kept),
        so "sum_over_batch_size" averages over the kept elements only.
        """
        if mask is None:
            return weight
        if self.reduction in ("mean", "sum_over_batch_size"):
            kept = mask.sum()
            factor = xp.where(kept != 0, mask.size / xp.maximum(kept, 1), 0.0)
            float_mask = xp.where(mask, factor, 0.0).astype(values.dtype)
        else:
            float_mask = mask.astype(values.dtype)
        return float_mask if weight is None else weight * float_mask

    def _elementwise_forward(self, y_true, y_pred):
        raise NotImplementedError

    def _elementwise_backward(self, dvalues, cache):
        raise NotImplementedError

    def get_config(self):
        return {"name": self.name, "reduction": self.reduction}

    @classmethod
    def from_config(cls, config):
        return cls(**config)


class SparseCategoricalCrossentropy(Loss):
    """Cross-entropy between integer labels and a distribution over the last axis of y_pred,
    as ``keras.losses.SparseCategoricalCrossentropy``.

    y_true (...) integers in [0, C) (a trailing axis of size 1 is squeezed);
    y_pred (..., C): logits if ``from_logits`` else probabilities.

        from_logits=True:   values = logsumexp(y_pred) - y_pred[label]
                            (the fused softmax cross-entropy op, ops/cross_entropy.py)
        from_logits=False:  q = clip(y_pred / sum(y_pred), 1e-7, 1 - 1e-7)
                            values = -log q[label]               (Keras's probability path)

    Args:
        from_logits: whether y_pred holds logits (KerasHub's masked LMs and classifiers
            without a softmax activation) or probabilities.
        ignore_class: None, or a label value (e.g. -100, Hugging Face's convention) whose
            elements count for nothing: their loss and gradient are 0, and the averaging
            reductions divide by the number of the other elements (Keras's semantics).
        reduction: see the module docstring.
    """

    def __init__(self, from_logits=False, ignore_class=None, reduction="sum_over_batch_size",
                 name="sparse_categorical_crossentropy"):
        super().__init__(name=name, reduction=reduction)
        self.from_logits = from_logits
        self.ignore_class = ignore_class

    def _labels(self, y_true, y_pred):
        """Validated integer labels on y_pred's backend, shaped y_pred.shape[:-1]."""
        labels = y_true if backend.is_array(y_true) else np.asarray(y_true)
        if labels.ndim == y_pred.ndim and labels.shape[-1] == 1:
            labels = labels[..., 0]
        if tuple(labels.shape) != tuple(y_pred.shape[:-1]):
            raise ValueError(f"{self.name}: y_true must have shape {tuple(y_pred.shape[:-1])} "
                             f"(y_pred's shape without its class axis); got "
                             f"{tuple(labels.shape)} for y_pred {tuple(y_pred.shape)}")
        if backend.get_array_module(labels) is np:                         # host: check range
            if labels.dtype.kind == "f":
                labels = labels.astype("int64")
            checked = labels if self.ignore_class is None else labels[labels != self.ignore_class]
            if checked.size and (checked.min() < 0 or checked.max() >= y_pred.shape[-1]):
                raise ValueError(f"{self.name}: every label must be in [0, {y_pred.shape[-1]})"
                                 f"; got values from {checked.min()} to {checked.max()}")
        return backend.asarray(labels).astype("int64", copy=False)

    def _elementwise_forward(self, y_true, y_pred):
        y_pred = backend.asarray(y_pred)
        labels = self._labels(y_true, y_pred)                             # (...)
        mask = None
        if self.ignore_class is not None:
            mask = labels != self.ignore_class                            # (...)
            labels = labels * mask                                        # ignored -> class 0
        if self.from_logits:                # the fast op: blocks on the pool, one exp a logit
            forward = (fast.softmax_cross_entropy_forward_fast if fast.enabled()
                       else softmax_cross_entropy_forward)
            values, cache = forward(y_pred, labels, reduction="none")
        else:
            values, cache = _probability_nll_forward(y_pred, labels)
        return values, mask, cache

    def _elementwise_backward(self, dvalues, cache):
        if self.from_logits:                # either backward reads either forward's cache
            backward = (fast.softmax_cross_entropy_backward_fast if fast.enabled()
                        else softmax_cross_entropy_backward)
            return backward(dvalues, cache)
        return _probability_nll_backward(dvalues, cache)

    def get_config(self):
        return {**super().get_config(), "from_logits": self.from_logits,
                "ignore_class": self.ignore_class}


def _probability_nll_forward(probs, labels):
    """-log of the clipped, normalised probability of each label, as Keras's probability path.

    probs (..., C), labels (...)  ->  values (...), cache
    """
    xp = backend.get_array_module(probs)
    p = probs.astype(accumulation_dtype(xp, probs.dtype), copy=False)     # (..., C)
    total = p.sum(axis=-1, keepdims=True)                                 # (..., 1)
    normalized = p / total                                                # (..., C)
    picked = xp.take_along_axis(normalized, labels[..., None], axis=-1)[..., 0]  # (...)
    clipped = xp.clip(picked, EPSILON, 1.0 - EPSILON)                     # (...)
    inside = (picked >= EPSILON) & (picked <= 1.0 - EPSILON)              # (...) clip passes dq
    return -xp.log(clipped), (normalized, labels, total, clipped, inside, probs.dtype)


def _probability_nll_backward(dvalues, cache):
    """Gradient of _probability_nll_forward.

    dvalues (...)  ->  dprobs (..., C)

        values = -log q[label],  q = clip(n),  n = p / sum(p)
        dn     = onehot(label) * (-dvalues / q[label]) * [q not clipped]
        dp     = (dn - sum(dn * n)) / sum(p)          (the Jacobian of n = p / sum(p))
    """
    normalized, labels, total, clipped, inside, probs_dtype = cache
    xp = backend.get_array_module(normalized)
    dpicked = xp.where(inside, -dvalues / clipped, 0.0).astype(normalized.dtype)  # (...)
    onehot = xp.arange(normalized.shape[-1]) == labels[..., None]                 # (..., C)
    dnormalized = onehot * dpicked[..., None]                                     # (..., C)
    inner = (dnormalized * normalized).sum(axis=-1, keepdims=True)               # (..., 1)
    return ((dnormalized - inner) / total).astype(probs_dtype, copy=False)


_LOSSES = {"sparse_categorical_crossentropy": SparseCategoricalCrossentropy}


def get(identifier):
    """A loss from an instance (returned as is) or a name ("sparse_categorical_crossentropy",
    with Keras's defaults: from_logits=False)."""
    if isinstance(identifier, Loss):
        return identifier
    if isinstance(identifier, str) and identifier in _LOSSES:
        return _LOSSES[identifier]()
    raise ValueError(f"loss: expected a minibert Loss or one of {sorted(_LOSSES)}; got "
                     f"{identifier!r} (a plain function has no gradient here)")
