"""Builders shared by the model parity tests: the same random model in KerasHub and minibert,
and padded integer batches."""
import numpy as np

from minibert.models.bert.bert_backbone import BertBackbone
from minibert.models.bert.bert_masked_lm import BertMaskedLM
from minibert.models.bert.bert_text_classifier import BertTextClassifier
from minibert.models.distil_bert.distil_bert_backbone import DistilBertBackbone
from minibert.models.distil_bert.distil_bert_masked_lm import DistilBertMaskedLM
from minibert.models.distil_bert.distil_bert_text_classifier import DistilBertTextClassifier

# Two configs; the second has an odd head count and head size.
CONFIGS = [
    dict(vocabulary_size=97, num_layers=2, num_heads=2, hidden_dim=16, intermediate_dim=32,
         max_sequence_length=24),
    dict(vocabulary_size=61, num_layers=3, num_heads=3, hidden_dim=21, intermediate_dim=40,
         max_sequence_length=16),
]

MINIBERT_CLASSES = {
    "BertBackbone": BertBackbone, "DistilBertBackbone": DistilBertBackbone,
    "BertMaskedLM": BertMaskedLM, "DistilBertMaskedLM": DistilBertMaskedLM,
    "BertTextClassifier": BertTextClassifier,
    "DistilBertTextClassifier": DistilBertTextClassifier,
}


def padded_batch(config, batch=4, length=12, num_masks=5, seed=0, segments=True):
    """Integer inputs with every padding pattern that matters: a full row, partly padded rows,
    and a row with a single real token."""
    rng = np.random.default_rng(seed)
    length = min(length, config["max_sequence_length"])
    ids = rng.integers(1, config["vocabulary_size"], (batch, length)).astype("int32")
    lengths = [length, length - 3, 4, 1][:batch]
    mask = (np.arange(length)[None, :] < np.array(lengths)[:, None]).astype("int32")
    ids = ids * mask                                             # pad id 0 at padded positions
    x = {"token_ids": ids, "padding_mask": mask,
         "mask_positions": rng.integers(0, length, (batch, num_masks)).astype("int32")}
    if segments:
        x["segment_ids"] = (np.arange(length)[None, :] >= length // 2).astype("int32") * mask
    return x


def randomize(keras_model, seed=0, scale=0.2):
    """Give every KerasHub weight a random value of a size that makes errors visible (the
    0.02 initialisation hides them): kernels and embeddings N(0, scale), biases N(0, scale),
    layer-norm gammas 1 + N(0, 0.1)."""
    import keras
    rng = np.random.default_rng(seed)
    for w in keras_model.weights:
        base = 1.0 if w.path.endswith("gamma") else 0.0
        spread = 0.1 if w.path.endswith("gamma") else scale
        w.assign(keras.ops.convert_to_tensor(
            (base + spread * rng.standard_normal(tuple(w.shape))).astype(w.dtype)))


def copy_weights(keras_model, minibert_model):
    """minibert's weights are KerasHub's, path for path and in the same order."""
    import keras
    assert [w.path for w in minibert_model.weights] == [w.path for w in keras_model.weights]
    minibert_model.set_weights([keras.ops.convert_to_numpy(w) for w in keras_model.weights])


def max_abs_error(name, expected, actual):
    """Max abs error between two arrays, with a message naming the tensor."""
    expected, actual = np.asarray(expected, np.float64), np.asarray(actual, np.float64)
    assert expected.shape == actual.shape, f"{name}: shape {actual.shape} != {expected.shape}"
    error = float(np.max(np.abs(expected - actual))) if expected.size else 0.0
    scale = float(np.max(np.abs(expected))) if expected.size else 0.0
    return error, f"{name}: max abs error {error:.3e} (max relative {error / max(scale, 1e-30):.3e})"
