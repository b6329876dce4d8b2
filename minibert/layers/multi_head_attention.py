"""MultiHeadAttention: project to per-head queries, keys and values, attend, project back.

Weights as Keras's MultiHeadAttention: ``query``, ``key``, ``value`` kernels (H, heads, head_dim)
with biases (heads, head_dim), and ``attention_output`` kernel (heads, head_dim, H), bias (H,).

The fused path (``fused_encoder.mha_forward``: the three projections side by side in one array,
attention block by block) runs when it applies; the code below is the reference it is tested
against.
"""
from minibert.layers import fused_encoder
from minibert.layers.dense import Dense
from minibert.layers.dropout import Dropout
from minibert.layers.layer import Layer
from minibert.ops.attention import attention_backward, attention_forward


class MultiHeadAttention(Layer):
    """Self-attention over x (B, T, H) with a key padding mask (B, T).

    Args:
        num_heads, key_dim: heads and the size of each (KerasHub: hidden_dim // num_heads).
        hidden_dim: the size of x and of the output.
        dropout: rate on the attention probabilities (training only).
        mask_value: what masked scores are set to before the softmax (KerasHub: -1e9).
        kernel_initializer: for the four projections; biases start at zero.
    """

    def __init__(self, num_heads, key_dim, hidden_dim, dropout=0.0, mask_value=-1e9,
                 kernel_initializer="glorot_uniform", **kwargs):
        super().__init__(**kwargs)
        self.num_heads, self.key_dim, self.hidden_dim = num_heads, key_dim, hidden_dim
        self.mask_value = mask_value
        heads = (num_heads, key_dim)
        common = dict(kernel_initializer=kernel_initializer, dtype=self.dtype_policy)
        self.query = Dense(heads, hidden_dim, name="query", **common)
        self.key = Dense(heads, hidden_dim, name="key", **common)
        self.value = Dense(heads, hidden_dim, name="value", **common)
        self.attention_output = Dense(hidden_dim, heads, name="attention_output", **common)
        self.dropout_layer = Dropout(dropout, name="dropout", dtype=self.dtype_policy)

    def forward(self, x, padding_mask=None, training=False):
        """x (B, T, H), padding_mask (B, T) (1 = real token) -> (B, T, H)."""
        if fused_encoder.applies(self, x):
            return fused_encoder.mha_forward(self, x, padding_mask, training)
        self._caches.pop("fused", None)
        q = self.query(x)                                        # (B, T, NH, D)
        k = self.key(x)                                          # (B, T, NH, D)
        v = self.value(x)                                        # (B, T, NH, D)
        rng = self.dropout_layer.rng if training and self.dropout_layer.rate > 0 else None
        heads, cache = attention_forward(q, k, v, padding_mask, self.dropout_layer.rate, rng,
                                         self.mask_value)        # (B, T, NH, D)
        self.save_cache(cache)
        return self.attention_output(heads)                      # (B, T, H)

    def backward(self, dy):
        """dy (B, T, H) -> dx (B, T, H): the three projections' input gradients add up."""
        if "fused" in self._caches:
            return fused_encoder.mha_backward(self, dy)
        dheads = self.attention_output.backward(dy)              # (B, T, NH, D)
        dq, dk, dv = attention_backward(dheads, self.pop_cache())
        return self.query.backward(dq) + self.key.backward(dk) + self.value.backward(dv)
