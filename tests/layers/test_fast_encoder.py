"""The fused encoder path (minibert.layers.fused_encoder) against the plain layers: same
outputs, same gradient in every Variable, same contracts (frozen weights, one backward per
forward), and the plain path where the fused one does not apply."""
import contextlib

import numpy as np
import pytest

from minibert import no_grad, utils
from minibert.layers import fused_encoder
from minibert.layers.multi_head_attention import MultiHeadAttention
from minibert.layers.transformer_encoder import TransformerEncoder
from minibert.models.bert.bert_backbone import BertBackbone
from minibert.models.bert.bert_masked_lm import BertMaskedLM
from minibert.models.distil_bert.distil_bert_backbone import DistilBertBackbone
from minibert.models.distil_bert.distil_bert_masked_lm import DistilBertMaskedLM
from minibert.ops import fast
from minibert.ops.fast import gemm, threads
from minibert.training.losses import SparseCategoricalCrossentropy

CONFIG = dict(vocabulary_size=61, num_layers=2, num_heads=3, hidden_dim=21, intermediate_dim=40,
              max_sequence_length=16)
TOLERANCE = {"float32": 2e-5, "float64": 1e-11}


@pytest.fixture(autouse=True)
def fast_paths_on():
    """These tests compare the two paths, so the fast one must be on (even if MINIBERT_FAST=0)."""
    with fast.enabled_as(True):
        yield


def _batch(segments):
    rng = np.random.default_rng(0)
    ids = rng.integers(1, 61, (4, 12)).astype("int32")
    mask = (np.arange(12)[None, :] < np.array([12, 9, 4, 1])[:, None]).astype("int32")
    x = {"token_ids": ids * mask, "padding_mask": mask,
         "mask_positions": rng.integers(0, 12, (4, 5)).astype("int32")}
    if segments:
        x["segment_ids"] = (np.arange(12)[None, :] >= 6).astype("int32") * mask
    return x


def _train_step(model_cls, backbone_cls, dtype, use_fast, freeze=None):
    """Build a seeded masked LM, run one training forward (dropout on) and backward."""
    with fast.disabled() if not use_fast else contextlib.nullcontext():
        utils.set_random_seed(0)
        model = model_cls(backbone_cls(**CONFIG, dropout=0.2, dtype=dtype))
        if freeze:
            freeze(model)
        x = _batch(backbone_cls is BertBackbone)
        logits = model(x, training=True)
        loss = SparseCategoricalCrossentropy(from_logits=True)   # the fast op on the fast path
        value, cache = loss.forward(np.ones((4, 5), dtype="int32"), logits)
        model.backward(loss.backward(1.0, cache))
        return model, logits


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("model_cls, backbone_cls", [(BertMaskedLM, BertBackbone),
                                                     (DistilBertMaskedLM, DistilBertBackbone)])
def test_fused_and_plain_paths_agree_on_outputs_and_every_gradient(model_cls, backbone_cls,
                                                                   dtype):
    fused, fused_logits = _train_step(model_cls, backbone_cls, dtype, True)
    assert any(b._caches == {} for b in fused.backbone.transformer_layers)   # caches consumed
    plain, plain_logits = _train_step(model_cls, backbone_cls, dtype, False)
    tolerance = TOLERANCE[dtype]
    np.testing.assert_allclose(fused_logits, plain_logits, rtol=tolerance, atol=tolerance)
    for a, b in zip(fused.weights, plain.weights):
        assert a.path == b.path
        assert (a.grad is None) == (b.grad is None), a.path
        if a.grad is not None:
            assert a.grad.dtype == b.grad.dtype and a.grad.shape == b.grad.shape, a.path
            np.testing.assert_allclose(a.grad, b.grad, rtol=tolerance, atol=tolerance,
                                       err_msg=a.path)


def test_fused_path_is_taken_for_float32_gelu_blocks():
    layer = TransformerEncoder(16, 2, 8, activation="gelu_approximate")
    layer(np.ones((2, 3, 8), "float32"))
    assert "fused" in layer._caches
    with fast.disabled():
        layer(np.ones((2, 3, 8), "float32"))
    assert "fused" not in layer._caches


@pytest.mark.parametrize("activation, dtype", [("relu", "float32"),
                                               ("gelu", "mixed_float16")])
def test_blocks_the_fused_path_does_not_cover_run_the_plain_path(activation, dtype):
    layer = TransformerEncoder(16, 2, 8, activation=activation, dtype=dtype)
    y = layer(np.ones((2, 3, 8), "float32"))
    assert "fused" not in layer._caches
    assert layer.backward(np.ones(y.shape, y.dtype)).shape == (2, 3, 8)


