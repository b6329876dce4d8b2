"""BertMaskedLMPreprocessor: text -> BertMaskedLM inputs and labels."""
from minibert.models.bert.bert_tokenizer import BertTokenizer
from minibert.models.masked_lm_preprocessor import MaskedLMPreprocessor


class BertMaskedLMPreprocessor(MaskedLMPreprocessor):
    """``MaskedLMPreprocessor`` for BERT."""

    tokenizer_cls = BertTokenizer
