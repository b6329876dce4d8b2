"""DistilBertTextClassifier: first token -> dense (relu) -> dropout -> dense, as KerasHub's."""
from minibert import backend
from minibert.layers.dense import Dense
from minibert.layers.dropout import Dropout
from minibert.models.backbone import kernel_initializer
from minibert.models.distil_bert.distil_bert_backbone import DistilBertBackbone
from minibert.models.distil_bert.distil_bert_text_classifier_preprocessor import (
    DistilBertTextClassifierPreprocessor)
from minibert.models.text_classifier import TextClassifier


class DistilBertTextClassifier(TextClassifier):
    """logits = Dense(num_classes)(Dropout(relu(x[:, 0] @ W + b))) (B, num_classes).

    Args as TextClassifier, plus ``hidden_dim`` (width of the pre-classifier dense layer;
    default the backbone's). KerasHub's default dropout here is 0.2.
    """

    backbone_cls = DistilBertBackbone
    preprocessor_cls = DistilBertTextClassifierPreprocessor

    def __init__(self, backbone, num_classes, preprocessor=None, activation=None,
                 hidden_dim=None, dropout=0.2, name="distil_bert_text_classifier", **kwargs):
        super().__init__(backbone, num_classes, preprocessor, activation, dropout, name=name,
                         **kwargs)
        self.hidden_dim = hidden_dim or backbone.hidden_dim
        policy = self.dtype_policy
        self.pooled_dense = Dense(self.hidden_dim, backbone.hidden_dim, activation="relu",
                                  kernel_initializer=kernel_initializer(), name="pooled_dense",
                                  dtype=policy)
        self.output_dropout = Dropout(dropout, name="output_dropout", dtype=policy)
        self.output_dense = Dense(num_classes, self.hidden_dim, activation=activation,
                                  kernel_initializer=kernel_initializer(), name="logits",
                                  dtype=policy)
        self._finish_building()

    def forward(self, x, training=False):
        sequence = self.backbone(x, training=training)                       # (B, T, H)
        self.save_cache(sequence.shape)
        pooled = self.pooled_dense(sequence[:, self.backbone.cls_token_index, :])  # (B, hidden)
        pooled = self.output_dropout(pooled, training)                       # (B, hidden)
        return self.output_dense(pooled)                                     # (B, C)

    def backward(self, dlogits):
        """dlogits (B, C): adds every trainable weight's gradient; returns None."""
        d_pooled = self.output_dropout.backward(self.output_dense.backward(dlogits))
        d_first = self.pooled_dense.backward(d_pooled)                       # (B, H)
        sequence_shape = self.pop_cache()
        if self.backbone.trainable_weights:
            xp = backend.get_array_module(d_first)
            d_sequence = xp.zeros(sequence_shape, dtype=d_first.dtype)       # (B, T, H)
            d_sequence[:, self.backbone.cls_token_index, :] = d_first
            self.backbone.backward(d_sequence)
        return None

    def get_config(self):
        return {**super().get_config(), "hidden_dim": self.hidden_dim}
