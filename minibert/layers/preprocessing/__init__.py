"""Preprocessing layers: packing segments into model inputs, and masking for masked-LM."""
from minibert.layers.preprocessing.masked_lm_mask_generator import MaskedLMMaskGenerator
from minibert.layers.preprocessing.multi_segment_packer import MultiSegmentPacker

__all__ = ["MaskedLMMaskGenerator", "MultiSegmentPacker"]
