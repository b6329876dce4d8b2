"""DistilBertTextClassifierPreprocessor (alias DistilBertPreprocessor): text -> model inputs."""
from minibert.models.distil_bert.distil_bert_tokenizer import DistilBertTokenizer
from minibert.models.text_classifier_preprocessor import TextClassifierPreprocessor


class DistilBertTextClassifierPreprocessor(TextClassifierPreprocessor):
    """``TextClassifierPreprocessor`` for DistilBERT: no ``segment_ids`` (the backbone does
    not take them)."""

    tokenizer_cls = DistilBertTokenizer
    segment_ids_input = False


DistilBertPreprocessor = DistilBertTextClassifierPreprocessor
