"""Dropout: active only when called with training=True and rate > 0."""
from minibert import utils
from minibert.layers.layer import Layer
from minibert.ops.dropout import dropout_backward, dropout_forward


class Dropout(Layer):
    """Inverted dropout with its own generator of the active backend.

    The generator's seed is fixed when the layer is created (from ``seed``, or from the shared
    host generator, so ``minibert.utils.set_random_seed`` makes runs repeatable); the generator
    itself is made at the first training call, on whichever backend is then active.
    """

    def __init__(self, rate, seed=None, **kwargs):
        super().__init__(**kwargs)
        self.rate = float(rate)
        self.seed = seed if seed is not None else int(utils.host_rng().integers(0, 2**63 - 1))
        self._rng = None

    @property
    def rng(self):
        """The generator masks are drawn from (made on first use)."""
        if self._rng is None:
            self._rng = utils.new_device_rng(self.seed)
        return self._rng

    def forward(self, x, training=False):
        y, cache = dropout_forward(x, self.rate, self.rng if training and self.rate > 0 else None)
        self.save_cache(cache)
        return y

    def backward(self, dy):
        return dropout_backward(dy, self.pop_cache())

    def get_config(self):
        return {**super().get_config(), "rate": self.rate, "seed": self.seed}
