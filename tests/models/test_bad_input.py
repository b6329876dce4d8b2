"""Bad input gets a ValueError that names the argument, the expectation and what was seen."""
import numpy as np
import pytest

from minibert.models.bert.bert_backbone import BertBackbone
from minibert.models.bert.bert_masked_lm import BertMaskedLM
from minibert.models.distil_bert.distil_bert_backbone import DistilBertBackbone

CONFIG = dict(vocabulary_size=20, num_layers=1, num_heads=2, hidden_dim=8, intermediate_dim=16,
              max_sequence_length=6)


def _inputs(ids):
    ids = np.asarray(ids, dtype="int32")
    return {"token_ids": ids, "segment_ids": np.zeros_like(ids),
            "padding_mask": np.ones_like(ids)}


@pytest.fixture(scope="module")
def backbone():
    return BertBackbone(**CONFIG)


@pytest.mark.parametrize("ids, pattern", [
    ([[1, 2, 20]], r"token_ids: every value must be in \[0, 20\); got \[20\]"),
    ([[1, -1, 3]], r"token_ids: every value must be in \[0, 20\); got \[-1\]"),
    ([[1, 2, 3, 4, 5, 6, 7]], r"token_ids: sequence length 7 is longer than "
                              r"max_sequence_length=6"),
    ([1, 2, 3], r"token_ids: expected a 2-D \(batch, sequence\) array, got shape \(3,\)"),
])
def test_token_ids(backbone, ids, pattern):
    with pytest.raises(ValueError, match=pattern):
        backbone(_inputs(ids))


def test_float_token_ids(backbone):
    x = _inputs([[1, 2]])
    x["token_ids"] = x["token_ids"].astype("float32")
    with pytest.raises(ValueError, match="token_ids: expected an integer array, got dtype float32"):
        backbone(x)


def test_segment_ids_out_of_range(backbone):
    x = _inputs([[1, 2]])
    x["segment_ids"] = np.array([[0, 2]], dtype="int32")
    with pytest.raises(ValueError, match=r"segment_ids: every value must be in \[0, 2\)"):
        backbone(x)


def test_mismatched_shapes(backbone):
    x = _inputs([[1, 2, 3]])
    x["padding_mask"] = np.ones((1, 2), dtype="int32")
    with pytest.raises(ValueError, match=r"padding_mask: expected shape \(1, 3\) like token_ids, "
                                         r"got \(1, 2\)"):
        backbone(x)


def test_missing_keys(backbone):
    with pytest.raises(ValueError, match=r"missing key\(s\) \['segment_ids'\]"):
        backbone({"token_ids": np.ones((1, 2), "int32"), "padding_mask": np.ones((1, 2), "int32")})
    with pytest.raises(ValueError, match="inputs: expected a dict"):
        backbone(np.ones((1, 2), "int32"))


def test_hidden_dim_not_divisible_by_heads():
    with pytest.raises(ValueError, match="hidden_dim: must be divisible by num_heads=3, got 8"):
        DistilBertBackbone(**{**CONFIG, "num_heads": 3})


def test_mask_positions(backbone):
    model = BertMaskedLM(backbone)
    x = _inputs([[1, 2, 3]])
    with pytest.raises(ValueError, match="a masked LM needs a dict with 'mask_positions'"):
        model(x)
    with pytest.raises(ValueError, match=r"mask_positions: every position must be in \[0, 3\)"):
        model({**x, "mask_positions": np.array([[0, 3]], dtype="int32")})


def test_backward_needs_a_forward(backbone):
    model = BertMaskedLM(BertBackbone(**CONFIG))
    with pytest.raises(RuntimeError, match="backward\\(\\) needs a forward\\(\\) first"):
        model.backward(np.zeros((1, 1, 20), "float32"))
    x = {**_inputs([[1, 2, 3]]), "mask_positions": np.array([[1]], dtype="int32")}
    logits = model(x)
    model.backward(np.ones_like(logits))
    with pytest.raises(RuntimeError, match="each forward\\(\\) serves exactly one backward"):
        model.backward(np.ones_like(logits))
