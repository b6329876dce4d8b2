"""dtype policies: half-precision outputs stay within a stated bound of float32's.

Bound: max abs error <= 16 * u * max|float32 output|, with u the unit roundoff of the compute
dtype (float16: 2**-11, bfloat16: 2**-8). Softmax and layer norm run in float32 under every
policy, so the error comes from the matmuls and activations of a two-layer model, a few
roundings deep."""
import numpy as np
import pytest

import minibert
from minibert import backend
from minibert.models.bert.bert_backbone import BertBackbone
from minibert.models.bert.bert_masked_lm import BertMaskedLM
from minibert.ops.cross_entropy import (softmax_cross_entropy_backward,
                                        softmax_cross_entropy_forward)
from reference_models import CONFIGS, padded_batch

UNIT_ROUNDOFF = {"float16": 2.0 ** -11, "bfloat16": 2.0 ** -8}
POLICIES = [("float16", "float16", "float16"), ("bfloat16", "bfloat16", "bfloat16"),
            ("mixed_float16", "float32", "float16"), ("mixed_bfloat16", "float32", "bfloat16")]


def _models(policy):
    minibert.utils.set_random_seed(0)
    reference = BertMaskedLM(BertBackbone(**CONFIGS[0]))
    rng = np.random.default_rng(0)
    for v in reference.weights:                         # weights of a trained model's size
        v.assign((1.0 if v.name == "gamma" else 0.0) + 0.1 * rng.standard_normal(v.shape))
    model = BertMaskedLM(BertBackbone(**CONFIGS[0], dtype=policy))
    model.set_weights(reference.get_weights())
    return reference, model


@pytest.mark.parametrize("policy, variable_dtype, compute_dtype", POLICIES)
def test_half_precision_outputs_are_bounded(policy, variable_dtype, compute_dtype):
    reference, model = _models(policy)
    x = padded_batch(CONFIGS[0])
    expected = backend.to_numpy(reference(x)).astype(np.float64)
    logits = model(x)
    assert logits.dtype == backend.standardize_dtype(compute_dtype)
    assert all(v.dtype == backend.standardize_dtype(variable_dtype) for v in model.weights)
    error = np.max(np.abs(backend.to_numpy(logits).astype(np.float64) - expected))
    bound = 16 * UNIT_ROUNDOFF[compute_dtype] * np.max(np.abs(expected))
    assert error <= bound, f"{policy}: max abs error {error:.3e} > bound {bound:.3e}"


@pytest.mark.parametrize("policy", ["mixed_float16", "mixed_bfloat16"])
def test_mixed_precision_gradients_land_in_float32_variables(policy):
    _, model = _models(policy)
    x = padded_batch(CONFIGS[0])
    logits = model(x, training=True)
    loss, cache = softmax_cross_entropy_forward(logits, np.ones(logits.shape[:2], "int64"))
    model.backward(softmax_cross_entropy_backward(1.0, cache))
    grads = [v.grad for v in model.trainable_weights if v.grad is not None]
    assert grads and all(g.dtype == np.float32 and np.all(np.isfinite(g)) for g in grads)


def test_unknown_policy_is_rejected():
    with pytest.raises(ValueError, match="dtype"):
        BertBackbone(**CONFIGS[0], dtype="int8")
