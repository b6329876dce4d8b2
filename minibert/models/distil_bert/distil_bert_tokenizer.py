"""DistilBertTokenizer: BERT's tokenizer under DistilBERT's name (as in KerasHub)."""
from minibert.models.bert.bert_tokenizer import BertTokenizer
from minibert.tokenizers.word_piece_tokenizer import WordPieceTokenizer


class DistilBertTokenizer(WordPieceTokenizer):
    """DistilBERT's WordPiece tokenizer: ``BertTokenizer``'s special tokens and behaviour.

    As in KerasHub it is a sibling of ``BertTokenizer``, not a subclass, and ``vocabulary``
    is required.
    """

    special_token_attributes = BertTokenizer.special_token_attributes

    def __init__(self, vocabulary, lowercase=False, **kwargs):
        super().__init__(vocabulary=vocabulary, lowercase=lowercase, **kwargs)
