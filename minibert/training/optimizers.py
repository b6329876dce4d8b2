"""Optimizers with Keras 3's arguments and exact update rules: SGD, Adam, AdamW, and the
LossScaleOptimizer that mixed_float16 training wraps around them.

One step, ``optimizer.apply(grads, variables)``, does what Keras's ``BaseOptimizer.apply`` does,
in this order:

    1. drop (variable, None) pairs: a weight that got no gradient is not touched at all (not
       even decayed), and a warning names it;
    2. divide the gradients by ``loss_scale_factor`` if one is set;
    3. clip: ``clipnorm`` (each gradient to that L2 norm), or ``global_clipnorm`` (all of them
       together), or ``clipvalue`` (each element to [-v, v]); at most one of the three;
    4. decoupled weight decay, if ``weight_decay`` is set:  w <- w - w * weight_decay * lr;
    5. the optimizer's own update (formulas in each class);
    6. ``iterations += 1``.

``lr`` is the learning rate at the current ``iterations`` (a float, or a schedule called with
``iterations`` before the increment). Updates are in place on ``Variable.value`` with the array
module of the variable (NumPy or CuPy). Optimizer state (momentum, moment estimates) lives next
to the variable on the same backend, keyed by the variable's identity, in float32 (float64 for
float64 variables): half-precision variables are updated in float32 and rounded once at the end.
State is created the first time a variable is seen, so unfreezing more layers later just works.

Hyperparameters and the learning rate are Python floats and clipping norms stay 0-d device
arrays, so a step needs no host sync (only the LossScaleOptimizer's finiteness check has one).
Not provided: Keras's EMA (``use_ema``) and gradient accumulation.
"""
import math
import numbers
import re
import warnings

from minibert import backend
from minibert.ops import fast
from minibert.ops.fast import adam as fast_adam
from minibert.ops.precision import accumulation_dtype
from minibert.training import schedules

__all__ = ["Optimizer", "SGD", "Adam", "AdamW", "LossScaleOptimizer", "get", "schedules",
           "global_norm", "all_finite"]


def global_norm(arrays):
    """sqrt(sum of squares of every element of every array), a 0-d array (no host sync)."""
    xp = backend.get_array_module(*arrays)
    squares = [xp.sum(xp.square(a.astype(accumulation_dtype(xp, a.dtype), copy=False)))
               for a in arrays]
    return xp.sqrt(xp.sum(xp.stack(squares)))


def all_finite(arrays):
    """True if no element of any array is inf or NaN (one host sync for all of them)."""
    xp = backend.get_array_module(*arrays)
    return bool(xp.stack([xp.isfinite(a).all() for a in arrays]).all())


