"""Training minibert's tasks against KerasHub's (torch backend): the same random weights, the
same fixed batches, dropout 0, Adam; per-step losses within 1e-5 relative and final weights
within 1e-5 (max abs, relative to the weight scale). Then frozen backbones and seeded runs."""
import numpy as np
import pytest

from minibert import backend, utils
from minibert.models.bert.bert_backbone import BertBackbone
from minibert.models.bert.bert_masked_lm import BertMaskedLM
from minibert.models.bert.bert_text_classifier import BertTextClassifier
from minibert.models.distil_bert.distil_bert_backbone import DistilBertBackbone
from minibert.models.distil_bert.distil_bert_masked_lm import DistilBertMaskedLM
from minibert.training import callbacks, optimizers
from models.reference_models import CONFIGS, copy_weights, padded_batch, randomize
from reference_libraries import require
from training.helpers import compare

TOLERANCE = 1e-5
LEARNING_RATE = 1e-3
CONFIG = {**CONFIGS[0], "dropout": 0.0}
MINIBERT = {"BertMaskedLM": (BertMaskedLM, BertBackbone),
            "DistilBertMaskedLM": (DistilBertMaskedLM, DistilBertBackbone),
            "BertTextClassifier": (BertTextClassifier, BertBackbone)}
TASK_KWARGS = {"BertTextClassifier": {"num_classes": 3, "dropout": 0.0}}


def build_pair(kind):
    keras_hub = require("keras_hub")
    keras = require("keras")
    task_cls, backbone_cls = MINIBERT[kind]
    kwargs = TASK_KWARGS.get(kind, {})
    keras_model = getattr(keras_hub.models, kind)(
        getattr(keras_hub.models, backbone_cls.__name__)(**CONFIG), **kwargs)
    ours = task_cls(backbone_cls(**CONFIG), **kwargs)
    randomize(keras_model, scale=0.1)
    copy_weights(keras_model, ours)
    keras_model.compile(optimizer=keras.optimizers.Adam(LEARNING_RATE))
    ours.compile(optimizer=optimizers.Adam(LEARNING_RATE))
    return keras_model, ours


def batch(kind, seed):
    """(x, y, sample_weight): a padded batch of 4; masked-LM labels (4, 5) with padded mask
    slots of weight 0, or class labels (4,)."""
    rng = np.random.default_rng(100 + seed)
    x = padded_batch(CONFIG, batch=4, num_masks=5, seed=seed,
                     segments=not kind.startswith("Distil"))
    if kind.endswith("MaskedLM"):
        y = rng.integers(0, CONFIG["vocabulary_size"], size=(4, 5))
        weight = (np.arange(5)[None, :] < np.array([[5], [3], [2], [1]])).astype("float32")
        return x, y, weight
    x.pop("mask_positions")
    return x, rng.integers(0, 3, size=(4,)), None


def keras_weights(keras_model):
    import keras
    return [keras.ops.convert_to_numpy(w.value) for w in keras_model.weights]


def compare_weights(ours, keras_model):
    for variable, expected in zip(ours.weights, keras_weights(keras_model)):
        compare(variable.path, variable.numpy(), expected, TOLERANCE)


@pytest.mark.filterwarnings("ignore:.*(G|g)radient")
@pytest.mark.parametrize("kind", sorted(MINIBERT))
def test_ten_adam_steps_match_keras_hub(kind):
    keras_model, ours = build_pair(kind)
    batches = [batch(kind, 0), batch(kind, 1)]
    for step in range(10):
        x, y, weight = batches[step % 2]
        expected = keras_model.train_on_batch(x, y, sample_weight=weight)
        actual = ours.train_on_batch(x, y, sample_weight=weight)
        compare(f"{kind} step {step + 1} loss", actual[0], expected[0], TOLERANCE,
                scale=abs(expected[0]))
        compare(f"{kind} step {step + 1} accuracy", actual[1], expected[1], 1e-6)
    compare_weights(ours, keras_model)


