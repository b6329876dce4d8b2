"""TextClassifierPreprocessor: text (or text pairs) -> a classifier's inputs."""
from minibert.models.preprocessor import PackingPreprocessor, pack_x_y_sample_weight


class TextClassifierPreprocessor(PackingPreprocessor):
    """Tokenize and pack text for a text classifier (KerasHub's class).

    Args:
        tokenizer: the model's tokenizer.
        sequence_length: the packed length (default 512).
        truncate: "round_robin" (default) or "waterfall", for pairs that are too long.

    Call with ``x``: a string, a list of strings (a batch), or a tuple of those (segments:
    ``x=(premises, hypotheses)``); ``y`` and ``sample_weight`` pass through unchanged.
    Returns ``x`` = {"token_ids", "padding_mask", "segment_ids"} (int32 arrays and a bool
    mask, each (sequence_length,) or (batch, sequence_length)), packed with y and
    sample_weight when given.

    Example:
        >>> preprocessor = BertTextClassifierPreprocessor(tokenizer, sequence_length=8)
        >>> preprocessor(["The quick brown fox."])["token_ids"]
        array([[ 101, 1996, 4248, 2829, 4419, 1012,  102,    0]], dtype=int32)
    """

    def call(self, x, y=None, sample_weight=None):
        return pack_x_y_sample_weight(self.pack(x), y, sample_weight)
