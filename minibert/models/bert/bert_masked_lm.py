"""BertMaskedLM: BertBackbone + masked-LM head, as KerasHub's."""
from minibert.models.bert.bert_backbone import BertBackbone
from minibert.models.bert.bert_masked_lm_preprocessor import BertMaskedLMPreprocessor
from minibert.models.masked_lm import MaskedLM


class BertMaskedLM(MaskedLM):
    """Inputs: ``token_ids``, ``segment_ids``, ``padding_mask`` (B, T) and ``mask_positions``
    (B, M). Output: logits (B, M, V). See ``MaskedLM`` for the arguments."""

    backbone_cls = BertBackbone
    preprocessor_cls = BertMaskedLMPreprocessor

    def __init__(self, backbone, preprocessor=None, head_activation="gelu",
                 head_layer_norm_epsilon=1e-5, name="bert_masked_lm", **kwargs):
        super().__init__(backbone, preprocessor, head_activation, head_layer_norm_epsilon,
                         name=name, **kwargs)
