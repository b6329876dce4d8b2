"""Losses (value and gradient) and metrics against Keras's, on the same arrays."""
import numpy as np
import pytest

from minibert.training import losses, metrics
from reference_libraries import require
from training.helpers import compare

B, M, V = 3, 5, 11


def masked_lm_batch(rng):
    """(B, M, V) logits, (B, M) labels and 0/1 mask weights, as a masked-LM batch."""
    logits = rng.normal(size=(B, M, V)).astype("float32") * 3
    labels = rng.integers(0, V, size=(B, M))
    weights = np.zeros((B, M), "float32")
    weights[0, :4], weights[1, :2], weights[2, :5] = 1, 1, 1     # padded slots weigh 0
    return logits, labels, weights


def keras_value_and_gradient(keras_loss, labels, y_pred, sample_weight):
    torch = require("torch")
    y_pred = torch.tensor(y_pred, requires_grad=True)
    value = keras_loss(labels, y_pred, sample_weight=sample_weight)
    value.sum().backward()
    return value.detach().numpy(), y_pred.grad.numpy()


def as_probabilities(logits):
    e = np.exp(logits - logits.max(-1, keepdims=True))
    return (e / e.sum(-1, keepdims=True)).astype("float32")


WEIGHTS = {
    "none": lambda w: None,
    "mask": lambda w: w,
    "float": lambda w: w * np.linspace(0.5, 2.0, w.size, dtype="float32").reshape(w.shape),
    "trailing_one": lambda w: w[..., None],
    "scalar": lambda w: np.float32(0.7),
}


@pytest.mark.parametrize("from_logits", [True, False])
@pytest.mark.parametrize("reduction", ["sum_over_batch_size", "mean_with_sample_weight", "sum",
                                       "none", "mean"])
@pytest.mark.parametrize("weights", sorted(WEIGHTS))
def test_sparse_categorical_crossentropy_matches_keras(from_logits, reduction, weights):
    keras = require("keras")
    rng = np.random.default_rng(0)
    logits, labels, mask = masked_lm_batch(rng)
    y_pred = logits if from_logits else as_probabilities(logits)
    sample_weight = WEIGHTS[weights](mask)
    kwargs = {"from_logits": from_logits, "reduction": reduction}
    value, grad = losses.SparseCategoricalCrossentropy(**kwargs).value_and_gradient(
        labels, y_pred, sample_weight)
    expected_value, expected_grad = keras_value_and_gradient(
        keras.losses.SparseCategoricalCrossentropy(**kwargs), labels, y_pred, sample_weight)
    compare("loss", value, expected_value, 2e-6)
    compare("d loss / d y_pred", grad, expected_grad, 2e-6,
            scale=max(1.0, float(np.abs(expected_grad).max())))
    assert grad.dtype == np.float32 and grad.shape == y_pred.shape


def test_text_classifier_shapes_match_keras():
    """(B, C) predictions with (B,) or (B, 1) labels and (B,) weights."""
    keras = require("keras")
    rng = np.random.default_rng(1)
    logits = rng.normal(size=(6, 4)).astype("float32")
    labels = rng.integers(0, 4, size=(6,))
    weights = rng.uniform(0, 2, size=(6,)).astype("float32")
    for y in (labels, labels[:, None]):
        value, grad = losses.SparseCategoricalCrossentropy(from_logits=True).value_and_gradient(
            y, logits, weights)
        expected_value, expected_grad = keras_value_and_gradient(
            keras.losses.SparseCategoricalCrossentropy(from_logits=True), y, logits, weights)
        compare("loss", value, expected_value, 1e-6)
        compare("gradient", grad, expected_grad, 1e-6)


def test_default_reduction_divides_by_all_mask_slots():
    """Keras's MLM loss is sum(w * ce) / (B * M), not / sum(w): with half the slots padded the
    two differ by a factor of 2 (facts file, section 3.3)."""
    rng = np.random.default_rng(2)
    logits = rng.normal(size=(1, 4, V)).astype("float32")
    labels = rng.integers(0, V, size=(1, 4))
    weights = np.array([[1, 1, 0, 0]], "float32")
    ce = losses.SparseCategoricalCrossentropy(from_logits=True, reduction="none")(labels, logits)
    keras_style = losses.SparseCategoricalCrossentropy(from_logits=True)(labels, logits, weights)
    hf_style = losses.SparseCategoricalCrossentropy(
        from_logits=True, reduction="mean_with_sample_weight")(labels, logits, weights)
    compare("sum_over_batch_size", keras_style, ce[0, :2].sum() / 4, 1e-6)
    compare("mean_with_sample_weight", hf_style, ce[0, :2].sum() / 2, 1e-6)


def test_hugging_face_normalisation():
    """reduction="mean_with_sample_weight" with 0/1 mask weights, and ignore_class=-100 with
    the default reduction, both equal torch's CrossEntropyLoss(ignore_index=-100) (HF's MLM
    loss), value and gradient."""
    torch = require("torch")
    rng = np.random.default_rng(3)
    logits, labels, weights = masked_lm_batch(rng)
    hf_labels = np.where(weights > 0, labels, -100)
    t_logits = torch.tensor(logits, requires_grad=True)
    expected = torch.nn.functional.cross_entropy(t_logits.reshape(-1, V),
                                                 torch.tensor(hf_labels).reshape(-1),
                                                 ignore_index=-100)
    expected.backward()
    for loss, y, w in [
            (losses.SparseCategoricalCrossentropy(True, reduction="mean_with_sample_weight"),
             labels, weights),
            (losses.SparseCategoricalCrossentropy(True, ignore_class=-100), hf_labels, None)]:
        value, grad = loss.value_and_gradient(y, logits, w)
        compare("loss", value, float(expected.detach()), 1e-6)
        compare("gradient", grad, t_logits.grad.numpy(), 1e-6)