@pytest.mark.filterwarnings("ignore:.*(G|g)radient")
@pytest.mark.parametrize("kind", ["BertMaskedLM", "BertTextClassifier"])
def test_fit_history_matches_keras_hub(kind):
    """fit over two batches for three epochs, with validation data: the same History.

    KerasHub's task turns the arrays into a dataset, which Keras does not shuffle: its
    default shuffle=True visits the batches in order, as minibert's shuffle=False."""
    keras_model, ours = build_pair(kind)
    (x0, y0, w0), (x1, y1, w1) = batch(kind, 0), batch(kind, 1)
    x = {key: np.concatenate([x0[key], x1[key]]) for key in x0}
    y = np.concatenate([y0, y1])
    weight = None if w0 is None else np.concatenate([w0, w1])
    kwargs = dict(batch_size=4, epochs=3, verbose=0,
                  validation_data=(x1, y1) if w1 is None else (x1, y1, w1))
    expected = keras_model.fit(x, y, sample_weight=weight, shuffle=True, **kwargs).history
    actual = ours.fit(x, y, sample_weight=weight, shuffle=False, **kwargs).history
    assert set(actual) == set(expected)
    for key, values in expected.items():
        compare(f"{kind} history {key}", actual[key], values, TOLERANCE,
                scale=max(abs(v) for v in values))
    compare_weights(ours, keras_model)


@pytest.mark.filterwarnings("ignore:.*(G|g)radient")
@pytest.mark.parametrize("kind", ["BertMaskedLM", "BertTextClassifier"])
def test_frozen_backbone_is_bitwise_unchanged(kind):
    keras_model, ours = build_pair(kind)
    ours.backbone.trainable = False
    keras_model.backbone.trainable = False
    keras_model.compile(optimizer=require("keras").optimizers.Adam(LEARNING_RATE))
    backbone_before = [v.numpy().copy() for v in ours.backbone.weights]
    head = [v for v in ours.weights if all(v is not w for w in ours.backbone.weights)]
    head_before = [v.numpy().copy() for v in head]
    for step in range(3):
        x, y, weight = batch(kind, step % 2)
        keras_model.train_on_batch(x, y, sample_weight=weight)
        ours.train_on_batch(x, y, sample_weight=weight)
    for variable, before in zip(ours.backbone.weights, backbone_before):
        assert np.array_equal(variable.numpy(), before), variable.path
    assert all(not np.array_equal(v.numpy(), b) for v, b in zip(head, head_before))
    assert len(ours.optimizer.variables) == 2 * len(ours.trainable_weights)
    compare_weights(ours, keras_model)


def test_seeded_runs_with_dropout_are_identical():
    runs = []
    for _ in range(2):
        utils.set_random_seed(7)
        model = BertMaskedLM(BertBackbone(**{**CONFIG, "dropout": 0.1}))
        model.compile(optimizer=optimizers.Adam(LEARNING_RATE))
        x, y, weight = batch("BertMaskedLM", 0)
        history = model.fit(x, y, sample_weight=weight, batch_size=2, epochs=2, verbose=0)
        runs.append((history.history, [v.numpy().copy() for v in model.weights]))
    assert runs[0][0] == runs[1][0]
    assert all(np.array_equal(a, b) for a, b in zip(runs[0][1], runs[1][1]))


def test_compile_defaults_are_keras_hubs():
    keras_model, ours = build_pair("BertMaskedLM")
    ours.compile()
    keras_model.compile()
    assert type(ours.optimizer).__name__ == type(keras_model.optimizer).__name__ == "Adam"
    assert ours.optimizer.learning_rate == pytest.approx(
        float(keras_model.optimizer.learning_rate))
    assert ours.loss.from_logits is keras_model.loss.from_logits is True
    assert ours.metrics_names == ["loss", "sparse_categorical_accuracy"]


@pytest.mark.filterwarnings("ignore:.*(G|g)radient")
def test_loss_and_gradients_match_keras_hub():
    """loss_and_gradients against torch autograd through KerasHub's model, weight by weight;
    None exactly where KerasHub has no gradient (the unused pooler).

    The key bias's exact gradient is 0 (adding q.b to every score of a query leaves its
    softmax unchanged), so both libraries return rounding noise there; it is checked to be
    noise on the scale of the key kernel's gradient."""
    torch = require("torch")
    keras_model, ours = build_pair("BertMaskedLM")
    x, y, weight = batch("BertMaskedLM", 0)
    loss, grads = ours.loss_and_gradients(x, y, weight)
    expected = keras_model.compute_loss(x=x, y=torch.tensor(y),
                                        y_pred=keras_model(x, training=True),
                                        sample_weight=torch.tensor(weight))
    keras_model.zero_grad()
    expected.backward()
    compare("loss", loss, float(expected.detach()), TOLERANCE, scale=float(expected.detach()))
    reference = {w.path: w.value.grad for w in keras_model.trainable_weights}
    for variable, grad in zip(ours.trainable_weights, grads):
        expected = reference[variable.path]
        assert (grad is None) == (expected is None), variable.path
        if grad is None:
            continue
        scale = float(expected.abs().max())
        if variable.path.endswith("key/bias"):
            scale = float(reference[variable.path.replace("bias", "kernel")].abs().max())
            compare(f"d loss / d {variable.path} (exactly 0)", backend.to_numpy(grad),
                    np.zeros(grad.shape), TOLERANCE, scale=scale)
        compare(f"d loss / d {variable.path}", backend.to_numpy(grad), expected.numpy(),
                TOLERANCE, scale=scale)


