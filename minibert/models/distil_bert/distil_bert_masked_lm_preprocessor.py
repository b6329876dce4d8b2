"""DistilBertMaskedLMPreprocessor: text -> DistilBertMaskedLM inputs and labels."""
from minibert.models.distil_bert.distil_bert_tokenizer import DistilBertTokenizer
from minibert.models.masked_lm_preprocessor import MaskedLMPreprocessor


class DistilBertMaskedLMPreprocessor(MaskedLMPreprocessor):
    """``MaskedLMPreprocessor`` for DistilBERT: no ``segment_ids`` (the backbone does not
    take them)."""

    tokenizer_cls = DistilBertTokenizer
    segment_ids_input = False
