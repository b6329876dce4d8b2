"""BertBackbone: token + position + segment embeddings, N post-LN encoder blocks, tanh pooler."""
from minibert import backend
from minibert.layers.dense import Dense
from minibert.layers.embedding import Embedding, PositionEmbedding, ReversibleEmbedding
from minibert.models.backbone import Backbone, kernel_initializer
from minibert.models.inputs import check_backbone_inputs


class BertBackbone(Backbone):
    """KerasHub's BertBackbone, same constructor, weights, inputs and outputs.

    Inputs: a dict of (B, T) integer arrays ``token_ids``, ``segment_ids`` and ``padding_mask``
    (1 = real token). Outputs: ``{"sequence_output": (B, T, H), "pooled_output": (B, H)}``.

        x = LayerNorm(token_emb[ids] + position_emb[0:T] + segment_emb[segments])
        x = Dropout(x); x = TransformerEncoder_i(x, padding_mask) for each block
        pooled = tanh(x[:, 0] @ W + b)

    Numerics (defaults match KerasHub; an HF checkpoint sets HF's values):
        activation: feed-forward activation, "gelu_approximate" (KerasHub) or "gelu" (exact, HF).
        layer_norm_epsilon: every layer norm in the backbone (1e-12 in both).
        attention_mask_value: the masked-score fill (KerasHub -1e9; any value far below the
            real scores gives the same probabilities).
    """

    def __init__(self, vocabulary_size, num_layers, num_heads, hidden_dim, intermediate_dim,
                 dropout=0.1, max_sequence_length=512, num_segments=2, dtype=None,
                 activation="gelu_approximate", layer_norm_epsilon=1e-12,
                 attention_mask_value=-1e9, name="bert_backbone", **kwargs):
        super().__init__(vocabulary_size, num_layers, num_heads, hidden_dim, intermediate_dim,
                         dropout, max_sequence_length, activation, layer_norm_epsilon,
                         attention_mask_value, dtype=dtype, name=name, **kwargs)
        if not isinstance(num_segments, int) or num_segments <= 0:
            raise ValueError(f"num_segments: expected a positive int, got {num_segments!r}")
        self.num_segments = num_segments
        policy = self.dtype_policy
        self.token_embedding = ReversibleEmbedding(
            vocabulary_size, hidden_dim, kernel_initializer(), name="token_embedding",
            dtype=policy)
        self.position_embedding = PositionEmbedding(
            max_sequence_length, hidden_dim, kernel_initializer(), name="position_embedding",
            dtype=policy)
        self.segment_embedding = Embedding(
            num_segments, hidden_dim, kernel_initializer(), name="segment_embedding",
            dtype=policy)
        self._build_encoder()
        self.pooled_dense = Dense(hidden_dim, hidden_dim, activation="tanh",
                                  kernel_initializer=kernel_initializer(), name="pooled_dense",
                                  dtype=policy)

    def forward(self, inputs, training=False):
        inputs = check_backbone_inputs(inputs, ("token_ids", "segment_ids", "padding_mask"),
                                       self.vocabulary_size, self.max_sequence_length,
                                       self.num_segments)
        tokens = self.token_embedding(inputs["token_ids"])             # (B, T, H)
        positions = self.position_embedding(tokens)                          # (B, T, H)
        segments = self.segment_embedding(inputs["segment_ids"])             # (B, T, H)
        x = self._encode(tokens + positions + segments, inputs["padding_mask"], training)
        pooled = self.pooled_dense(x[:, self.cls_token_index, :])            # (B, H)
        self.save_cache(x.shape)
        return {"sequence_output": x, "pooled_output": pooled}

    def backward(self, grads):
        """grads: {"sequence_output": (B, T, H) or None, "pooled_output": (B, H) or None}.

        Adds every weight's gradient; returns None (the inputs are integers).
        """
        shape = self.pop_cache()
        d_pooled = grads.get("pooled_output")
        d_sequence = grads.get("sequence_output")
        if d_pooled is not None:
            d_cls = self.pooled_dense.backward(d_pooled)                     # (B, H)
            xp = backend.get_array_module(d_cls)
            d_sequence = (xp.zeros(shape, dtype=d_cls.dtype) if d_sequence is None
                          else d_sequence.copy())                            # (B, T, H)
            d_sequence[:, self.cls_token_index, :] += d_cls
        d_embedded = self._encode_backward(d_sequence)                       # (B, T, H)
        self.token_embedding.backward(d_embedded)
        self.position_embedding.backward(d_embedded)
        self.segment_embedding.backward(d_embedded)
        return None

    def backward_from_sequence(self, d_sequence):
        return self.backward({"sequence_output": d_sequence})

    def get_config(self):
        return {**super().get_config(), "num_segments": self.num_segments}
