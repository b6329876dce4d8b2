"""LayerNormalization over the last axis (statistics in float32 whatever the dtype policy)."""
from minibert.layers.layer import Layer
from minibert.ops.layer_norm import layer_norm_backward, layer_norm_forward


class LayerNormalization(Layer):
    """y = (x - mean) / sqrt(var + epsilon) * gamma + beta, per feature vector of size ``dim``."""

    def __init__(self, dim, epsilon=1e-3, **kwargs):
        super().__init__(**kwargs)
        self.dim, self.epsilon = int(dim), float(epsilon)
        self.gamma = self.add_weight("gamma", (self.dim,), "ones")
        self.beta = self.add_weight("beta", (self.dim,), "zeros")

    def forward(self, x, training=False):
        y, cache = layer_norm_forward(x.astype(self.compute_dtype, copy=False),
                                      self.gamma.value, self.beta.value, self.epsilon)  # (..., H)
        self.save_cache(cache)
        return y

    def backward(self, dy, input_grad=True):
        dx, dgamma, dbeta = layer_norm_backward(dy, self.pop_cache(), input_grad=input_grad,
                                                param_grads=self.gamma.trainable)
        if dgamma is not None:
            self.gamma.add_grad(dgamma, owned=True)
            self.beta.add_grad(dbeta, owned=True)
        return dx

    def get_config(self):
        return {**super().get_config(), "epsilon": self.epsilon}
