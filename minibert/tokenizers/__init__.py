"""Tokenizers: text <-> token ids, in pure Python (KerasHub's ``keras_hub.tokenizers``)."""
from minibert.tokenizers.tokenizer import Tokenizer
from minibert.tokenizers.word_piece_tokenizer import WordPieceTokenizer
from minibert.tokenizers.word_piece_tokenizer_trainer import compute_word_piece_vocabulary

__all__ = ["Tokenizer", "WordPieceTokenizer", "compute_word_piece_vocabulary",
           "BertTokenizer", "DistilBertTokenizer"]


def __getattr__(name):
    """``minibert.tokenizers.BertTokenizer`` / ``DistilBertTokenizer``, as in KerasHub. They
    live with their models and import this package, so they are looked up on first use."""
    if name == "BertTokenizer":
        from minibert.models.bert.bert_tokenizer import BertTokenizer
        return BertTokenizer
    if name == "DistilBertTokenizer":
        from minibert.models.distil_bert.distil_bert_tokenizer import DistilBertTokenizer
        return DistilBertTokenizer
    raise AttributeError(f"module 'minibert.tokenizers' has no attribute {name!r}")
