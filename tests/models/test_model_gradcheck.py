"""Float64 central-difference gradient checks of one encoder block and of the whole tiny-model
loss (max relative error <= 1e-5 per tensor), and the gradients that must be exactly zero."""
import numpy as np
import pytest

import minibert
from minibert import backend
from minibert.layers.transformer_encoder import TransformerEncoder
from minibert.models.bert.bert_backbone import BertBackbone
from minibert.models.bert.bert_masked_lm import BertMaskedLM
from minibert.models.bert.bert_text_classifier import BertTextClassifier
from minibert.models.distil_bert.distil_bert_backbone import DistilBertBackbone
from minibert.models.distil_bert.distil_bert_masked_lm import DistilBertMaskedLM
from minibert.ops.cross_entropy import (softmax_cross_entropy_backward,
                                        softmax_cross_entropy_forward)
from minibert.testing.gradient_check import check_gradients

TOLERANCE = 1e-5
EPS = 1e-6


def _assert_close(report, loss_value):
    """Relative error <= TOLERANCE for every tensor but the key projection's bias.

    That bias adds q.b to every score of a row, which the softmax ignores: its exact gradient
    is zero, so a relative error would compare two rounding noises. It is held to the rounding
    floor of a float64 central difference instead: a few ulps of |L|, divided by 2 eps.
    """
    floor = 16 * np.finfo(np.float64).eps * max(abs(loss_value), 1.0) / (2 * EPS)
    for name, (absolute, relative) in report.errors.items():
        if name.endswith("key/bias"):
            assert absolute <= floor, f"{name}: {absolute:.3e} > {floor:.3e}\n{report}"
        else:
            assert relative <= TOLERANCE, f"{name}\n{report}"


def _spread_weights(model, rng, scale=0.3):
    """Weights of order 0.3 (not 0.02) so every path carries a gradient well above rounding."""
    for variable in model.weights:
        base = 1.0 if variable.name == "gamma" else 0.0
        variable.assign(base + scale * rng.standard_normal(variable.shape))


@pytest.mark.parametrize("activation", ["gelu_approximate", "gelu"])
def test_encoder_block_gradients(activation):
    rng = np.random.default_rng(0)
    block = TransformerEncoder(intermediate_dim=10, num_heads=3, hidden_dim=6, dropout=0.0,
                               activation=activation, layer_norm_epsilon=1e-12,
                               dtype="float64")
    _spread_weights(block, rng)
    x = rng.standard_normal((2, 5, 6))
    padding_mask = np.array([[1, 1, 1, 0, 0], [1, 1, 1, 1, 1]])
    r = rng.standard_normal((2, 5, 6))
    r[0, 3:] = 0.0                                      # the loss reads real positions only
    block(x, padding_mask)
    block.zero_grad()
    dx = block.backward(r)

    def loss():
        return float((block(x, padding_mask) * r).sum())

    inputs = {"x": x, **{v.path: v.value for v in block.weights}}
    analytic = {"x": dx, **{v.path: v.grad for v in block.weights}}
    report = check_gradients(loss, inputs, analytic, EPS)
    _assert_close(report, loss())
    # Padded positions are keys nobody attends to, and their own rows are not in the loss.
    assert np.all(dx[0, 3:] == 0.0)


def _tiny_masked_lm(kind):
    minibert.utils.set_random_seed(0)
    config = dict(vocabulary_size=23, num_layers=2, num_heads=2, hidden_dim=6,
                  intermediate_dim=8, max_sequence_length=7, dropout=0.0, dtype="float64")
    if kind == "bert":
        return BertMaskedLM(BertBackbone(**config, num_segments=2))
    return DistilBertMaskedLM(DistilBertBackbone(**config))


