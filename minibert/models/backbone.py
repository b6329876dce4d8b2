"""Backbone: the base of BertBackbone and DistilBertBackbone.

It holds what both share: the encoder stack (embedding layer norm, embedding dropout, N post-LN
TransformerEncoder blocks), preset loading and saving, and the config round trip.
"""
from minibert.layers import fused_encoder
from minibert.layers.dropout import Dropout
from minibert.layers.initializers import TruncatedNormal
from minibert.layers.layer import Layer
from minibert.layers.layer_norm import LayerNormalization
from minibert.layers.transformer_encoder import TransformerEncoder
from minibert.models.preset_methods import PresetMethods


def kernel_initializer(stddev=0.02):
    """KerasHub's BERT initializer: TruncatedNormal(0.02) for every kernel and embedding."""
    return TruncatedNormal(stddev=stddev)


class Backbone(PresetMethods, Layer):
    """Base class: embeddings -> encoder blocks. Subclasses add their embeddings and outputs."""

    is_model = True

    def __init__(self, vocabulary_size, num_layers, num_heads, hidden_dim, intermediate_dim,
                 dropout, max_sequence_length, activation, layer_norm_epsilon,
                 attention_mask_value, **kwargs):
        super().__init__(**kwargs)
        for argument, value in (("vocabulary_size", vocabulary_size), ("num_layers", num_layers),
                                ("num_heads", num_heads), ("hidden_dim", hidden_dim),
                                ("intermediate_dim", intermediate_dim),
                                ("max_sequence_length", max_sequence_length)):
            if not isinstance(value, int) or value <= 0:
                raise ValueError(f"{argument}: expected a positive int, got {value!r}")
        if hidden_dim % num_heads:
            raise ValueError(f"hidden_dim: must be divisible by num_heads={num_heads}, got "
                             f"{hidden_dim}")
        if not 0.0 <= dropout < 1.0:
            raise ValueError(f"dropout: expected a rate in [0, 1), got {dropout!r}")
        self.vocabulary_size = vocabulary_size
        self.num_layers = num_layers
        self.num_heads = num_heads
        self.hidden_dim = hidden_dim
        self.intermediate_dim = intermediate_dim
        self.dropout = dropout
        self.max_sequence_length = max_sequence_length
        self.activation = activation
        self.layer_norm_epsilon = layer_norm_epsilon
        self.attention_mask_value = attention_mask_value
        self.cls_token_index = 0

    def _build_encoder(self):
        """Create the embedding layer norm and dropout, then the encoder blocks (in this order,
        which is KerasHub's weight order)."""
        policy = self.dtype_policy
        self.embeddings_layer_norm = LayerNormalization(
            self.hidden_dim, self.layer_norm_epsilon, name="embeddings_layer_norm", dtype=policy)
        self.embeddings_dropout = Dropout(self.dropout, name="embeddings_dropout", dtype=policy)
        self.transformer_layers = [
            TransformerEncoder(self.intermediate_dim, self.num_heads, self.hidden_dim,
                               dropout=self.dropout, activation=self.activation,
                               layer_norm_epsilon=self.layer_norm_epsilon,
                               attention_mask_value=self.attention_mask_value,
                               kernel_initializer=kernel_initializer(),
                               name=f"transformer_layer_{i}", dtype=policy)
            for i in range(self.num_layers)]

    def _encode(self, embedded, padding_mask, training):
        """embedded (B, T, H) -> sequence output (B, T, H)."""
        x = self.embeddings_layer_norm(embedded)                  # (B, T, H)
        x = self.embeddings_dropout(x, training)                  # (B, T, H)
        if fused_encoder.stack_applies(self.transformer_layers, x, training):
            # Inference on the fast path: the same blocks, each thread its share of sequences.
            return fused_encoder.stack_forward(self.transformer_layers, x, padding_mask)
        for layer in self.transformer_layers:
            x = layer(x, padding_mask, training)                  # (B, T, H)
        return x

    def _encode_backward(self, dx):
        """d sequence output (B, T, H) -> d embedded (B, T, H)."""
        for layer in reversed(self.transformer_layers):
            dx = layer.backward(dx)                               # (B, T, H)
        dx = self.embeddings_dropout.backward(dx)                 # (B, T, H)
        return self.embeddings_layer_norm.backward(dx)            # (B, T, H)

    def backward_from_sequence(self, d_sequence):
        """Backward from a gradient of the sequence output (B, T, H) alone."""
        return self.backward(d_sequence)

    def get_config(self):
        return {**super().get_config(),
                "vocabulary_size": self.vocabulary_size, "num_layers": self.num_layers,
                "num_heads": self.num_heads, "hidden_dim": self.hidden_dim,
                "intermediate_dim": self.intermediate_dim, "dropout": self.dropout,
                "max_sequence_length": self.max_sequence_length,
                "activation": self.activation, "layer_norm_epsilon": self.layer_norm_epsilon,
                "attention_mask_value": self.attention_mask_value}

    @classmethod
    def from_preset(cls, preset, load_weights=True, **kwargs):
        """Build the backbone a preset describes (a built-in name, a KerasHub or HF directory,
        ``kaggle://`` or ``hf://``), with its weights unless ``load_weights=False``. Keyword
        arguments override the preset's config. On ``Backbone`` itself the subclass comes from
        the preset."""
        from minibert.presets.loader import load_backbone
        return load_backbone(cls, preset, load_weights=load_weights, **kwargs)

    def save_to_preset(self, preset_dir, max_shard_size=10):
        """Write a KerasHub preset directory (config.json, metadata.json, model.weights.h5;
        weights over ``max_shard_size`` GB are sharded, as KerasHub does)."""
        from minibert.presets.saver import save_backbone
        save_backbone(self, preset_dir, max_shard_size=max_shard_size)
