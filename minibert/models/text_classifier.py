"""TextClassifier: the base of BertTextClassifier and DistilBertTextClassifier."""
from minibert.models.task import Task


class TextClassifier(Task):
    """A backbone with a classification head; subclasses build the head.

    Args (shared): backbone, num_classes, preprocessor=None, activation=None (None: logits;
    "softmax": probabilities), dropout (before the final dense layer, training only).
    """

    def __init__(self, backbone, num_classes, preprocessor=None, activation=None, dropout=0.1,
                 **kwargs):
        super().__init__(backbone, preprocessor, **kwargs)
        if not isinstance(num_classes, int) or num_classes <= 0:
            raise ValueError(f"num_classes: expected a positive int, got {num_classes!r}")
        self.num_classes = num_classes
        self.activation = activation
        self.dropout = dropout

    def default_compile_arguments(self):
        """KerasHub's "auto" choices: Adam(5e-5), sparse categorical cross-entropy (on logits
        unless the activation is softmax), sparse categorical accuracy."""
        from minibert.training import losses, metrics, optimizers
        return {"optimizer": optimizers.Adam(5e-5),
                "loss": losses.SparseCategoricalCrossentropy(
                    from_logits=self.activation != "softmax"),
                "metrics": [metrics.SparseCategoricalAccuracy()]}

    def get_config(self):
        return {**super().get_config(), "num_classes": self.num_classes,
                "activation": "linear" if self.activation is None else self.activation,
                "dropout": self.dropout}
