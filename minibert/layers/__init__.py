"""Keras-style layers: each owns Variables, calls the pure ops, and has a backward pass."""
from minibert.layers.dense import Dense
from minibert.layers.dropout import Dropout
from minibert.layers.embedding import Embedding, PositionEmbedding, ReversibleEmbedding
from minibert.layers.layer import Layer, no_grad
from minibert.layers.layer_norm import LayerNormalization
from minibert.layers.masked_lm_head import MaskedLMHead
from minibert.layers.multi_head_attention import MultiHeadAttention
from minibert.layers.preprocessing import MaskedLMMaskGenerator, MultiSegmentPacker
from minibert.layers.token_and_position_embedding import TokenAndPositionEmbedding
from minibert.layers.transformer_encoder import TransformerEncoder
from minibert.layers.variable import Variable
