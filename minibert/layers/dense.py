"""Dense: a learned affine map, optionally followed by an activation.

Keras has two layers for this, Dense (kernel (IN, OUT)) and EinsumDense (used by attention,
kernels such as (H, heads, head_dim) or (heads, head_dim, H)). Here one layer covers both:
``input_dim`` and ``units`` may each be an int or a tuple, the kernel has shape
``(*input_dim, *units)``, and the trailing ``input_dim`` axes of the input are contracted.
The op underneath is always one GEMM on flattened views.
"""
import math

from minibert.layers import activations
from minibert.layers.layer import Layer
from minibert.ops import fast
from minibert.ops.dense import dense_backward, dense_forward


def _as_tuple(dim):
    return tuple(dim) if isinstance(dim, (tuple, list)) else (int(dim),)


class Dense(Layer):
    """y = activation(x @ kernel + bias).

    Args:
        units: output size, an int or a tuple (e.g. ``(num_heads, head_dim)``).
        input_dim: size of the contracted trailing input axes, an int or a tuple.
        activation: a name from ``minibert.layers.activations`` or None.
        use_bias, kernel_initializer, bias_initializer, name, dtype: as Keras.

    Shapes: x (..., *input_dim) -> y (..., *units).
    """

    def __init__(self, units, input_dim, activation=None, use_bias=True,
                 kernel_initializer="glorot_uniform", bias_initializer="zeros", **kwargs):
        super().__init__(**kwargs)
        self.units = _as_tuple(units)
        self.input_dim = _as_tuple(input_dim)
        self.activation = activation
        self._activation_forward, self._activation_backward = activations.get(activation)
        self.kernel = self.add_weight("kernel", self.input_dim + self.units, kernel_initializer)
        self.bias = self.add_weight("bias", self.units, bias_initializer) if use_bias else None

    def forward(self, x, training=False):
        dtype = self.compute_dtype
        n_in, n_out = math.prod(self.input_dim), math.prod(self.units)
        leading = x.shape[:x.ndim - len(self.input_dim)]
        x = x.astype(dtype, copy=False).reshape(*leading, n_in)           # (..., IN)
        kernel = self.kernel.value.astype(dtype, copy=False).reshape(n_in, n_out)  # (IN, OUT)
        bias = None if self.bias is None else self.bias.value.astype(dtype, copy=False).reshape(n_out)
        z, dense_cache = dense_forward(x, kernel, bias, fast.product(dtype))  # (..., OUT)
        y, activation_cache = self._activation_forward(z)                  # (..., OUT)
        self.save_cache((dense_cache, activation_cache, leading))
        return y.reshape(*leading, *self.units)                           # (..., *units)

    def backward(self, dy, input_grad=True):
        """dy (..., *units) -> dx (..., *input_dim) (None if input_grad is False)."""
        dense_cache, activation_cache, leading = self.pop_cache()
        dz = self._activation_backward(dy.reshape(*leading, -1), activation_cache)  # (..., OUT)
        dx, dkernel, dbias = dense_backward(dz, dense_cache, input_grad=input_grad,
                                            param_grads=self.kernel.trainable)
        if dkernel is not None:
            self.kernel.add_grad(dkernel.reshape(self.kernel.shape), owned=True)
            if dbias is not None:
                self.bias.add_grad(dbias.reshape(self.bias.shape), owned=True)
        return None if dx is None else dx.reshape(*leading, *self.input_dim)

    def get_config(self):
        return {**super().get_config(), "units": self.units, "input_dim": self.input_dim,
                "activation": activations.serialize(self.activation),
                "use_bias": self.bias is not None}