@pytest.mark.filterwarnings("ignore:.*(G|g)radient")
def test_mixed_float16_tracks_float32_and_keras_hub():
    """Under "mixed_float16" compile wraps the optimizer in a LossScaleOptimizer; five steps
    then stay within float16's resolution (2**-11 ~ 4.9e-4 relative; bound 1e-3) of the same
    steps in float32, and of KerasHub's mixed_float16 model."""
    keras_hub = require("keras_hub")
    keras = require("keras")
    keras_model = keras_hub.models.BertMaskedLM(
        keras_hub.models.BertBackbone(**CONFIG, dtype="mixed_float16"))
    randomize(keras_model, scale=0.1)
    mixed = BertMaskedLM(BertBackbone(**CONFIG, dtype="mixed_float16"))
    full = BertMaskedLM(BertBackbone(**CONFIG))
    for model in (mixed, full):
        copy_weights(keras_model, model)
        model.compile(optimizer=optimizers.Adam(LEARNING_RATE))
    keras_model.compile(optimizer=keras.optimizers.Adam(LEARNING_RATE))
    assert isinstance(mixed.optimizer, optimizers.LossScaleOptimizer)
    assert not isinstance(full.optimizer, optimizers.LossScaleOptimizer)
    x, y, weight = batch("BertMaskedLM", 0)
    for step in range(5):
        expected_full = full.train_on_batch(x, y, weight)[0]
        expected_keras = keras_model.train_on_batch(x, y, sample_weight=weight)[0]
        actual = mixed.train_on_batch(x, y, weight)[0]
        compare(f"step {step + 1} vs float32", actual, expected_full, 1e-3, scale=expected_full)
        compare(f"step {step + 1} vs KerasHub", actual, expected_keras, 1e-3,
                scale=expected_keras)
    assert mixed.optimizer.iterations == 5
    assert mixed.optimizer.dynamic_scale == float(keras_model.optimizer.dynamic_scale)
    assert all(v.value.dtype == np.float32 for v in mixed.weights)


@pytest.mark.filterwarnings("ignore:.*(G|g)radient")
def test_model_checkpoint_writes_presets_keras_hub_loads(tmp_path):
    """save_best_only on val_loss: each saved directory is a preset holding the weights of its
    epoch, which both minibert and KerasHub load."""
    keras_hub = require("keras_hub")
    keras = require("keras")
    _, ours = build_pair("BertMaskedLM")
    x, y, weight = batch("BertMaskedLM", 0)

    class KeepWeights(callbacks.Callback):
        def on_train_begin(self, logs=None):
            self.per_epoch = []

        def on_epoch_end(self, epoch, logs=None):
            self.per_epoch.append([v.numpy().copy() for v in self.model.weights])

    keep = KeepWeights()
    checkpoint = callbacks.ModelCheckpoint(str(tmp_path / "best"), save_best_only=True)
    history = ours.fit(x, y, sample_weight=weight, epochs=3, verbose=0,
                       validation_data=(x, y, weight), callbacks=[keep, checkpoint])
    best_epoch = int(np.argmin(history.history["val_loss"]))
    assert checkpoint.best == history.history["val_loss"][best_epoch]
    loaded = BertMaskedLM.from_preset(str(tmp_path / "best"))
    keras_loaded = keras_hub.models.BertMaskedLM.from_preset(str(tmp_path / "best"))
    for mine, theirs, expected in zip(loaded.weights, keras_loaded.weights,
                                      keep.per_epoch[best_epoch]):
        assert np.array_equal(mine.numpy(), expected), mine.path
        assert np.array_equal(keras.ops.convert_to_numpy(theirs.value), expected), mine.path
