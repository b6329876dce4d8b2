"""The model's forward, backward and an optimizer step under a backend whose arrays behave like
device arrays (no implicit conversion to NumPy, no mixing with host arrays): any host-only call
on the CuPy path fails here, and the numbers equal the NumPy backend's."""
import numpy as np
import pytest

import minibert
from minibert import backend
from minibert.models.bert.bert_backbone import BertBackbone
from minibert.models.bert.bert_masked_lm import BertMaskedLM
from minibert.models.distil_bert.distil_bert_backbone import DistilBertBackbone
from minibert.models.distil_bert.distil_bert_text_classifier import DistilBertTextClassifier
from minibert.ops.cross_entropy import (softmax_cross_entropy_backward,
                                        softmax_cross_entropy_forward)
from minibert.testing import device
from minibert.training.optimizers import Adam

device.register()


@pytest.fixture
def device_backend():
    minibert.set_backend(device.NAME)
    yield
    minibert.set_backend("numpy")


def _batch():
    ids = np.array([[5, 6, 7, 8, 0, 0], [9, 10, 11, 12, 13, 14]], dtype="int32")
    return {"token_ids": ids, "segment_ids": np.zeros_like(ids),
            "padding_mask": (ids > 0).astype("int32"),
            "mask_positions": np.array([[1, 2], [0, 5]], dtype="int32")}


def _train_step(model, x, labels, weights=None):
    """Forward (with dropout), loss, backward and one Adam step; returns loss and weights."""
    logits = model(x, training=True)
    loss, cache = softmax_cross_entropy_forward(
        logits, backend.asarray(labels),
        None if weights is None else backend.asarray(weights))
    model.zero_grad()
    model.backward(softmax_cross_entropy_backward(1.0, cache))
    optimizer = Adam(1e-2)
    optimizer.apply([v.grad for v in model.trainable_weights], model.trainable_weights)
    return float(loss), [v.numpy() for v in model.weights]


def _masked_lm(seed):
    minibert.utils.set_random_seed(seed)
    return BertMaskedLM(BertBackbone(40, 2, 2, 8, 16, dropout=0.1, max_sequence_length=8))


def test_device_arrays_refuse_host_mixing(device_backend):
    array = backend.asarray(np.ones(3))
    with pytest.raises(TypeError):
        np.asarray(array)
    with pytest.raises(TypeError):
        array + np.ones(3)
    with pytest.raises(TypeError):
        backend.xp().where(array > 0, np.ones(3), 0.0)
    assert isinstance(array.sum(), device.DeviceArray)


def test_masked_lm_train_step_matches_numpy_backend(device_backend):
    labels = np.array([[1, 2], [3, 4]])
    loss_device, weights_device = _train_step(_masked_lm(0), _batch(), labels)
    assert isinstance(_masked_lm(0).weights[0].value, device.DeviceArray)
    minibert.set_backend("numpy")
    loss_host, weights_host = _train_step(_masked_lm(0), _batch(), labels)
    assert loss_device == pytest.approx(loss_host, rel=1e-6)
    for a, b in zip(weights_device, weights_host):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


def test_classifier_train_step_runs_on_device(device_backend):
    x = _batch()
    del x["segment_ids"], x["mask_positions"]
    model = DistilBertTextClassifier(DistilBertBackbone(40, 1, 2, 8, 16, max_sequence_length=8),
                                     num_classes=3)
    before = [v.numpy() for v in model.weights]
    loss, after = _train_step(model, x, np.array([0, 2]))
    assert np.isfinite(loss)
    assert all(not np.array_equal(a, b) for a, b in zip(before, after))
