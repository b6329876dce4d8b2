"""MaskedLMHead: predict the original token at each masked position, as KerasHub's.

    h      = gather(sequence_output, mask_positions)        (B, M, H)
    h      = LayerNorm(intermediate_activation(h @ W + b))  intermediate_dense, _layer_norm
    logits = h @ E.T + output_bias                          E: the tied token table (V, H)

Only the M gathered positions are projected onto the vocabulary, never all T.
"""
from minibert import backend
from minibert.layers import activations
from minibert.layers.dense import Dense
from minibert.layers.layer import Layer
from minibert.layers.layer_norm import LayerNormalization
from minibert.ops import fast


class MaskedLMHead(Layer):
    """sequence_output (B, T, H), mask_positions (B, M) -> logits (B, M, V).

    Args:
        vocabulary_size: V; must equal the tied table's rows.
        token_embedding: the backbone's ReversibleEmbedding (the projection reuses its table,
            and its gradient is added into that table's ``grad``).
        intermediate_activation: after the dense layer (KerasHub's BERT heads: "gelu", exact).
        activation: on the logits (None: return logits).
        layer_norm_epsilon: 1e-5 in KerasHub's head (HF uses 1e-12).
        kernel_initializer, bias_initializer: for the dense layer and output bias.
    """

    def __init__(self, vocabulary_size, token_embedding, intermediate_activation="relu",
                 activation=None, layer_norm_epsilon=1e-5, kernel_initializer="glorot_uniform",
                 bias_initializer="zeros", **kwargs):
        super().__init__(**kwargs)
        if token_embedding.input_dim != vocabulary_size:
            raise ValueError(f"vocabulary_size: {vocabulary_size} does not match the tied "
                             f"token_embedding's {token_embedding.input_dim} rows")
        hidden_dim = token_embedding.output_dim
        self.vocabulary_size = vocabulary_size
        self.token_embedding = token_embedding      # tied: owned by the backbone, not by the head
        self.activation = activation
        self._activation_forward, self._activation_backward = activations.get(activation)
        self.output_bias = self.add_weight("output_bias", (vocabulary_size,), bias_initializer)
        self.intermediate_dense = Dense(hidden_dim, hidden_dim,
                                        activation=intermediate_activation,
                                        kernel_initializer=kernel_initializer,
                                        bias_initializer=bias_initializer,
                                        name="intermediate_dense", dtype=self.dtype_policy)
        self.intermediate_layer_norm = LayerNormalization(hidden_dim, layer_norm_epsilon,
                                                          name="intermediate_layer_norm",
                                                          dtype=self.dtype_policy)

    def forward(self, sequence_output, mask_positions, training=False):
        xp = backend.get_array_module(sequence_output)
        batch, length, _ = sequence_output.shape
        check_positions(mask_positions, length)
        positions = backend.asarray(mask_positions).astype(xp.int64)              # (B, M)
        rows = xp.arange(batch)[:, None]                                          # (B, 1)
        h = sequence_output[rows, positions]                                      # (B, M, H)
        h = self.intermediate_dense(h)                                            # (B, M, H)
        h = self.intermediate_layer_norm(h)                                       # (B, M, H)
        logits = self.token_embedding(h, reverse=True)                            # (B, M, V)
        logits += self.output_bias.value.astype(logits.dtype, copy=False)         # fresh: in place
        outputs, activation_cache = self._activation_forward(logits)              # (B, M, V)
        self.save_cache((rows, positions, sequence_output.shape, sequence_output.dtype,
                         activation_cache))
        return outputs

    def backward(self, dy):
        """dy (B, M, V) -> d sequence_output (B, T, H), zero except at the gathered rows."""
        rows, positions, shape, dtype, activation_cache = self.pop_cache()
        xp = backend.get_array_module(dy)
        dlogits = self._activation_backward(dy, activation_cache)                 # (B, M, V)
        if self.output_bias.trainable:
            dlogits2 = dlogits.reshape(-1, dlogits.shape[-1])                     # (B*M, V)
            on_the_pool = fast.enabled() and fast.supports_dtype(dlogits.dtype)
            self.output_bias.add_grad(fast.column_sum(dlogits2) if on_the_pool
                                      else dlogits2.sum(axis=0), owned=True)      # (V,)
        dh = self.token_embedding.backward(dlogits, reverse=True)                 # (B, M, H)
        dh = self.intermediate_layer_norm.backward(dh)                            # (B, M, H)
        dh = self.intermediate_dense.backward(dh)                                 # (B, M, H)
        d_sequence = xp.zeros(shape, dtype=dh.dtype)                              # (B, T, H)
        # A position may be gathered twice (padding repeats position 0): its gradients add up.
        backend.scatter_add(d_sequence, (xp.broadcast_to(rows, positions.shape), positions), dh)
        return d_sequence.astype(dtype, copy=False)

    def get_config(self):
        return {**super().get_config(), "vocabulary_size": self.vocabulary_size,
                "intermediate_activation": self.intermediate_dense.activation,
                "activation": activations.serialize(self.activation),
                "layer_norm_epsilon": self.intermediate_layer_norm.epsilon}


def check_positions(mask_positions, length):
    """Raise ValueError unless mask_positions is a (B, M) integer array inside [0, length)."""
    host = backend.to_numpy(mask_positions)
    if host.ndim != 2 or host.dtype.kind not in "iu":
        raise ValueError(f"mask_positions: expected a (batch, num_masks) integer array, got "
                         f"shape {host.shape} dtype {host.dtype}")
    if host.size and (host.min() < 0 or host.max() >= length):
        raise ValueError(f"mask_positions: every position must be in [0, {length}); got values "
                         f"from {host.min()} to {host.max()}")
