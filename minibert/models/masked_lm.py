"""MaskedLM: a backbone plus a MaskedLMHead tied to the backbone's token embedding.

    logits = head(backbone(x)["sequence_output"], x["mask_positions"])     (B, M, V)

The head gathers the M masked positions first, so the vocabulary projection costs B*M*H*V,
not B*T*H*V.
"""
from minibert.layers.initializers import TruncatedNormal
from minibert.layers.masked_lm_head import MaskedLMHead
from minibert.models.task import Task


class MaskedLM(Task):
    """Base of BertMaskedLM and DistilBertMaskedLM.

    Args:
        backbone: a backbone of ``backbone_cls``.
        preprocessor: a masked-LM preprocessor or None (then inputs are integer dicts).
        head_activation: the head's intermediate activation (KerasHub and HF: "gelu", exact).
        head_layer_norm_epsilon: the head's layer norm (KerasHub 1e-5; HF 1e-12).
    """

    def __init__(self, backbone, preprocessor=None, head_activation="gelu",
                 head_layer_norm_epsilon=1e-5, **kwargs):
        super().__init__(backbone, preprocessor, **kwargs)
        self.head_activation = head_activation
        self.head_layer_norm_epsilon = head_layer_norm_epsilon
        self.mlm_head = MaskedLMHead(
            vocabulary_size=backbone.vocabulary_size, token_embedding=backbone.token_embedding,
            intermediate_activation=head_activation, layer_norm_epsilon=head_layer_norm_epsilon,
            kernel_initializer=TruncatedNormal(stddev=0.02), name="mlm_head",
            dtype=self.dtype_policy)
        self._finish_building()

    def forward(self, x, training=False):
        """x: the backbone's inputs plus ``mask_positions`` (B, M) -> logits (B, M, V)."""
        if not isinstance(x, dict) or "mask_positions" not in x:
            raise ValueError("inputs: a masked LM needs a dict with 'mask_positions' besides the "
                             f"backbone's inputs; got {sorted(x) if isinstance(x, dict) else type(x).__name__}")
        sequence = self._backbone_sequence(x, training)                     # (B, T, H)
        return self.mlm_head(sequence, x["mask_positions"], training)       # (B, M, V)

    def backward(self, dlogits):
        """dlogits (B, M, V): adds every trainable weight's gradient; returns None."""
        self._backbone_backward(self.mlm_head.backward(dlogits))
        return None

    def default_compile_arguments(self):
        """KerasHub's "auto" choices: Adam(5e-5), sparse categorical cross-entropy on logits,
        weighted sparse categorical accuracy."""
        from minibert.training import losses, metrics, optimizers
        return {"optimizer": optimizers.Adam(5e-5),
                "loss": losses.SparseCategoricalCrossentropy(from_logits=True),
                "weighted_metrics": [metrics.SparseCategoricalAccuracy()]}

    def get_config(self):
        return {**super().get_config(), "head_activation": self.head_activation,
                "head_layer_norm_epsilon": self.head_layer_norm_epsilon}
