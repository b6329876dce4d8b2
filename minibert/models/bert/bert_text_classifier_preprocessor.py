"""BertTextClassifierPreprocessor (alias BertPreprocessor): text -> BertTextClassifier inputs."""
from minibert.models.bert.bert_tokenizer import BertTokenizer
from minibert.models.text_classifier_preprocessor import TextClassifierPreprocessor


class BertTextClassifierPreprocessor(TextClassifierPreprocessor):
    """``TextClassifierPreprocessor`` for BERT."""

    tokenizer_cls = BertTokenizer


BertPreprocessor = BertTextClassifierPreprocessor