class Optimizer:
    """Keras's ``BaseOptimizer``: learning rate, clipping, weight decay, iterations, state.

    Args:
        learning_rate: a float, a ``LearningRateSchedule`` (called with ``iterations``), or a
            callable with no arguments that returns the rate.
        weight_decay: float or None. Decoupled decay w <- w - w * weight_decay * lr, applied
            before the update (every optimizer accepts it, as in Keras).
        clipnorm: float or None. Each gradient g becomes g * clipnorm / max(||g||, clipnorm).
        clipvalue: float or None. Each gradient element is clipped to [-clipvalue, clipvalue].
        global_clipnorm: float or None. Every gradient is multiplied by
            clipnorm / max(N, clipnorm), N the L2 norm of all gradients together; a
            non-finite N makes every gradient NaN (as Keras), which a LossScaleOptimizer then
            skips.
        loss_scale_factor: float or None. A static loss scale: ``scale_loss`` multiplies the
            loss by it and ``apply`` divides the gradients by it.
        name: a name for ``get_config``.
    """

    _default_name = "optimizer"

    def __init__(self, learning_rate, weight_decay=None, clipnorm=None, clipvalue=None,
                 global_clipnorm=None, loss_scale_factor=None, name=None):
        clip_arguments = {"clipnorm": clipnorm, "clipvalue": clipvalue,
                          "global_clipnorm": global_clipnorm}
        given = [key for key, value in clip_arguments.items() if value is not None]
        if len(given) > 1:
            raise ValueError(f"{type(self).__name__}: only one of clipnorm, clipvalue and "
                             f"global_clipnorm can be set; got {given}")
        self.name = name or self._default_name
        self.weight_decay = weight_decay
        self.clipnorm = clipnorm
        self.clipvalue = clipvalue
        self.global_clipnorm = global_clipnorm
        self.loss_scale_factor = loss_scale_factor
        self.iterations = 0
        self.built = False
        self._built_variables = []
        self._state = {}                 # id(variable) -> (variable, {state name: array})
        self._exclude_ids = set()
        self._exclude_pattern = None
        self._warned_missing = set()
        self._learning_rate = self._standardize_learning_rate(learning_rate)

    # --------------------------------------------------------------------- learning rate
    def _standardize_learning_rate(self, value):
        if callable(value):                 # a LearningRateSchedule or a function
            return value
        if not isinstance(value, numbers.Real) or isinstance(value, bool):
            raise ValueError(f"{type(self).__name__}: learning_rate must be a float, a "
                             f"LearningRateSchedule or a callable; got {value!r}")
        return float(value)

    @property
    def learning_rate(self):
        """The learning rate for the next step, a float."""
        if isinstance(self._learning_rate, schedules.LearningRateSchedule):
            return float(self._learning_rate(self.iterations))
        if callable(self._learning_rate):
            return float(self._learning_rate())
        return self._learning_rate

    @learning_rate.setter
    def learning_rate(self, value):
        if isinstance(self._learning_rate, schedules.LearningRateSchedule) and not (
                isinstance(value, schedules.LearningRateSchedule) or callable(value)):
            raise TypeError(f"{type(self).__name__} was created with a LearningRateSchedule; "
                            "its learning rate cannot be set to a number. Create the "
                            "optimizer with a float learning_rate to change it during training.")
        self._learning_rate = self._standardize_learning_rate(value)

    # -------------------------------------------------------------------- weight decay
    def exclude_from_weight_decay(self, var_list=None, var_names=None):
        """Exempt variables from weight decay (call before the first step, as in Keras).

        Args:
            var_list: Variables to exempt (matched by identity).
            var_names: strings; a variable is exempt if any of them occurs in its ``name``
                (a regular-expression search over the last part of the path: "kernel",
                "bias", "gamma", "beta", "embeddings", ...). ``["bias", "gamma", "beta"]``
                exempts every bias and every LayerNorm weight.
        """
        if self.built:
            raise ValueError("exclude_from_weight_decay() can only be called before the "
                             "optimizer's first step.")
        self._exclude_ids = {id(v) for v in var_list or ()}
        self._exclude_pattern = re.compile("|".join(set(var_names))) if var_names else None

    def _use_weight_decay(self, variable):
        if id(variable) in self._exclude_ids:
            return False
        return self._exclude_pattern is None or \
            re.search(self._exclude_pattern, variable.name) is None

    # --------------------------------------------------------------------------- steps
    def scale_loss(self, loss):
        """The loss multiplied by the loss scale (1 unless ``loss_scale_factor`` is set)."""
        return loss if self.loss_scale_factor is None else loss * self.loss_scale_factor

    def apply_gradients(self, grads_and_vars):
        """``apply`` for an iterable of (gradient, variable) pairs; returns ``iterations``."""
        grads, variables = zip(*grads_and_vars)
        self.apply(grads, variables)
        return self.iterations

    def apply(self, grads, trainable_variables=None):
        """One optimization step: update each variable in place from its gradient.

        grads: arrays (or None) aligned with ``trainable_variables`` (minibert Variables);
        ``trainable_variables`` may be left out after the first step, meaning the same list.
        """
        if trainable_variables is None:
            if not self.built:
                raise ValueError(f"{type(self).__name__}.apply: pass trainable_variables on "
                                 "the first step")
            trainable_variables = self._built_variables
        grads, trainable_variables = list(grads), list(trainable_variables)
        if len(grads) != len(trainable_variables):
            raise ValueError(f"{type(self).__name__}.apply: got {len(grads)} gradients for "
                             f"{len(trainable_variables)} variables")
        pairs = [(g, v) for g, v in zip(grads, trainable_variables) if g is not None]
        self._warn_missing([v for g, v in zip(grads, trainable_variables) if g is None])
        if not pairs:
            raise ValueError(f"{type(self).__name__}.apply: no gradient was given for any "
                             "variable")
        if not self.built:
            self.built, self._built_variables = True, trainable_variables
        grads = [backend.asarray(g) for g, _ in pairs]
        variables = [v for _, v in pairs]
        if self.loss_scale_factor is not None:
            grads = [g / self.loss_scale_factor for g in grads]
        grads = self._clip(grads)
        learning_rate = self.learning_rate
        if self.weight_decay is not None:
            self._apply_weight_decay(variables, learning_rate)
        for grad, variable in zip(grads, variables):
            self._update(grad, variable, self._state_of(variable), learning_rate)
        self.iterations += 1

    def _warn_missing(self, variables):
        new = [v.path for v in variables if id(v) not in self._warned_missing]
        if new:
            self._warned_missing.update(id(v) for v in variables)
            warnings.warn(f"{type(self).__name__}: no gradient for {new}; these weights are "
                          "left unchanged (they do not take part in the loss).", stacklevel=3)

    def _clip(self, grads):
        if self.clipnorm is not None and self.clipnorm > 0:
            xp = backend.get_array_module(*grads)
            return [g * (self.clipnorm / xp.maximum(global_norm([g]), self.clipnorm))
                    .astype(g.dtype) for g in grads]
        if self.global_clipnorm is not None and self.global_clipnorm > 0:
            xp = backend.get_array_module(*grads)
            norm = global_norm(grads)                                        # ()
            scale = xp.where(xp.isfinite(norm),
                             self.global_clipnorm / xp.maximum(norm, self.global_clipnorm),
                             xp.nan)
            return [g * scale.astype(g.dtype) for g in grads]
        if self.clipvalue is not None and self.clipvalue > 0:
            xp = backend.get_array_module(*grads)
            return [xp.clip(g, -self.clipvalue, self.clipvalue) for g in grads]
        return grads

    def _apply_weight_decay(self, variables, learning_rate):
        factor = 1.0 - self.weight_decay * learning_rate       # w * (1 - wd lr), Keras's torch form
        for variable in variables:
            if self._use_weight_decay(variable):
                value = self._working_value(variable)
                value *= factor
                self._write_back(variable, value)

    # --------------------------------------------------------------------------- state
    @staticmethod
    def _state_dtype(value):
        return accumulation_dtype(backend.get_array_module(value), value.dtype)

    def _state_of(self, variable):
        """The state dict of ``variable``, created (zeros) on first use."""
        key = id(variable)
        if key not in self._state:
            xp = backend.get_array_module(variable.value)
            dtype = self._state_dtype(variable.value)
            # Holding the variable keeps its id() from being reused while the state lives.
            self._state[key] = (variable, {name: xp.zeros(variable.value.shape, dtype=dtype)
                                           for name in self._state_names()})
        return self._state[key][1]

    def _state_names(self):
        """Names of the per-variable state arrays this optimizer keeps."""
        return ()

    @property
    def variables(self):
        """Every state array, in creation order (the iteration counter is ``iterations``)."""
        return [array for _, state in self._state.values() for array in state.values()]

    def _update(self, grad, variable, state, learning_rate):
        """Update ``variable.value`` in place from ``grad``."""
        raise NotImplementedError

    @classmethod
    def _working_value(cls, variable):
        """The array to update in place: the value itself, or a float32 copy of a
        half-precision value (written back, rounded once, by ``_write_back``)."""
        return variable.value.astype(cls._state_dtype(variable.value), copy=False)

    @staticmethod
    def _write_back(variable, value):
        if value is not variable.value:
            variable.value[...] = value.astype(variable.value.dtype)

    @classmethod
    def _subtract(cls, variable, delta):
        """variable -= delta, in place."""
        value = cls._working_value(variable)
        value -= delta
        cls._write_back(variable, value)

    # --------------------------------------------------------------------------- config
    def get_config(self):
        if isinstance(self._learning_rate, schedules.LearningRateSchedule):
            learning_rate = schedules.serialize(self._learning_rate)
        else:
            learning_rate = self.learning_rate
        return {"name": self.name, "learning_rate": learning_rate,
                "weight_decay": self.weight_decay, "clipnorm": self.clipnorm,
                "global_clipnorm": self.global_clipnorm, "clipvalue": self.clipvalue,
                "loss_scale_factor": self.loss_scale_factor}

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        if isinstance(config.get("learning_rate"), dict):
            config["learning_rate"] = schedules.deserialize(config["learning_rate"])
        return cls(**config)

    def __repr__(self):
        return f"<{type(self).__name__} name={self.name!r} iterations={self.iterations}>"


