"""The fast path of MultiHeadAttention and TransformerEncoder: the same block on fused ops.

Read ``transformer_encoder.py`` and ``multi_head_attention.py`` first: they are the reference,
and they call this module only when it applies (fast paths on, float32 or float64 compute and
variables, and for the encoder a GELU feed-forward). tests/layers/test_fast_encoder.py runs both
paths on the same weights and compares outputs and every gradient.

    qkv = [x Wq | x Wk | x Wv]                       the three projections side by side
    a   = attention(qkv + [bq | bk | bv]) @ Wo       fused attention (minibert.ops.fast)
    x   = LayerNorm(x + dropout(a + bo))             one pass: add & norm
    z   = x @ Wi;  h = gelu(z + bi)                  one pass: bias and activation
    f   = h @ Wo2
    x   = LayerNorm(x + dropout(f + bo2))            one pass: add & norm

The weights stay the sublayers' Variables, with KerasHub's paths and shapes; the three
projections write their columns of one (N, 3 * NH * D) array, the layout the fused attention
reads. Gradients go into the same Variables, and frozen ones cost no matmul.
"""
import numpy as np

from minibert import backend
from minibert.layers.layer import caching
from minibert.ops import fast
from minibert.ops.fast import threads
from minibert.ops.fast.layer_norm import column_sum
from minibert.ops.fast.gemm import matmul, matmuls

_FUSED_ACTIVATIONS = {"gelu": False, "gelu_approximate": True}   # name -> approximate


def applies(layer, x):
    """True if ``layer`` (a MultiHeadAttention or TransformerEncoder) can run fused on x."""
    policy = layer.dtype_policy
    return (fast.enabled() and fast.supports_dtype(policy.compute_dtype)
            and policy.compute_dtype == policy.variable_dtype and x.ndim == 3)


def _value(variable, dtype):
    return variable.value.astype(dtype, copy=False)


def _add_grad(variable, grad):
    variable.add_grad(grad.reshape(variable.shape), owned=True)


def _dense_input_and_kernel_grads(xp, dy, kernel, x, kernel_trainable):
    """For y = x @ kernel: dx = dy @ kernel^T and dkernel = x^T @ dy (None when the kernel is
    frozen), two products of one size, side by side on the pool (``gemm.matmuls``)."""
    pairs = [(dy, kernel.T)] + ([(x.T, dy)] if kernel_trainable else [])
    dx, *dkernel = matmuls(xp, pairs)
    return dx, (dkernel[0] if dkernel else None)


def _dropout_keep(dropout_layer, shape, training):
    """(keep, scale) for a residual dropout, drawn as the plain dropout op draws it."""
    if not training or dropout_layer.rate == 0.0:
        return None, 1.0
    keep = fast.draw_keep(dropout_layer.rng, shape, dropout_layer.rate)
    return keep, 1.0 / (1.0 - dropout_layer.rate)


# ------------------------------------------------------------------------- multi-head attention
def _projection_kernels(mha, dtype):
    """The query, key and value kernels as (H, NH * D) views (no copies)."""
    return [_value(d.kernel, dtype).reshape(mha.hidden_dim, -1)
            for d in (mha.query, mha.key, mha.value)]


def attention_forward(mha, x2, batch_shape, padding_mask, training):
    """x2 (N, H) -> a (N, H), the attention output WITHOUT its bias bo (the caller adds it),
    and the cache for ``attention_backward``."""
    xp = backend.get_array_module(x2)
    dtype = x2.dtype
    batch, length = batch_shape
    heads, head_dim = mha.num_heads, mha.key_dim
    kernels = _projection_kernels(mha, dtype)                              # 3 x (H, NH*D)
    width = heads * head_dim
    qkv2 = xp.empty((x2.shape[0], 3 * width), dtype=dtype)                 # (N, 3*NH*D)
    for i, kernel in enumerate(kernels):                                   # [q | k | v] columns
        matmul(xp, x2, kernel, out=qkv2[:, i * width:(i + 1) * width])
    qkv = qkv2.reshape(batch, length, 3, heads, head_dim)                  # (B, T, 3, NH, D)
    b_qkv = xp.stack([_value(d.bias, dtype) for d in (mha.query, mha.key, mha.value)])
    rate = mha.dropout_layer.rate
    rng = mha.dropout_layer.rng if training and rate > 0 else None
    out, attention_cache = fast.attention_forward_fused(
        qkv, b_qkv, padding_mask, rate, rng, mha.mask_value)               # (B, T, NH, D)
    out2 = out.reshape(batch * length, heads * head_dim)                   # (N, NH*D) view
    w_out = _value(mha.attention_output.kernel, dtype).reshape(heads * head_dim, -1)
    a = matmul(xp, out2, w_out)                                            # (N, H)
    return a, (x2, kernels, attention_cache, out2, w_out)


