"""Pure ops: forward/backward twins, one op family per file.

Each ``*_forward`` returns ``(output, cache)``; the matching ``*_backward`` takes the upstream
gradient and that cache. The array module comes from the inputs, so the same code runs on NumPy
and CuPy. Derivations are in docs/ops/.
"""
from minibert.ops.activations import (gelu_backward, gelu_forward, relu_backward, relu_forward,
                                      tanh_backward, tanh_forward)
from minibert.ops.attention import attention_backward, attention_forward
from minibert.ops.cross_entropy import (softmax_cross_entropy_backward,
                                        softmax_cross_entropy_forward)
from minibert.ops.dense import dense_backward, dense_forward
from minibert.ops.dropout import dropout_backward, dropout_forward
from minibert.ops.embedding import (embedding_backward, embedding_forward,
                                    reverse_embedding_backward, reverse_embedding_forward)
from minibert.ops.layer_norm import layer_norm_backward, layer_norm_forward
from minibert.ops.softmax import softmax_backward, softmax_forward

__all__ = [
    "dense_forward", "dense_backward",
    "embedding_forward", "embedding_backward",
    "reverse_embedding_forward", "reverse_embedding_backward",
    "layer_norm_forward", "layer_norm_backward",
    "gelu_forward", "gelu_backward", "tanh_forward", "tanh_backward",
    "relu_forward", "relu_backward",
    "softmax_forward", "softmax_backward",
    "dropout_forward", "dropout_backward",
    "attention_forward", "attention_backward",
    "softmax_cross_entropy_forward", "softmax_cross_entropy_backward",
]