class SGD(Optimizer):
    """Stochastic gradient descent with optional (Nesterov) momentum, as ``keras.optimizers.SGD``.

    momentum == 0:   w <- w - lr * g
    momentum > 0:    v <- momentum * v - lr * g          (v starts at 0)
                     w <- w + v                                          (nesterov=False)
                     w <- w + momentum * v - lr * g                      (nesterov=True)

    This is Keras's form; PyTorch's ``SGD(momentum=m)`` keeps b <- m b + g and steps
    w <- w - lr b, which is the same sequence for a constant learning rate.
    """

    _default_name = "SGD"

    def __init__(self, learning_rate=0.01, momentum=0.0, nesterov=False, weight_decay=None,
                 clipnorm=None, clipvalue=None, global_clipnorm=None, loss_scale_factor=None,
                 name=None):
        super().__init__(learning_rate, weight_decay, clipnorm, clipvalue, global_clipnorm,
                         loss_scale_factor, name)
        if not 0.0 <= momentum <= 1.0:
            raise ValueError(f"SGD: momentum must be a float in [0, 1], got {momentum!r}")
        self.momentum = float(momentum)
        self.nesterov = bool(nesterov)

    def _state_names(self):
        return ("momentum",) if self.momentum != 0 else ()

    def _update(self, grad, variable, state, learning_rate):
        g = grad.astype(self._state_dtype(variable.value), copy=False)
        if self.momentum == 0:
            self._subtract(variable, learning_rate * g)
            return
        velocity = state["momentum"]
        velocity *= self.momentum
        velocity -= learning_rate * g                                   # v = m v - lr g
        if self.nesterov:
            self._subtract(variable, learning_rate * g - self.momentum * velocity)
        else:
            self._subtract(variable, -velocity)

    def get_config(self):
        return {**super().get_config(), "momentum": self.momentum, "nesterov": self.nesterov}