def attention_backward(mha, da, cache):
    """da (N, H): gradient of the attention output (with or without its bias, the same) ->
    dx (N, H); adds the gradients of all eight attention Variables (those trainable)."""
    x2, kernels, attention_cache, out2, w_out = cache
    xp = backend.get_array_module(da)
    dense_out = mha.attention_output
    dout, dw_out = _dense_input_and_kernel_grads(xp, da, w_out, out2,
                                                 dense_out.kernel.trainable)  # (N, NH*D)
    if dw_out is not None:
        _add_grad(dense_out.kernel, dw_out)                               # (NH*D, H)
        _add_grad(dense_out.bias, column_sum(da))                         # (H,)
    qkv_shape = attention_cache[0].shape                                   # (B, T, 3, NH, D)
    dqkv = fast.attention_backward_fused(dout.reshape(qkv_shape[:2] + qkv_shape[3:]),
                                         attention_cache)
    dqkv2 = dqkv.reshape(x2.shape[0], -1)                                  # (N, 3*NH*D)
    width = dqkv2.shape[1] // 3
    d_projections = [dqkv2[:, i * width:(i + 1) * width] for i in range(3)]  # 3 x (N, NH*D)
    trained = [(dense, d_projection) for dense, d_projection
               in zip((mha.query, mha.key, mha.value), d_projections) if dense.kernel.trainable]
    # The three input-gradient products and the kernel gradients, side by side on the pool.
    products = matmuls(xp, [(d_projection, kernel.T)
                            for d_projection, kernel in zip(d_projections, kernels)]
                       + [(x2.T, d_projection) for _, d_projection in trained])
    for (dense, d_projection), dw in zip(trained, products[3:]):
        _add_grad(dense.kernel, dw)                                        # (H, NH*D)
        _add_grad(dense.bias, column_sum(d_projection))                    # (NH*D,)
    dx = products[0]                                                       # (N, H)
    dx += products[1]
    dx += products[2]
    return dx


def mha_forward(mha, x, padding_mask, training):
    """MultiHeadAttention.forward, fused. x (B, T, H) -> (B, T, H)."""
    batch, length, hidden = x.shape
    dtype = mha.compute_dtype
    x2 = x.astype(dtype, copy=False).reshape(batch * length, hidden)
    a, cache = attention_forward(mha, x2, (batch, length), padding_mask, training)
    a += _value(mha.attention_output.bias, dtype)
    mha.clear_caches()
    mha.save_cache((cache, x.shape, x.dtype), slot="fused")
    return a.reshape(batch, length, -1)


def mha_backward(mha, dy):
    """MultiHeadAttention.backward, fused. dy (B, T, H) -> dx (B, T, H)."""
    cache, shape, dtype = mha.pop_cache(slot="fused")
    dy2 = dy.astype(mha.compute_dtype, copy=False).reshape(shape[0] * shape[1], -1)
    return attention_backward(mha, dy2, cache).reshape(shape).astype(dtype, copy=False)


# ---------------------------------------------------------------------------- encoder block
def encoder_applies(layer, x):
    return applies(layer, x) and layer.feedforward_intermediate_dense.activation in \
        _FUSED_ACTIVATIONS


def encoder_forward(layer, x, padding_mask, training):
    """TransformerEncoder.forward, fused. x (B, T, H) -> (B, T, H)."""
    if stack_applies([layer], x, training):
        return stack_forward([layer], x, padding_mask)
    batch, length, hidden = x.shape
    x2 = x.astype(layer.compute_dtype, copy=False).reshape(batch * length, hidden)   # (N, H)
    layer.clear_caches()
    y2, cache = _block_forward(layer, x2, (batch, length), padding_mask, training)
    layer.save_cache(cache + (x.shape, x.dtype), slot="fused")
    return y2.reshape(x.shape)


def _block_forward(layer, x2, batch_shape, padding_mask, training):
    """The block on x2 (N, H), the tokens of batch_shape (B, T) sequences -> (y2 (N, H), cache).
    Each op shares its work out over the pool (when called from outside it)."""
    xp = backend.get_array_module(x2)
    dtype = x2.dtype
    shape = batch_shape + (x2.shape[1],)                                   # (B, T, H)
    mha = layer.self_attention_layer
    a, attention_cache = attention_forward(mha, x2, batch_shape, padding_mask, training)
    ln1 = layer.self_attention_layer_norm
    keep1, scale1 = _dropout_keep(layer.self_attention_dropout, shape, training)
    y1, ln1_cache = fast.add_layer_norm_forward(
        x2, a, _value(mha.attention_output.bias, dtype), _value(ln1.gamma, dtype),
        _value(ln1.beta, dtype), ln1.epsilon,
        None if keep1 is None else keep1.reshape(x2.shape), scale1)        # (N, H)
    dense_in = layer.feedforward_intermediate_dense
    w_in = _value(dense_in.kernel, dtype)                                  # (H, I)
    z = matmul(xp, y1, w_in)                                               # (N, I)
    h, gelu_cache = fast.gelu_forward_fused(z, _value(dense_in.bias, dtype),
                                            _FUSED_ACTIVATIONS[dense_in.activation])
    dense_out = layer.feedforward_output_dense
    w_out = _value(dense_out.kernel, dtype)                                # (I, H)
    f = matmul(xp, h, w_out)                                               # (N, H)
    ln2 = layer.feedforward_layer_norm
    keep2, scale2 = _dropout_keep(layer.feedforward_dropout, shape, training)
    y2, ln2_cache = fast.add_layer_norm_forward(
        y1, f, _value(dense_out.bias, dtype), _value(ln2.gamma, dtype), _value(ln2.beta, dtype),
        ln2.epsilon, None if keep2 is None else keep2.reshape(x2.shape), scale2)  # (N, H)
    return y2, (attention_cache, ln1_cache, y1, w_in, gelu_cache, h, w_out, ln2_cache)