def _tiny_batch(kind):
    ids = np.array([[3, 4, 5, 6, 0, 0], [7, 8, 9, 10, 11, 12]], dtype="int32")
    x = {"token_ids": ids, "padding_mask": (ids > 0).astype("int32"),
         "mask_positions": np.array([[1, 3, 0], [2, 5, 5]], dtype="int32")}
    if kind == "bert":
        x["segment_ids"] = np.array([[0, 0, 1, 1, 0, 0], [0, 0, 0, 1, 1, 1]], dtype="int32")
    labels = np.array([[4, 6, 0], [9, 12, 1]])
    weights = np.array([[1.0, 1.0, 0.0], [1.0, 0.5, 1.0]])   # a zero weight on a pad slot
    return x, labels, weights


def _loss_and_backward(model, x, labels, weights):
    logits = model(x, training=True)
    loss, cache = softmax_cross_entropy_forward(logits, labels, weights)
    model.zero_grad()
    model.backward(softmax_cross_entropy_backward(1.0, cache))
    return float(loss), logits, cache


@pytest.mark.parametrize("kind", ["bert", "distil_bert"])
def test_whole_masked_lm_loss_gradients(kind):
    model = _tiny_masked_lm(kind)
    _spread_weights(model, np.random.default_rng(1))
    x, labels, weights = _tiny_batch(kind)
    _loss_and_backward(model, x, labels, weights)
    trained = [v for v in model.weights if v.grad is not None]
    analytic = {v.path: v.grad for v in trained}

    def loss():
        return float(softmax_cross_entropy_forward(model(x), labels, weights)[0])

    report = check_gradients(loss, {v.path: v.value for v in trained}, analytic, EPS)
    _assert_close(report, loss())
    # Only the pooler is off the masked-LM loss's path.
    assert [v.path for v in model.weights if v.grad is None] == (
        ["pooled_dense/kernel", "pooled_dense/bias"] if kind == "bert" else [])


def test_zero_weight_labels_get_zero_logit_gradient():
    model = _tiny_masked_lm("bert")
    x, labels, weights = _tiny_batch("bert")
    _, _, cache = _loss_and_backward(model, x, labels, weights)
    dlogits = softmax_cross_entropy_backward(1.0, cache)
    assert np.all(backend.to_numpy(dlogits)[0, 2] == 0.0)


def test_frozen_backbone_gets_no_gradient_and_head_gradient_is_unchanged():
    x, labels, weights = _tiny_batch("bert")
    model = _tiny_masked_lm("bert")
    _loss_and_backward(model, x, labels, weights)
    head_paths = {v.path for v in model.mlm_head.weights} - {"token_embedding/embeddings"}
    expected = {v.path: v.grad.copy() for v in model.weights if v.path in head_paths}

    model.backbone.trainable = False
    _loss_and_backward(model, x, labels, weights)
    assert all(v.grad is None for v in model.backbone.weights)
    assert not any(v.path.startswith("token_embedding") for v in model.trainable_weights)
    for v in model.trainable_weights:
        np.testing.assert_array_equal(v.grad, expected[v.path])


def test_classifier_loss_gradients():
    minibert.utils.set_random_seed(0)
    model = BertTextClassifier(
        BertBackbone(vocabulary_size=13, num_layers=1, num_heads=2, hidden_dim=4,
                     intermediate_dim=6, max_sequence_length=5, dropout=0.0, dtype="float64"),
        num_classes=3, dropout=0.0)
    _spread_weights(model, np.random.default_rng(2))
    x, _, _ = _tiny_batch("bert")
    x = {k: v[:, :5] for k, v in x.items() if k != "mask_positions"}
    labels = np.array([2, 0])
    _loss_and_backward(model, x, labels, None)
    trained = [v for v in model.weights if v.grad is not None]

    def loss():
        return float(softmax_cross_entropy_forward(model(x), labels)[0])

    report = check_gradients(loss, {v.path: v.value for v in trained},
                             {v.path: v.grad for v in trained}, EPS)
    _assert_close(report, loss())
    assert len(trained) == len(model.weights)