class Adam(Optimizer):
    """Adam exactly as ``keras.optimizers.Adam`` (Kingma & Ba, 2014, with "epsilon hat").

    At step t = iterations + 1, for gradient g:

        m <- beta_1 m + (1 - beta_1) g
        v <- beta_2 v + (1 - beta_2) g^2
        v_max <- max(v_max, v); v <- v_max                  (amsgrad only)
        alpha = lr * sqrt(1 - beta_2^t) / (1 - beta_1^t)
        w <- w - alpha * m / (sqrt(v) + epsilon)

    epsilon is added to sqrt(v) *before* the bias correction of v (the "epsilon hat" of the
    paper's section 2, not Algorithm 1). PyTorch's Adam/AdamW add their eps *after* it:
    w <- w - lr/(1 - beta_1^t) * m / (sqrt(v / (1 - beta_2^t)) + eps). The two agree when
    eps_torch = epsilon / sqrt(1 - beta_2^t); with the defaults (1e-7 here, 1e-8 in PyTorch)
    they differ only while sqrt(v) is comparable to epsilon.

    With ``weight_decay`` set this is AdamW's decoupled decay (w <- w - w * weight_decay * lr
    before the update), exactly as Keras's Adam with weight_decay.
    """

    _default_name = "adam"

    def __init__(self, learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7,
                 amsgrad=False, weight_decay=None, clipnorm=None, clipvalue=None,
                 global_clipnorm=None, loss_scale_factor=None, name=None):
        super().__init__(learning_rate, weight_decay, clipnorm, clipvalue, global_clipnorm,
                         loss_scale_factor, name)
        self.beta_1 = beta_1
        self.beta_2 = beta_2
        self.epsilon = epsilon
        self.amsgrad = amsgrad

    def _state_names(self):
        return ("momentum", "velocity", "velocity_hat") if self.amsgrad else \
            ("momentum", "velocity")

    def _update(self, grad, variable, state, learning_rate):
        xp = backend.get_array_module(variable.value)
        g = grad.astype(self._state_dtype(variable.value), copy=False)
        step = self.iterations + 1
        alpha = learning_rate * math.sqrt(1.0 - self.beta_2 ** step) / (1.0 - self.beta_1 ** step)
        m, v = state["momentum"], state["velocity"]
        v_hat = state.get("velocity_hat")
        if fast.enabled() and fast_adam.supports(variable.value, g, m, v):
            # The same steps as below, block by block (minibert/ops/fast/adam.py).
            fast_adam.adam_update_fused(variable.value, g, m, v, self.beta_1, self.beta_2,
                                        alpha, self.epsilon, v_hat)
            return
        m *= self.beta_1
        m += (1.0 - self.beta_1) * g                                    # m = b1 m + (1-b1) g
        v *= self.beta_2
        v += (1.0 - self.beta_2) * xp.square(g)                         # v = b2 v + (1-b2) g^2
        if self.amsgrad:
            xp.maximum(v_hat, v, out=v_hat)
            v = v_hat
        self._subtract(variable, (m * alpha) / (xp.sqrt(v) + self.epsilon))

    def get_config(self):
        return {**super().get_config(), "beta_1": self.beta_1, "beta_2": self.beta_2,
                "epsilon": self.epsilon, "amsgrad": self.amsgrad}


