"""BertTextClassifier: pooled output -> dropout -> dense, as KerasHub's."""
from minibert.layers.dense import Dense
from minibert.layers.dropout import Dropout
from minibert.models.backbone import kernel_initializer
from minibert.models.bert.bert_backbone import BertBackbone
from minibert.models.bert.bert_text_classifier_preprocessor import BertTextClassifierPreprocessor
from minibert.models.text_classifier import TextClassifier


class BertTextClassifier(TextClassifier):
    """logits = Dense(num_classes)(Dropout(pooled_output)) (B, num_classes).

    Inputs: ``token_ids``, ``segment_ids``, ``padding_mask`` (B, T). Weights after the
    backbone's: ``logits/kernel`` (H, C), ``logits/bias`` (C,).
    """

    backbone_cls = BertBackbone
    preprocessor_cls = BertTextClassifierPreprocessor

    def __init__(self, backbone, num_classes, preprocessor=None, activation=None, dropout=0.1,
                 name="bert_text_classifier", **kwargs):
        super().__init__(backbone, num_classes, preprocessor, activation, dropout, name=name,
                         **kwargs)
        self.output_dropout = Dropout(dropout, name="classifier_dropout", dtype=self.dtype_policy)
        self.output_dense = Dense(num_classes, backbone.hidden_dim, activation=activation,
                                  kernel_initializer=kernel_initializer(), name="logits",
                                  dtype=self.dtype_policy)
        self._finish_building()

    def forward(self, x, training=False):
        pooled = self.backbone(x, training=training)["pooled_output"]       # (B, H)
        pooled = self.output_dropout(pooled, training)                       # (B, H)
        return self.output_dense(pooled)                                     # (B, C)

    def backward(self, dlogits):
        """dlogits (B, C): adds every trainable weight's gradient; returns None."""
        d_pooled = self.output_dropout.backward(self.output_dense.backward(dlogits))  # (B, H)
        if self.backbone.trainable_weights:
            self.backbone.backward({"pooled_output": d_pooled})
        return None
