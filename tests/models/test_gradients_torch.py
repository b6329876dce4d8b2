"""The masked-LM loss gradient of every weight against torch autograd through KerasHub (torch
backend), from the same weights and batch, dropout 0: max relative error <= 1e-4 in float32 and
<= 1e-6 in float64 (relative error of a tensor: max|a - b| / max(max|a|, max|b|)).

One exception: the key projection's bias. Adding q.b to every score of a row leaves the
softmax unchanged, so its gradient is exactly zero and both sides hold rounding noise only;
for it we assert that both are zero to within the tolerance of the largest gradient entry."""
import numpy as np
import pytest
from reference_libraries import require

from minibert import backend
from minibert.ops.cross_entropy import (softmax_cross_entropy_backward,
                                        softmax_cross_entropy_forward)
from reference_models import CONFIGS, MINIBERT_CLASSES, copy_weights, padded_batch, randomize


def _relative_error(a, b):
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    return float(np.max(np.abs(a - b)) / max(np.max(np.abs(a)), np.max(np.abs(b)), 1e-30))


def _labels(config, x, seed=1):
    rng = np.random.default_rng(seed)
    shape = x["mask_positions"].shape
    labels = rng.integers(0, config["vocabulary_size"], shape).astype("int32")
    weights = (rng.random(shape) < 0.7).astype("float32")
    weights[0, 0] = 0.0                                     # at least one ignored label
    return labels, weights


def _keras_gradients(keras_model, x, labels, weights):
    keras = require("keras")
    torch = require("torch")
    loss_fn = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    logits = keras_model(x)
    loss = loss_fn(torch.as_tensor(labels), logits, sample_weight=torch.as_tensor(weights))
    loss.backward()
    return float(loss), [None if w.value.grad is None else w.value.grad.detach().cpu().numpy()
                         for w in keras_model.weights]


def _minibert_gradients(model, x, labels, weights):
    logits = model(x, training=True)
    loss, cache = softmax_cross_entropy_forward(logits, backend.asarray(labels),
                                                backend.asarray(weights))
    model.zero_grad()
    model.backward(softmax_cross_entropy_backward(1.0, cache))
    return float(loss), [v.grad for v in model.weights]


@pytest.mark.parametrize("dtype, tolerance", [("float32", 1e-4), ("float64", 1e-6)])
@pytest.mark.parametrize("kind", ["BertMaskedLM", "DistilBertMaskedLM"])
@pytest.mark.parametrize("config", CONFIGS, ids=["even_heads", "odd_heads"])
def test_masked_lm_gradients_match_torch_autograd(kind, config, dtype, tolerance):
    keras_hub = require("keras_hub")
    distil = kind.startswith("Distil")
    backbone_name = "DistilBertBackbone" if distil else "BertBackbone"
    settings = dict(config, dropout=0.0, dtype=dtype)
    keras_model = getattr(keras_hub.models, kind)(
        getattr(keras_hub.models, backbone_name)(**settings))
    model = MINIBERT_CLASSES[kind](MINIBERT_CLASSES[backbone_name](**settings))
    randomize(keras_model, scale=0.1)
    copy_weights(keras_model, model)
    x = padded_batch(config, segments=not distil)
    labels, weights = _labels(config, x)

    expected_loss, expected = _keras_gradients(keras_model, x, labels, weights)
    loss, actual = _minibert_gradients(model, x, labels, weights)
    assert abs(loss - expected_loss) <= tolerance * abs(expected_loss), (loss, expected_loss)
    failures = []
    largest = max(float(np.max(np.abs(g))) for g in expected if g is not None)
    for variable, reference, grad in zip(model.weights, expected, actual):
        if reference is None:                 # not on the loss's path (the BERT pooler)
            assert grad is None, f"{variable.path}: a gradient where torch has none"
            continue
        assert grad is not None, f"{variable.path}: no gradient"
        if variable.path.endswith("key/bias"):
            noise = max(np.max(np.abs(reference)), np.max(np.abs(backend.to_numpy(grad))))
            if noise > tolerance * largest:
                failures.append(f"{variable.path}: {noise:.3e} should be zero")
            continue
        error = _relative_error(reference, backend.to_numpy(grad))
        if error > tolerance:
            failures.append(f"{variable.path}: max relative error {error:.3e}")
    assert not failures, "\n".join(failures)