class AdamW(Adam):
    """AdamW as ``keras.optimizers.AdamW`` (Loshchilov & Hutter, 2019): Keras's Adam above
    with decoupled weight decay, applied before the Adam update:

        w <- w - w * weight_decay * lr           (lr includes any schedule, as in PyTorch)
        then the Adam step of ``Adam``.

    The decay is multiplied by the learning rate, as in ``torch.optim.AdamW``
    (w <- w * (1 - lr * weight_decay)); the two differ only in where epsilon sits (see
    ``Adam``). Defaults: weight_decay 0.004 (Keras; PyTorch's is 0.01).

    Exempt LayerNorm weights and biases before training with
    ``optimizer.exclude_from_weight_decay(var_names=["bias", "gamma", "beta"])``.
    """

    _default_name = "adamw"

    def __init__(self, learning_rate=0.001, weight_decay=0.004, beta_1=0.9, beta_2=0.999,
                 epsilon=1e-7, amsgrad=False, clipnorm=None, clipvalue=None,
                 global_clipnorm=None, loss_scale_factor=None, name=None):
        if weight_decay is None:
            raise ValueError("AdamW: weight_decay must be a float, got None (use Adam for no "
                             "weight decay)")
        super().__init__(learning_rate, beta_1, beta_2, epsilon, amsgrad, weight_decay,
                         clipnorm, clipvalue, global_clipnorm, loss_scale_factor, name)


