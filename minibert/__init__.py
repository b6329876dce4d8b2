"""minibert: KerasHub's BERT family from scratch on NumPy (CuPy on a GPU)."""
from minibert import layers, models, ops, presets, tokenizers, utils
from minibert.training import callbacks, losses, metrics, optimizers
from minibert.backend import get_backend, set_backend
from minibert.dtype_policies import set_dtype_policy
from minibert.layers import no_grad
from minibert.models import (Backbone, BertBackbone, BertClassifier, BertMaskedLM,
                             BertMaskedLMPreprocessor, BertPreprocessor, BertTextClassifier,
                             BertTextClassifierPreprocessor, BertTokenizer, DistilBertBackbone,
                             DistilBertClassifier, DistilBertMaskedLM,
                             DistilBertMaskedLMPreprocessor, DistilBertPreprocessor,
                             DistilBertTextClassifier, DistilBertTextClassifierPreprocessor,
                             DistilBertTokenizer, MaskedLM, MaskedLMPreprocessor, Preprocessor,
                             Task, TextClassifier, TextClassifierPreprocessor, Tokenizer)

__version__ = "0.1.0"
