"""DistilBertBackbone: token + position embeddings and N post-LN encoder blocks; no segments,
no pooler, a single (B, T, H) output."""
from minibert.layers.token_and_position_embedding import TokenAndPositionEmbedding
from minibert.models.backbone import Backbone, kernel_initializer
from minibert.models.inputs import check_backbone_inputs


class DistilBertBackbone(Backbone):
    """KerasHub's DistilBertBackbone, same constructor, weights, inputs and output.

    Inputs: a dict of (B, T) integer arrays ``token_ids`` and ``padding_mask``. Output: the
    sequence output (B, T, H).

        x = LayerNorm(token_emb[ids] + position_emb[0:T]); x = Dropout(x)
        x = TransformerEncoder_i(x, padding_mask) for each block

    Numerics as BertBackbone, except that the feed-forward ``activation`` defaults to "gelu"
    (exact), which is what both KerasHub and HF use for DistilBERT.
    """

    def __init__(self, vocabulary_size, num_layers, num_heads, hidden_dim, intermediate_dim,
                 dropout=0.1, max_sequence_length=512, dtype=None, activation="gelu",
                 layer_norm_epsilon=1e-12, attention_mask_value=-1e9,
                 name="distil_bert_backbone", **kwargs):
        super().__init__(vocabulary_size, num_layers, num_heads, hidden_dim, intermediate_dim,
                         dropout, max_sequence_length, activation, layer_norm_epsilon,
                         attention_mask_value, dtype=dtype, name=name, **kwargs)
        self.token_and_position_embedding = TokenAndPositionEmbedding(
            vocabulary_size, max_sequence_length, hidden_dim, kernel_initializer(),
            name="token_and_position_embedding", dtype=self.dtype_policy)
        self._build_encoder()

    @property
    def token_embedding(self):
        """The ReversibleEmbedding of the vocabulary (tied to a masked-LM head)."""
        return self.token_and_position_embedding.token_embedding

    def forward(self, inputs, training=False):
        inputs = check_backbone_inputs(inputs, ("token_ids", "padding_mask"),
                                       self.vocabulary_size, self.max_sequence_length)
        embedded = self.token_and_position_embedding(inputs["token_ids"])    # (B, T, H)
        return self._encode(embedded, inputs["padding_mask"], training)      # (B, T, H)

    def backward(self, d_sequence):
        """d_sequence (B, T, H): adds every weight's gradient; returns None."""
        self.token_and_position_embedding.backward(self._encode_backward(d_sequence))
        return None
