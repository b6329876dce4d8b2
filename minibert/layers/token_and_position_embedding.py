"""TokenAndPositionEmbedding: token rows plus position rows (DistilBERT's embedding layer)."""
from minibert.layers.embedding import PositionEmbedding, ReversibleEmbedding
from minibert.layers.layer import Layer


class TokenAndPositionEmbedding(Layer):
    """ids (B, T) -> token_embedding(ids) + position_embedding (B, T, H), as KerasHub's."""

    def __init__(self, vocabulary_size, sequence_length, embedding_dim,
                 embeddings_initializer="uniform", **kwargs):
        super().__init__(**kwargs)
        self.token_embedding = ReversibleEmbedding(
            vocabulary_size, embedding_dim, embeddings_initializer,
            name="token_embedding", dtype=self.dtype_policy)
        self.position_embedding = PositionEmbedding(
            sequence_length, embedding_dim, embeddings_initializer,
            name="position_embedding", dtype=self.dtype_policy)

    def forward(self, ids, training=False):
        tokens = self.token_embedding(ids)                       # (B, T, H)
        return tokens + self.position_embedding(tokens)          # (B, T, H)

    def backward(self, dy):
        """dy (B, T, H) reaches both tables unchanged (a sum's gradient); returns None."""
        self.token_embedding.backward(dy)
        self.position_embedding.backward(dy)
        return None
