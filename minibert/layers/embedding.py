"""Embedding tables: the token and segment lookups, and the tied reverse projection."""
from minibert import backend
from minibert.layers.layer import Layer
from minibert.ops import fast
from minibert.ops.embedding import (embedding_backward, embedding_forward,
                                    reverse_embedding_backward, reverse_embedding_forward)


class Embedding(Layer):
    """A table of ``input_dim`` rows of size ``output_dim``; ids (...) -> vectors (..., H).

    Ids must lie in [0, input_dim): they are checked on the host, since a device gather would
    wrap an out-of-range id around silently.
    """

    def __init__(self, input_dim, output_dim, embeddings_initializer="uniform", **kwargs):
        super().__init__(**kwargs)
        self.input_dim, self.output_dim = int(input_dim), int(output_dim)
        self.embeddings = self.add_weight("embeddings", (self.input_dim, self.output_dim),
                                          embeddings_initializer)

    def check_ids(self, ids, argument="token_ids"):
        """Raise ValueError if any id is outside [0, input_dim) (checked on the host)."""
        host = backend.to_numpy(ids)
        if host.size and (host.min() < 0 or host.max() >= self.input_dim):
            bad = host[(host < 0) | (host >= self.input_dim)]
            raise ValueError(f"{argument}: every id must be in [0, {self.input_dim}) for "
                             f"{self.name!r}; got {bad[:5].tolist()}")

    def forward(self, ids, training=False):
        table = self.embeddings.value.astype(self.compute_dtype, copy=False)  # (V, H)
        y, cache = embedding_forward(ids, table)                                # (..., H)
        self.save_cache(cache)
        return y

    def backward(self, dy):
        """Adds the table gradient; integer ids have no gradient, so this returns None."""
        cache = self.pop_cache()
        if self.embeddings.trainable:
            ids, _, table_dtype = cache
            grad = self.embeddings.grad
            if fast.enabled() and grad is not None and grad.dtype == dy.dtype == table_dtype:
                fast.embedding_backward_into(grad, ids, dy)    # a tied table's second gradient
            else:
                self.embeddings.add_grad(embedding_backward(dy, cache), owned=True)
        return None

    def get_config(self):
        return {**super().get_config(), "input_dim": self.input_dim,
                "output_dim": self.output_dim}


class ReversibleEmbedding(Embedding):
    """An Embedding whose table also projects hidden states back onto the vocabulary.

    ``layer(ids)`` looks rows up; ``layer(x, reverse=True)`` returns logits x @ table.T
    (B, ..., V). A masked-LM head ties its output projection to the token table this way; in
    one training step the table then collects both gradients (lookup and projection) in
    ``embeddings.grad``. The two directions keep separate caches, so each gets its backward:
    ``layer.backward(dy)`` and ``layer.backward(dlogits, reverse=True)``.
    """

    def forward(self, inputs, training=False, reverse=False):
        if not reverse:
            return super().forward(inputs, training)
        table = self.embeddings.value.astype(self.compute_dtype, copy=False)  # (V, H)
        logits, cache = reverse_embedding_forward(
            inputs, table, fast.product(self.compute_dtype))                   # (..., V)
        self.save_cache(cache, slot="reverse")
        return logits

    def backward(self, dy, reverse=False):
        if not reverse:
            return super().backward(dy)
        cache = self.pop_cache(slot="reverse")
        backward = (fast.reverse_embedding_backward_fast if fast.enabled()
                    else reverse_embedding_backward)
        dx, dtable = backward(dy, cache, param_grads=self.embeddings.trainable)
        if dtable is not None:
            self.embeddings.add_grad(dtable, owned=True)
        return dx


class PositionEmbedding(Layer):
    """Learned absolute positions: rows 0..T-1 of a (sequence_length, H) table.

    Takes the token embeddings only for their shape (B, T, H) and returns the position rows
    broadcast to it, as KerasHub's PositionEmbedding.
    """

    def __init__(self, sequence_length, hidden_dim, initializer="glorot_uniform", **kwargs):
        super().__init__(**kwargs)
        self.sequence_length, self.hidden_dim = int(sequence_length), int(hidden_dim)
        self.embeddings = self.add_weight("embeddings", (self.sequence_length, self.hidden_dim),
                                          initializer)

    def forward(self, inputs, training=False):
        xp = backend.get_array_module(inputs)
        length = inputs.shape[-2]
        if length > self.sequence_length:
            raise ValueError(f"token_ids: sequence length {length} is longer than "
                             f"max_sequence_length={self.sequence_length}")
        rows = self.embeddings.value[:length].astype(self.compute_dtype, copy=False)  # (T, H)
        self.save_cache(length)
        return xp.broadcast_to(rows, inputs.shape)                 # (B, T, H) view

    def backward(self, dy):
        """dy (B, T, H): each used row gets the sum over the batch; returns None."""
        length = self.pop_cache()
        if self.embeddings.trainable:
            xp = backend.get_array_module(dy)
            grad = xp.zeros(self.embeddings.shape, dtype=dy.dtype)   # (P, H)
            grad[:length] = dy.reshape(-1, length, self.hidden_dim).sum(axis=0)
            self.embeddings.add_grad(grad, owned=True)
        return None

    def get_config(self):
        return {**super().get_config(), "sequence_length": self.sequence_length}