def test_frozen_layers_get_no_gradient_on_the_fused_path():
    def freeze(model):
        model.backbone.transformer_layers[0].trainable = False
        model.backbone.transformer_layers[1].self_attention_layer.query.trainable = False
    fused, _ = _train_step(BertMaskedLM, BertBackbone, "float32", True, freeze)
    plain, _ = _train_step(BertMaskedLM, BertBackbone, "float32", False, freeze)
    for a, b in zip(fused.weights, plain.weights):
        assert (a.grad is None) == (b.grad is None), a.path
        if a.path.startswith("transformer_layer_0/") or "/query/" in a.path:
            assert a.grad is None, a.path


def test_fused_path_keeps_the_one_forward_one_backward_contract():
    layer = TransformerEncoder(16, 2, 8, activation="gelu")
    with pytest.raises(RuntimeError, match="needs a forward"):
        layer.backward(np.ones((2, 3, 8), "float32"))
    y = layer(np.ones((2, 3, 8), "float32"))
    layer.backward(np.ones_like(y))
    with pytest.raises(RuntimeError, match="needs a forward"):
        layer.backward(np.ones_like(y))


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_standalone_multi_head_attention_fused_matches_plain(dtype):
    rng = np.random.default_rng(5)
    x = rng.normal(size=(3, 7, 12)).astype(dtype)
    mask = (np.arange(7)[None, :] < np.array([7, 3, 5])[:, None]).astype("int32")
    dy = rng.normal(size=(3, 7, 12)).astype(dtype)
    results = []
    for use_fast in (True, False):
        with fast.disabled() if not use_fast else contextlib.nullcontext():
            utils.set_random_seed(1)
            layer = MultiHeadAttention(3, 4, 12, dropout=0.3, dtype=dtype)
            y = layer(x, mask, training=True)
            assert ("fused" in layer._caches) == use_fast
            dx = layer.backward(dy)
            results.append((y, dx, [v.grad for v in layer.weights]))
    tolerance = TOLERANCE[dtype]
    (y1, dx1, g1), (y2, dx2, g2) = results
    np.testing.assert_allclose(y1, y2, rtol=tolerance, atol=tolerance)
    np.testing.assert_allclose(dx1, dx2, rtol=tolerance, atol=tolerance)
    for a, b in zip(g1, g2):
        np.testing.assert_allclose(a, b, rtol=tolerance, atol=tolerance)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_inference_shares_the_sequences_out_and_gives_the_same_outputs(dtype, monkeypatch):
    """Under no_grad, without dropout, each pool thread takes its sequences through the whole
    stack of blocks (fused_encoder._forward_by_sequences, once per forward); the outputs are
    those of the op-by-op forward and of the plain layers (padded rows included)."""
    if not threads.can_limit_blas():
        pytest.skip("this BLAS cannot be set to one thread: the fast paths never share out")
    monkeypatch.setattr(threads, "num_threads", lambda: 2)
    monkeypatch.setattr(gemm, "MIN_SPLIT_WORK", 1)        # the op-by-op path splits its products
    shared = []
    by_sequences = fused_encoder._forward_by_sequences
    monkeypatch.setattr(fused_encoder, "_forward_by_sequences",
                        lambda *args: shared.append((len(args[0]), args[2]))
                        or by_sequences(*args))
    utils.set_random_seed(0)
    backbone = BertBackbone(**CONFIG, dropout=0.2, dtype=dtype)
    x = _batch(True)
    del x["mask_positions"]
    op_by_op = backbone(x)["sequence_output"]             # keeps its caches: not shared out
    assert shared == []
    with no_grad():
        ours = backbone(x)["sequence_output"]
    assert shared == [(CONFIG["num_layers"], (4, 12))]    # every block, in one share-out
    with fast.disabled():
        plain = backbone(x)["sequence_output"]
    np.testing.assert_allclose(ours, op_by_op, rtol=TOLERANCE[dtype], atol=TOLERANCE[dtype])
    np.testing.assert_allclose(ours, plain, rtol=TOLERANCE[dtype], atol=TOLERANCE[dtype])
    with no_grad():                                       # training: dropout, op by op
        backbone(x, training=True)
    assert len(shared) == 1
    block = backbone.transformer_layers[0]                # a block called alone shares out too
    h = np.random.default_rng(1).normal(size=(4, 12, CONFIG["hidden_dim"])).astype(dtype)
    op_by_op = block(h, x["padding_mask"])
    with no_grad():
        ours = block(h, x["padding_mask"])
    assert shared[1:] == [(1, (4, 12))]
    np.testing.assert_allclose(ours, op_by_op, rtol=TOLERANCE[dtype], atol=TOLERANCE[dtype])
