"""BertTokenizer: a WordPieceTokenizer that knows BERT's special tokens."""
from minibert.tokenizers.word_piece_tokenizer import WordPieceTokenizer


class BertTokenizer(WordPieceTokenizer):
    """BERT's WordPiece tokenizer (KerasHub's ``BertTokenizer``).

    Adds ``cls_token`` "[CLS]", ``sep_token`` "[SEP]", ``pad_token`` "[PAD]", ``mask_token``
    "[MASK]" and the aliases ``start_token`` ("[CLS]") and ``end_token`` ("[SEP]"), each with
    its ``*_id``; all must be in the vocabulary. ``special_token_ids`` are the ids of these
    four ("[UNK]" is not one of them, so the masker may pick it).

    Args:
        vocabulary: list of tokens or path to a vocabulary file (None: set it later).
        lowercase: True for "uncased" vocabularies.
        **kwargs: the other ``WordPieceTokenizer`` arguments.

    Example:
        >>> tokenizer = BertTokenizer(vocabulary="vocab.txt", lowercase=True)
        >>> tokenizer("The quick brown fox.")
        [1996, 4248, 2829, 4419, 1012]
    """

    special_token_attributes = {"cls_token": "[CLS]", "sep_token": "[SEP]",
                                "pad_token": "[PAD]", "mask_token": "[MASK]",
                                "start_token": "[CLS]", "end_token": "[SEP]"}

    def __init__(self, vocabulary=None, lowercase=False, **kwargs):
        super().__init__(vocabulary=vocabulary, lowercase=lowercase, **kwargs)