def test_ignore_class_matches_keras():
    keras = require("keras")
    rng = np.random.default_rng(4)
    logits, labels, weights = masked_lm_batch(rng)
    labels = np.where(rng.random(labels.shape) < 0.3, -1, labels)
    for reduction in ("sum_over_batch_size", "sum", "mean_with_sample_weight"):
        kwargs = {"from_logits": True, "ignore_class": -1, "reduction": reduction}
        value, grad = losses.SparseCategoricalCrossentropy(**kwargs).value_and_gradient(
            labels, logits, weights)
        expected_value, expected_grad = keras_value_and_gradient(
            keras.losses.SparseCategoricalCrossentropy(**kwargs), labels, logits, weights)
        compare(f"{reduction} loss", value, expected_value, 1e-6)
        compare(f"{reduction} gradient", grad, expected_grad, 1e-6)


def test_loss_scale_multiplies_before_the_cast_to_half():
    """For float16 logits the gradient is computed in float32; a loss scale passed to backward
    multiplies it there, so gradients far below float16's range survive."""
    rng = np.random.default_rng(5)
    logits, labels, weights = masked_lm_batch(rng)
    loss = losses.SparseCategoricalCrossentropy(from_logits=True)
    value, cache = loss.forward(labels, logits.astype("float16"), weights)
    scaled = loss.backward(2.0 ** 15, cache)
    _, reference = loss.value_and_gradient(labels, logits.astype("float16").astype("float32"),
                                           weights)
    assert scaled.dtype == np.float16
    compare("scaled gradient", scaled.astype("float32"),
            (reference * 2.0 ** 15).astype("float16").astype("float32"), 0, scale=1.0)


def test_errors_name_the_problem():
    loss = losses.SparseCategoricalCrossentropy(from_logits=True)
    logits = np.zeros((2, 3, 4), "float32")
    with pytest.raises(ValueError, match=r"every label must be in \[0, 4\)"):
        loss(np.full((2, 3), 4), logits)
    with pytest.raises(ValueError, match="y_true must have shape"):
        loss(np.zeros((2, 4), int), logits)
    with pytest.raises(ValueError, match="sample_weight"):
        loss(np.zeros((2, 3), int), logits, np.ones((3,), "float32"))
    with pytest.raises(ValueError, match="reduction"):
        losses.SparseCategoricalCrossentropy(reduction="average")


# ------------------------------------------------------------------------------- metrics
def metric_updates(rng):
    """Updates of different shapes: (B, M, V) with (B, M) weights, M varying; none; (B,)."""
    updates = []
    for m, weighting in [(5, "mask"), (3, "mask"), (4, "none"), (2, "rows")]:
        logits = rng.normal(size=(3, m, V)).astype("float32")
        labels = np.where(rng.random((3, m)) < 0.5, logits.argmax(-1), rng.integers(0, V, (3, m)))
        weight = {"mask": (rng.random((3, m)) < 0.7).astype("float32"), "none": None,
                  "rows": rng.uniform(0, 2, size=(3,)).astype("float32")}[weighting]
        updates.append((labels, logits, weight))
    return updates


def test_sparse_categorical_accuracy_matches_keras():
    keras = require("keras")
    rng = np.random.default_rng(6)
    ours, reference = metrics.SparseCategoricalAccuracy(), keras.metrics.SparseCategoricalAccuracy()
    for labels, logits, weight in metric_updates(rng):
        ours.update_state(labels, logits, weight)
        reference.update_state(labels, logits, sample_weight=weight)
        compare("accuracy", ours.result(), float(reference.result()), 1e-6)
    ours.reset_state()
    assert ours.result() == 0.0


def test_weighted_accuracy_is_over_real_masks():
    """sum(w * correct) / sum(w): padded slots neither help nor hurt."""
    labels = np.array([[1, 2, 0, 0]])
    logits = np.eye(3, dtype="float32")[[[1, 0, 2, 1]]]       # right, wrong, wrong, wrong
    accuracy = metrics.SparseCategoricalAccuracy()
    accuracy.update_state(labels, logits, np.array([[1, 1, 0, 0]], "float32"))
    assert accuracy.result() == 0.5


def test_mean_matches_keras():
    keras = require("keras")
    rng = np.random.default_rng(7)
    ours, reference = metrics.Mean(name="loss"), keras.metrics.Mean(name="loss")
    for values, weight in [(np.float32(2.5), 4), (np.float32(1.0), 2),
                           (rng.normal(size=(4, 3)).astype("float32"), None),
                           (rng.normal(size=(4, 3)).astype("float32"),
                            rng.uniform(size=(4,)).astype("float32"))]:
        ours.update_state(values, sample_weight=weight)
        reference.update_state(values, sample_weight=weight)
        compare("mean", ours.result(), float(reference.result()), 1e-6)


def test_get_by_name():
    assert metrics.get("accuracy").name == "accuracy"
    assert isinstance(metrics.get("accuracy"), metrics.SparseCategoricalAccuracy)
    assert losses.get("sparse_categorical_crossentropy").from_logits is False
    with pytest.raises(ValueError, match="metric"):
        metrics.get("f1")
