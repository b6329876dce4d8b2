"""The Keras-style Layer surface: weights, freezing, get/set_weights, configs, summary."""
import numpy as np
import pytest

import minibert
from minibert.layers.dense import Dense
from minibert.models.bert.bert_backbone import BertBackbone
from minibert.models.bert.bert_masked_lm import BertMaskedLM
from minibert.models.distil_bert.distil_bert_backbone import DistilBertBackbone

CONFIG = dict(vocabulary_size=30, num_layers=2, num_heads=2, hidden_dim=8, intermediate_dim=12,
              max_sequence_length=10)


def test_masked_lm_ties_the_token_embedding_once():
    model = BertMaskedLM(BertBackbone(**CONFIG))
    paths = [v.path for v in model.weights]
    assert paths.count("token_embedding/embeddings") == 1
    assert model.mlm_head.token_embedding is model.backbone.token_embedding
    assert paths[-5:] == ["mlm_head/output_bias", "mlm_head/intermediate_dense/kernel",
                          "mlm_head/intermediate_dense/bias",
                          "mlm_head/intermediate_layer_norm/gamma",
                          "mlm_head/intermediate_layer_norm/beta"]


def test_freezing_the_backbone_freezes_its_whole_subtree():
    model = BertMaskedLM(BertBackbone(**CONFIG))
    model.backbone.trainable = False
    backbone_ids = {id(v) for v in model.backbone.weights}
    assert all(id(v) not in backbone_ids for v in model.trainable_weights)
    assert {v.path for v in model.trainable_weights} == {
        "mlm_head/output_bias", "mlm_head/intermediate_dense/kernel",
        "mlm_head/intermediate_dense/bias", "mlm_head/intermediate_layer_norm/gamma",
        "mlm_head/intermediate_layer_norm/beta"}
    assert len(model.non_trainable_weights) == len(model.backbone.weights)
    model.backbone.trainable = True
    assert len(model.trainable_weights) == len(model.weights)


def test_get_and_set_weights_round_trip():
    minibert.utils.set_random_seed(1)
    a = DistilBertBackbone(**CONFIG)
    b = DistilBertBackbone(**CONFIG)
    assert not np.array_equal(a.get_weights()[0], b.get_weights()[0])
    b.set_weights(a.get_weights())
    for x, y in zip(a.get_weights(), b.get_weights()):
        np.testing.assert_array_equal(x, y)
    with pytest.raises(ValueError, match="expected 36 arrays, got 1"):
        b.set_weights(a.get_weights()[:1])
    with pytest.raises(ValueError, match=r"expected shape \(30, 8\), got \(8, 30\)"):
        b.weights[0].assign(np.zeros((8, 30)))


def test_same_seed_same_initial_weights():
    minibert.utils.set_random_seed(7)
    first = BertBackbone(**CONFIG).get_weights()
    minibert.utils.set_random_seed(7)
    second = BertBackbone(**CONFIG).get_weights()
    for x, y in zip(first, second):
        np.testing.assert_array_equal(x, y)


def test_truncated_normal_initialisation():
    minibert.utils.set_random_seed(0)
    table = BertBackbone(**{**CONFIG, "vocabulary_size": 3000}).token_embedding.embeddings.numpy()
    assert np.abs(table).max() <= 2 * 0.02
    assert table.std() == pytest.approx(0.02 * 0.88, rel=0.05)   # std of N(0,1) cut at +-2


@pytest.mark.parametrize("cls", [BertBackbone, DistilBertBackbone])
def test_config_round_trip(cls):
    model = cls(**CONFIG, dropout=0.2, dtype="float64")
    clone = cls.from_config(model.get_config())
    assert clone.get_config() == model.get_config()
    assert clone.count_params() == model.count_params()
    assert clone.weights[0].dtype == np.float64


def test_summary_lists_layers_and_counts():
    lines = []
    BertBackbone(**CONFIG).summary(print_fn=lines.append)
    text = "\n".join(lines)
    assert "transformer_layer_1" in text and "pooled_dense" in text
    assert f"Total params: {BertBackbone(**CONFIG).count_params():,}" in text


def test_dense_with_einsum_shaped_kernels():
    layer = Dense((3, 4), 5)                                     # (H, heads, head_dim)
    assert layer.kernel.shape == (5, 3, 4) and layer.bias.shape == (3, 4)
    x = np.random.default_rng(0).standard_normal((2, 6, 5)).astype("float32")
    expected = np.einsum("abc,cde->abde", x, layer.kernel.numpy()) + layer.bias.numpy()
    np.testing.assert_allclose(layer(x), expected, rtol=1e-5, atol=1e-6)