class LossScaleOptimizer(Optimizer):
    """Dynamic loss scaling around another optimizer (``keras.optimizers.LossScaleOptimizer``).

    float16 has a narrow range: small gradients underflow to zero. The training loop multiplies
    the loss gradient by ``scale_loss``'s factor (the current ``dynamic_scale``) before the
    backward pass, and ``apply`` divides the gradients by it again. Then:

        any gradient non-finite -> skip the step (weights, inner state and iterations
                                   unchanged), dynamic_scale /= 2, counter = 0
        all finite              -> inner.apply(grads / dynamic_scale); then, if this was the
                                   dynamic_growth_steps-th finite step in a row,
                                   dynamic_scale *= 2 and counter = 0, else counter += 1

    ``compile`` wraps the optimizer in one automatically when the model's dtype policy is
    "mixed_float16".
    """

    def __init__(self, inner_optimizer, initial_scale=2.0 ** 15, dynamic_growth_steps=2000,
                 name=None):
        if not isinstance(inner_optimizer, Optimizer):
            raise ValueError(f"LossScaleOptimizer: inner_optimizer must be a minibert "
                             f"Optimizer, got {inner_optimizer!r}")
        # No Optimizer.__init__: the learning rate, iterations and state are the inner one's.
        self.name = name or "loss_scale_optimizer"
        self.inner_optimizer = inner_optimizer
        self.inner_optimizer.loss_scale_factor = None
        self.initial_scale = float(initial_scale)
        self.dynamic_growth_steps = int(dynamic_growth_steps)
        self.dynamic_scale = self.initial_scale
        self.step_counter = 0

    @property
    def learning_rate(self):
        return self.inner_optimizer.learning_rate

    @learning_rate.setter
    def learning_rate(self, value):
        self.inner_optimizer.learning_rate = value

    @property
    def iterations(self):
        return self.inner_optimizer.iterations

    @property
    def built(self):
        return self.inner_optimizer.built

    @property
    def variables(self):
        return self.inner_optimizer.variables

    def exclude_from_weight_decay(self, var_list=None, var_names=None):
        self.inner_optimizer.exclude_from_weight_decay(var_list, var_names)

    def scale_loss(self, loss):
        return loss * self.dynamic_scale

    def apply(self, grads, trainable_variables=None):
        grads = list(grads)
        present = [backend.asarray(g) for g in grads if g is not None]
        if present and not all_finite(present):
            self.step_counter = 0
            self.dynamic_scale *= 0.5
            return
        self.inner_optimizer.apply(
            [None if g is None else backend.asarray(g) / self.dynamic_scale for g in grads],
            trainable_variables)
        if self.step_counter == self.dynamic_growth_steps - 1:
            self.step_counter = 0
            self.dynamic_scale *= 2.0
        else:
            self.step_counter += 1

    def get_config(self):
        return {"name": self.name,
                "inner_optimizer": {"class_name": type(self.inner_optimizer).__name__,
                                    "config": self.inner_optimizer.get_config()},
                "initial_scale": self.initial_scale,
                "dynamic_growth_steps": self.dynamic_growth_steps}

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        inner = config.pop("inner_optimizer")
        return cls(get(inner), **config)


_OPTIMIZERS = {"sgd": SGD, "adam": Adam, "adamw": AdamW}


def get(identifier):
    """An optimizer from an instance (returned as is), a name ("sgd", "adam", "adamw", with
    Keras's defaults) or a ``{"class_name", "config"}`` dict."""
    if isinstance(identifier, Optimizer):
        return identifier
    if isinstance(identifier, str) and identifier.lower() in _OPTIMIZERS:
        return _OPTIMIZERS[identifier.lower()]()
    if isinstance(identifier, dict):
        name = identifier.get("class_name", "")
        classes = {cls.__name__: cls for cls in (SGD, Adam, AdamW, LossScaleOptimizer)}
        if name in classes:
            return classes[name].from_config(identifier["config"])
    raise ValueError(f"optimizer: expected an Optimizer, one of {sorted(_OPTIMIZERS)} or a "
                     f"serialized optimizer; got {identifier!r}")
