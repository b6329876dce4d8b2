"""Models with KerasHub's names: backbones, tasks and their bases."""
from minibert.models.backbone import Backbone
from minibert.models.bert.bert_backbone import BertBackbone
from minibert.models.bert.bert_masked_lm import BertMaskedLM
from minibert.models.bert.bert_masked_lm_preprocessor import BertMaskedLMPreprocessor
from minibert.models.bert.bert_text_classifier import BertTextClassifier
from minibert.models.bert.bert_text_classifier_preprocessor import (
    BertPreprocessor, BertTextClassifierPreprocessor)
from minibert.models.bert.bert_tokenizer import BertTokenizer
from minibert.models.distil_bert.distil_bert_backbone import DistilBertBackbone
from minibert.models.distil_bert.distil_bert_masked_lm import DistilBertMaskedLM
from minibert.models.distil_bert.distil_bert_masked_lm_preprocessor import (
    DistilBertMaskedLMPreprocessor)
from minibert.models.distil_bert.distil_bert_text_classifier import DistilBertTextClassifier
from minibert.models.distil_bert.distil_bert_text_classifier_preprocessor import (
    DistilBertPreprocessor, DistilBertTextClassifierPreprocessor)
from minibert.models.distil_bert.distil_bert_tokenizer import DistilBertTokenizer
from minibert.models.masked_lm import MaskedLM
from minibert.models.masked_lm_preprocessor import MaskedLMPreprocessor
from minibert.models.preprocessor import Preprocessor
from minibert.models.task import Task
from minibert.models.text_classifier import TextClassifier
from minibert.models.text_classifier_preprocessor import TextClassifierPreprocessor
from minibert.tokenizers.tokenizer import Tokenizer

# KerasHub's aliases.
BertClassifier = BertTextClassifier
DistilBertClassifier = DistilBertTextClassifier
