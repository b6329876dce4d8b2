"""KerasHub models for the preset tests: random weights of a size that makes errors visible,
with or without preprocessors, and their weights by path."""
import numpy as np
from reference_libraries import require

from presets.builders import VOCAB

TASKS = ["BertMaskedLM", "DistilBertMaskedLM", "BertTextClassifier",
         "DistilBertTextClassifier"]

# Three configs: even heads; odd head count and head size; one layer with a long sequence.
CONFIGS = [
    dict(vocabulary_size=len(VOCAB), num_layers=2, num_heads=2, hidden_dim=16,
         intermediate_dim=32, max_sequence_length=24),
    dict(vocabulary_size=len(VOCAB), num_layers=3, num_heads=3, hidden_dim=21,
         intermediate_dim=40, max_sequence_length=16),
    dict(vocabulary_size=len(VOCAB), num_layers=1, num_heads=4, hidden_dim=32,
         intermediate_dim=24, max_sequence_length=40),
]


def keras_hub_model(kind, config, preprocessor=True, sequence_length=12, seed=0, **task_kwargs):
    """A KerasHub ``kind`` (a task or backbone class name) with random weights."""
    keras_hub = require("keras_hub")
    models = keras_hub.models
    distil = kind.startswith("Distil")
    prefix = "DistilBert" if distil else "Bert"
    backbone = getattr(models, f"{prefix}Backbone")(**config)
    if kind.endswith("Backbone"):
        model = backbone
    else:
        tokenizer = getattr(models, f"{prefix}Tokenizer")(vocabulary=VOCAB, lowercase=True)
        task_kwargs = dict(task_kwargs)
        if kind.endswith("TextClassifier"):
            task_kwargs.setdefault("num_classes", 3)
            preprocessor_cls = getattr(models, f"{prefix}TextClassifierPreprocessor")
        else:
            preprocessor_cls = getattr(models, f"{prefix}MaskedLMPreprocessor")
        task_kwargs["preprocessor"] = (preprocessor_cls(tokenizer, sequence_length=sequence_length)
                                       if preprocessor else None)
        model = getattr(models, kind)(backbone, **task_kwargs)
    randomize(model, seed)
    return model


def randomize(keras_model, seed=0, scale=0.2):
    """Kernels, embeddings and biases N(0, scale); layer-norm gammas 1 + N(0, 0.1) (KerasHub's
    0.02 initialisation would hide errors)."""
    import keras
    rng = np.random.default_rng(seed)
    for w in keras_model.weights:
        gamma = w.path.endswith("gamma")
        value = (1.0 if gamma else 0.0) + (0.1 if gamma else scale) * rng.standard_normal(
            tuple(w.shape))
        w.assign(keras.ops.convert_to_tensor(value.astype(w.dtype)))


def weights_by_path(keras_model):
    import keras
    return {w.path: keras.ops.convert_to_numpy(w.value) for w in keras_model.weights}


def to_numpy(value):
    import keras
    if isinstance(value, dict):
        return {k: to_numpy(v) for k, v in value.items()}
    return keras.ops.convert_to_numpy(value)


def padded_batch(config, distil, batch=4, length=12, num_masks=5, seed=0):
    """Integer inputs: a full row, partly padded rows, a row with one real token."""
    rng = np.random.default_rng(seed)
    length = min(length, config["max_sequence_length"])
    ids = rng.integers(1, config["vocabulary_size"], (batch, length)).astype("int32")
    lengths = [length, length - 3, 4, 1][:batch]
    mask = (np.arange(length)[None, :] < np.array(lengths)[:, None]).astype("int32")
    x = {"token_ids": ids * mask, "padding_mask": mask,
         "mask_positions": rng.integers(0, length, (batch, num_masks)).astype("int32")}
    if not distil:
        x["segment_ids"] = (np.arange(length)[None, :] >= length // 2).astype("int32") * mask
    return x


def max_abs_error(expected, actual):
    expected = np.asarray(expected, np.float64)
    actual = np.asarray(actual, np.float64)
    assert expected.shape == actual.shape, (expected.shape, actual.shape)
    return float(np.max(np.abs(expected - actual)))
