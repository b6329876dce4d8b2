"""Learning-rate schedules: ``step -> learning rate``, with Keras's names and formulas.

An optimizer calls its schedule with its ``iterations`` counter *before* the step is taken, so
the first update uses ``schedule(0)`` (as Keras, and as a PyTorch LambdaLR stepped after each
``optimizer.step()``). A constant learning rate needs no schedule: pass a float.

Values are computed in Python floats (float64); Keras computes them in float32, which differs
by at most a float32 rounding (~6e-8 relative).

Formulas (s = step):

    PolynomialDecay   s' = min(s, decay_steps)      (cycle=False)
                      lr = (initial - end) * (1 - s'/decay_steps) ** power + end
                      power=1 is a linear decay.
    CosineDecay       s' = min(s, decay_steps)
                      lr = initial * ((1 - alpha) * 0.5 * (1 + cos(pi * s'/decay_steps)) + alpha)

Both take ``warmup_target`` and ``warmup_steps`` (Keras's CosineDecay arguments; for
PolynomialDecay they are an addition, off by default so it is exactly Keras's): for
s < warmup_steps the rate rises linearly from ``initial_learning_rate`` to ``warmup_target``,

    lr = initial + (warmup_target - initial) * s / warmup_steps,

then the decay runs on s - warmup_steps and starts from ``warmup_target``. BERT's usual
schedule (HF ``get_linear_schedule_with_warmup``) is
``PolynomialDecay(0.0, decay_steps=total - warmup, end_learning_rate=0.0,
warmup_target=peak, warmup_steps=warmup)``.
"""
import math

__all__ = ["LearningRateSchedule", "PolynomialDecay", "CosineDecay", "serialize", "deserialize"]


class LearningRateSchedule:
    """A callable ``step (int) -> learning rate (float)`` with a serializable config."""

    def __call__(self, step):
        raise NotImplementedError

    def get_config(self):
        raise NotImplementedError

    @classmethod
    def from_config(cls, config):
        return cls(**config)


class _WarmupThenDecay(LearningRateSchedule):
    """Linear warmup from ``initial_learning_rate`` to ``warmup_target``, then ``_decay``."""

    def __init__(self, initial_learning_rate, decay_steps, warmup_target, warmup_steps, name):
        if decay_steps <= 0:
            raise ValueError(f"{type(self).__name__}: decay_steps must be > 0, got {decay_steps}")
        if warmup_steps < 0:
            raise ValueError(f"{type(self).__name__}: warmup_steps must be >= 0, "
                             f"got {warmup_steps}")
        self.initial_learning_rate = initial_learning_rate
        self.decay_steps = decay_steps
        self.warmup_target = warmup_target
        self.warmup_steps = warmup_steps
        self.name = name

    def __call__(self, step):
        step = float(step)
        if self.warmup_target is None:
            return self._decay(step, self.initial_learning_rate)
        if step < self.warmup_steps:
            fraction = step / self.warmup_steps
            return ((self.warmup_target - self.initial_learning_rate) * fraction
                    + self.initial_learning_rate)
        return self._decay(step - self.warmup_steps, self.warmup_target)

    def _decay(self, step, decay_from):
        """The learning rate ``step`` steps into the decay, which starts at ``decay_from``."""
        raise NotImplementedError

    def get_config(self):
        return {"initial_learning_rate": self.initial_learning_rate,
                "decay_steps": self.decay_steps, "name": self.name,
                "warmup_target": self.warmup_target, "warmup_steps": self.warmup_steps}


class PolynomialDecay(_WarmupThenDecay):
    """Keras's ``PolynomialDecay`` (power=1: linear decay), plus an optional linear warmup.

    Args:
        initial_learning_rate: the rate at step 0 (the warmup's start when warming up).
        decay_steps: length of the decay (after the warmup).
        end_learning_rate: the rate the decay reaches and then keeps.
        power: exponent of the polynomial; 1.0 is linear.
        cycle: restart the decay with ``decay_steps * ceil(step / decay_steps)`` instead of
            holding ``end_learning_rate`` (Keras's semantics).
        warmup_target, warmup_steps: see the module docstring; None/0 = no warmup (Keras).
    """

    def __init__(self, initial_learning_rate, decay_steps, end_learning_rate=0.0001, power=1.0,
                 cycle=False, name="PolynomialDecay", warmup_target=None, warmup_steps=0):
        super().__init__(initial_learning_rate, decay_steps, warmup_target, warmup_steps, name)
        self.end_learning_rate = end_learning_rate
        self.power = power
        self.cycle = cycle

    def _decay(self, step, decay_from):
        decay_steps = float(self.decay_steps)
        if self.cycle:
            decay_steps *= 1.0 if step == 0 else math.ceil(step / self.decay_steps)
        else:
            step = min(step, decay_steps)
        remaining = 1.0 - step / decay_steps
        return (decay_from - self.end_learning_rate) * remaining ** self.power \
            + self.end_learning_rate

    def get_config(self):
        return {**super().get_config(), "end_learning_rate": self.end_learning_rate,
                "power": self.power, "cycle": self.cycle}


class CosineDecay(_WarmupThenDecay):
    """Keras's ``CosineDecay``: optional linear warmup, then a half cosine down to ``alpha``.

    Args:
        initial_learning_rate: the rate at step 0.
        decay_steps: length of the cosine decay (after the warmup).
        alpha: the final rate as a fraction of the decay's starting rate.
        warmup_target: the rate reached at the end of the warmup; None = no warmup, the decay
            starts from ``initial_learning_rate``.
        warmup_steps: length of the warmup.
    """

    def __init__(self, initial_learning_rate, decay_steps, alpha=0.0, name="CosineDecay",
                 warmup_target=None, warmup_steps=0):
        super().__init__(initial_learning_rate, decay_steps, warmup_target, warmup_steps, name)
        self.alpha = alpha

    def _decay(self, step, decay_from):
        fraction = min(step, self.decay_steps) / self.decay_steps
        cosine = 0.5 * (1.0 + math.cos(math.pi * fraction))
        return decay_from * ((1.0 - self.alpha) * cosine + self.alpha)

    def get_config(self):
        return {**super().get_config(), "alpha": self.alpha}


_SCHEDULES = {cls.__name__: cls for cls in (PolynomialDecay, CosineDecay)}


def serialize(schedule):
    """A schedule -> ``{"class_name": ..., "config": ...}`` (Keras's layout, without module)."""
    return {"class_name": type(schedule).__name__, "config": schedule.get_config()}


def deserialize(config):
    """The inverse of ``serialize``."""
    name = config.get("class_name")
    if name not in _SCHEDULES:
        raise ValueError(f"deserialize: unknown schedule class_name {name!r}; expected one of "
                         f"{sorted(_SCHEDULES)}")
    return _SCHEDULES[name].from_config(dict(config["config"]))
