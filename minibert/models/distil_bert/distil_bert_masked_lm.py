"""DistilBertMaskedLM: DistilBertBackbone + masked-LM head, as KerasHub's."""
from minibert.models.distil_bert.distil_bert_backbone import DistilBertBackbone
from minibert.models.distil_bert.distil_bert_masked_lm_preprocessor import DistilBertMaskedLMPreprocessor
from minibert.models.masked_lm import MaskedLM


class DistilBertMaskedLM(MaskedLM):
    """Inputs: ``token_ids``, ``padding_mask`` (B, T) and ``mask_positions`` (B, M). Output:
    logits (B, M, V). See ``MaskedLM`` for the arguments."""

    backbone_cls = DistilBertBackbone
    preprocessor_cls = DistilBertMaskedLMPreprocessor

    def __init__(self, backbone, preprocessor=None, head_activation="gelu",
                 head_layer_norm_epsilon=1e-5, name="distil_bert_masked_lm", **kwargs):
        super().__init__(backbone, preprocessor, head_activation, head_layer_norm_epsilon,
                         name=name, **kwargs)
