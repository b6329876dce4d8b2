"""minibert.no_grad(): forwards that keep no cache for a backward, with unchanged outputs."""
import numpy as np
import pytest

import minibert
from minibert.ops import fast


def _model_and_batch():
    minibert.utils.set_random_seed(0)
    backbone = minibert.BertBackbone(vocabulary_size=60, num_layers=2, num_heads=2,
                                     hidden_dim=16, intermediate_dim=32,
                                     max_sequence_length=16)
    masked_lm = minibert.BertMaskedLM(backbone)
    ids = np.random.default_rng(1).integers(5, 60, (3, 12)).astype("int32")
    padding = np.ones_like(ids)
    padding[1:, 9:] = 0                                           # two padded rows
    x = {"token_ids": ids * padding, "segment_ids": np.zeros_like(ids),
         "padding_mask": padding, "mask_positions": np.array([[1, 2], [3, 4], [5, 6]],
                                                             dtype="int32")}
    return masked_lm, x


def _cached_layers(model):
    return [layer.name for layer in model._flatten_layers() if layer._caches]


@pytest.mark.parametrize("fast_paths", [True, False], ids=["fast", "plain"])
def test_outputs_are_unchanged_and_no_layer_keeps_a_cache(fast_paths):
    masked_lm, x = _model_and_batch()
    with fast.enabled_as(fast_paths):
        expected = masked_lm(x)
        assert _cached_layers(masked_lm)                         # a normal forward keeps them
        with minibert.no_grad():
            logits = masked_lm(x)
    np.testing.assert_array_equal(logits, expected)
    assert _cached_layers(masked_lm) == []                       # the old ones are gone too


def test_a_backward_after_a_no_grad_forward_says_why_it_fails():
    masked_lm, x = _model_and_batch()
    with minibert.no_grad():
        logits = masked_lm(x)
    with pytest.raises(RuntimeError, match="no_grad"):
        masked_lm.backward(np.ones_like(logits))


def test_the_previous_state_comes_back_even_after_an_error():
    masked_lm, x = _model_and_batch()
    with pytest.raises(ZeroDivisionError):
        with minibert.no_grad():
            with minibert.no_grad():
                pass
            1 / 0
    masked_lm(x)
    assert _cached_layers(masked_lm)


def test_predict_and_evaluate_keep_no_cache():
    masked_lm, x = _model_and_batch()
    masked_lm.compile()
    masked_lm.predict(x, verbose=0)
    assert _cached_layers(masked_lm) == []
    labels = np.array([[7, 8], [9, 10], [11, 12]])
    masked_lm.evaluate(x, labels, verbose=0)
    assert _cached_layers(masked_lm) == []