def _shares_out_sequences(xp, batch):
    """True if an inference forward can give each pool thread an equal share of sequences."""
    return (threads.uses_pool(xp) and threads.can_limit_blas()
            and batch % threads.num_threads() == 0)


def stack_applies(layers, x, training):
    """True if ``stack_forward`` can run ``layers`` (consecutive TransformerEncoders) on x: an
    inference forward (no dropout, no caches) on the fused path, sequences shared out evenly."""
    return (not training and not caching() and bool(layers)
            and all(encoder_applies(layer, x) for layer in layers)
            and len({layer.compute_dtype for layer in layers}) == 1
            and _shares_out_sequences(backend.get_array_module(x), x.shape[0]))


def stack_forward(layers, x, padding_mask):
    """Inference through consecutive encoder blocks, x (B, T, H) -> (B, T, H), when
    ``stack_applies``: each pool thread takes its share of the sequences through every block,
    with no meeting between blocks (attention mixes tokens only within a sequence). The same
    outputs as calling the blocks one after the other."""
    batch, length, hidden = x.shape
    x2 = x.astype(layers[0].compute_dtype, copy=False).reshape(batch * length, hidden)
    for layer in layers:
        layer.clear_caches()
    return _forward_by_sequences(layers, x2, (batch, length), padding_mask).reshape(x.shape)


def _forward_by_sequences(layers, x2, batch_shape, padding_mask):
    """Inference (no dropout, no cache): each pool thread runs the blocks ``layers``, one after
    the other, on its share of the sequences, its products on one BLAS thread. The ops run
    inside the thread on data the thread has just written; there is no hand-over between
    threads from one op to the next, nor from one block to the next. A bert_base feed-forward
    at 8 x 128 took 47.5 ms op by op on 2 cores, 42.5 ms this way. Same results as
    ``_block_forward`` (no dropout draws to keep in order)."""
    batch, length = batch_shape
    y2 = np.empty_like(x2)                                                 # (N, H)

    def run(start, stop):
        rows = slice(start * length, stop * length)
        mask = None if padding_mask is None else padding_mask[start:stop]
        h = x2[rows]                                                       # (rows, H)
        for layer in layers:
            h, _ = _block_forward(layer, h, (stop - start, length), mask, False)
        y2[rows] = h
    with threads.single_thread_blas():
        threads.parallel_for(np, batch, batch // threads.num_threads(), run)
    return y2


def encoder_backward(layer, dy):
    """TransformerEncoder.backward, fused. dy (B, T, H) -> dx (B, T, H)."""
    (attention_cache, ln1_cache, y1, w_in, gelu_cache, h, w_out, ln2_cache, shape,
     x_dtype) = layer.pop_cache(slot="fused")
    xp = backend.get_array_module(dy)
    dtype = layer.compute_dtype
    dy2 = dy.astype(dtype, copy=False).reshape(shape[0] * shape[1], shape[2])   # (N, H)
    ln2 = layer.feedforward_layer_norm
    d_res, d_f, dgamma, dbeta = fast.add_layer_norm_backward(
        dy2, ln2_cache, param_grads=ln2.gamma.trainable)                   # (N, H) x2
    if dgamma is not None:
        _add_grad(ln2.gamma, dgamma)
        _add_grad(ln2.beta, dbeta)
    dense_out = layer.feedforward_output_dense
    dh, dw_out = _dense_input_and_kernel_grads(xp, d_f, w_out, h, dense_out.kernel.trainable)
    if dw_out is not None:
        _add_grad(dense_out.kernel, dw_out)                                # (I, H)
        _add_grad(dense_out.bias, column_sum(d_f))
    dz = fast.gelu_backward_fused(dh, gelu_cache)                          # (N, I)
    dense_in = layer.feedforward_intermediate_dense
    dy1, dw_in = _dense_input_and_kernel_grads(xp, dz, w_in, y1, dense_in.kernel.trainable)
    if dw_in is not None:
        _add_grad(dense_in.kernel, dw_in)                                  # (H, I)
        _add_grad(dense_in.bias, column_sum(dz))
    dy1 += d_res                                                           # (N, H)
    ln1 = layer.self_attention_layer_norm
    d_res1, d_a, dgamma, dbeta = fast.add_layer_norm_backward(
        dy1, ln1_cache, param_grads=ln1.gamma.trainable)
    if dgamma is not None:
        _add_grad(ln1.gamma, dgamma)
        _add_grad(ln1.beta, dbeta)
    dx = attention_backward(layer.self_attention_layer, d_a, attention_cache)   # (N, H)
    dx += d_res1
    return dx.reshape(shape).astype(x_dtype, copy=False)
