"""TransformerEncoder: one post-LN encoder block, as KerasHub's (normalize_first=False).

    a = MultiHeadAttention(x, padding_mask)
    x = LayerNorm(x + Dropout(a))                       self_attention_layer_norm
    h = Dense_out(activation(Dense_in(x)))              feedforward_{intermediate,output}_dense
    x = LayerNorm(x + Dropout(h))                       feedforward_layer_norm

Backward reads the same lines bottom-up; each residual branch point sums two gradients.

The same block also runs on fused ops (query, key and value side by side in one array; bias,
activation, dropout, residual and layer norm in single passes), in ``fused_encoder.py``; the
layer takes that path when it applies (see ``minibert.ops.fast``). The code below is the
reference it is tested against.
"""
from minibert.layers import fused_encoder
from minibert.layers.dense import Dense
from minibert.layers.dropout import Dropout
from minibert.layers.layer import Layer
from minibert.layers.layer_norm import LayerNormalization
from minibert.layers.multi_head_attention import MultiHeadAttention


class TransformerEncoder(Layer):
    """One encoder block. x (B, T, H), padding_mask (B, T) -> (B, T, H).

    Args:
        intermediate_dim, num_heads, hidden_dim: block sizes (head size = hidden_dim // num_heads).
        dropout: rate for the attention probabilities and both residual branches.
        activation: feed-forward activation ("gelu_approximate" in BERT, "gelu" in DistilBERT).
        layer_norm_epsilon: both layer norms (1e-12 in BERT and DistilBERT).
        attention_mask_value: the masked-score fill (KerasHub -1e9).
        kernel_initializer: every kernel; biases zero, layer norms ones/zeros.
    """

    def __init__(self, intermediate_dim, num_heads, hidden_dim, dropout=0.0, activation="relu",
                 layer_norm_epsilon=1e-5, attention_mask_value=-1e9,
                 kernel_initializer="glorot_uniform", **kwargs):
        super().__init__(**kwargs)
        policy = self.dtype_policy
        # Created in KerasHub's order, so that ``weights`` lists them in KerasHub's order.
        self.self_attention_layer = MultiHeadAttention(
            num_heads, hidden_dim // num_heads, hidden_dim, dropout=dropout,
            mask_value=attention_mask_value, kernel_initializer=kernel_initializer,
            name="self_attention_layer", dtype=policy)
        self.self_attention_layer_norm = LayerNormalization(
            hidden_dim, layer_norm_epsilon, name="self_attention_layer_norm", dtype=policy)
        self.self_attention_dropout = Dropout(dropout, name="self_attention_dropout", dtype=policy)
        self.feedforward_layer_norm = LayerNormalization(
            hidden_dim, layer_norm_epsilon, name="feedforward_layer_norm", dtype=policy)
        self.feedforward_intermediate_dense = Dense(
            intermediate_dim, hidden_dim, activation=activation,
            kernel_initializer=kernel_initializer, name="feedforward_intermediate_dense",
            dtype=policy)
        self.feedforward_output_dense = Dense(
            hidden_dim, intermediate_dim, kernel_initializer=kernel_initializer,
            name="feedforward_output_dense", dtype=policy)
        self.feedforward_dropout = Dropout(dropout, name="feedforward_dropout", dtype=policy)

    def forward(self, x, padding_mask=None, training=False):
        if fused_encoder.encoder_applies(self, x):
            return fused_encoder.encoder_forward(self, x, padding_mask, training)
        self._caches.pop("fused", None)
        attended = self.self_attention_layer(x, padding_mask, training)            # (B, T, H)
        attended = self.self_attention_dropout(attended, training)                 # (B, T, H)
        x = self.self_attention_layer_norm(x + attended)                           # (B, T, H)
        hidden = self.feedforward_intermediate_dense(x)                            # (B, T, I)
        hidden = self.feedforward_output_dense(hidden)                             # (B, T, H)
        hidden = self.feedforward_dropout(hidden, training)                        # (B, T, H)
        return self.feedforward_layer_norm(x + hidden)                             # (B, T, H)

    def backward(self, dy):
        if "fused" in self._caches:
            return fused_encoder.encoder_backward(self, dy)
        d_residual = self.feedforward_layer_norm.backward(dy)                      # (B, T, H)
        d_hidden = self.feedforward_dropout.backward(d_residual)                   # (B, T, H)
        d_hidden = self.feedforward_output_dense.backward(d_hidden)                # (B, T, I)
        dx = d_residual + self.feedforward_intermediate_dense.backward(d_hidden)   # (B, T, H)
        d_residual = self.self_attention_layer_norm.backward(dx)                   # (B, T, H)
        d_attended = self.self_attention_dropout.backward(d_residual)              # (B, T, H)
        return d_residual + self.self_attention_layer.backward(d_attended)         # (B, T, H)
