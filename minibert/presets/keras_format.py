"""KerasHub preset directories: the JSON configs and the ``.weights.h5`` files.

A KerasHub preset directory holds::

    config.json                 the backbone, serialized: {"module", "class_name", "config",
                                "registered_name": "keras_hub>BertBackbone"}
    metadata.json               versions, parameter count, date (informational)
    model.weights.h5            the backbone's weights (or model.weights.json + shards
                                model_00000.weights.h5, ... when sharded)
    task.json                   the task, serialized, with the backbone and the preprocessor
                                nested in its config
    task.weights.h5             the task's own weights (its heads), not the backbone's
    preprocessor.json           the preprocessor, with the tokenizer nested
    tokenizer.json              the tokenizer (vocabulary null: it is an asset)
    assets/tokenizer/vocabulary.txt

Where a weight lives in the ``.weights.h5`` file
------------------------------------------------
Keras does not use ``layer.name`` for the groups of a functional model's layers. It names
each by its *class*, in snake case, with a counter in the order of ``model.layers``
(``dense``, ``dense_1``, ...), then descends into the layer's attributes by *attribute name*
(``_self_attention_layer/query_dense``). A layer's variables are the datasets ``vars/0``,
``vars/1``, ... (Dense: kernel, bias; LayerNorm: gamma, beta; Embedding: embeddings). Recent
Keras also records ``layer.name`` as the ``name`` attribute of each ``vars`` group.

So the place of each weight depends on the model's structure only: the backbone kind (BERT
or DistilBERT), its number of layers and the task kind. ``backbone_layout`` and
``task_layout`` spell that structure out, once, as a list of ``H5Layer(group, name,
variables)``; the reader and the writer both use it. For a 2-layer BERT backbone::

    layers/reversible_embedding/vars/0            token_embedding/embeddings      (V, H)
    layers/position_embedding/vars/0              position_embedding/embeddings   (P, H)
    layers/embedding/vars/0                       segment_embedding/embeddings    (S, H)
    layers/layer_normalization/vars/0, 1          embeddings_layer_norm/gamma, beta
    layers/transformer_encoder/...                transformer_layer_0/...
    layers/transformer_encoder_1/...              transformer_layer_1/...
        _self_attention_layer/query_dense/vars/0  .../self_attention_layer/query/kernel (H, nh, hd)
        ...
    layers/dense/vars/0, 1                        pooled_dense/kernel, bias

Reading is tolerant of older files: MultiHeadAttention's sublayers were once private
attributes (``_query_dense``), and Keras 2.13 files say ``_layer_checkpoint_dependencies``
where newer ones say ``layers``; both spellings are found. Where a ``name`` attribute is
present it must match, so a file of another structure fails loudly instead of loading
weights into the wrong places.
"""
import copy
import datetime
import inspect
import json
import math
import os
from typing import NamedTuple

import numpy as np

from minibert.presets import registry
from minibert.presets.errors import PresetFormatError, WeightMismatchError, preset_warning
from minibert.presets.handles import check_relative_path
from minibert.presets.weights import _listing

CONFIG_FILE = "config.json"
METADATA_FILE = "metadata.json"
TASK_CONFIG_FILE = "task.json"
PREPROCESSOR_CONFIG_FILE = "preprocessor.json"
TOKENIZER_CONFIG_FILE = "tokenizer.json"
MODEL_WEIGHTS_FILE = "model.weights.h5"
SHARDED_WEIGHTS_CONFIG_FILE = "model.weights.json"
TASK_WEIGHTS_FILE = "task.weights.h5"
TOKENIZER_ASSET_DIR = "assets/tokenizer"
VOCABULARY_FILE = "vocabulary.txt"


# =============================================================================== layouts
class H5Layer(NamedTuple):
    """One layer's group in a ``.weights.h5`` file.

    group: the path of the layer's group ("" for the model itself, whose ``vars`` is at the
        root); name: the layer name Keras records on ``group/vars``; variables: the minibert
        variable paths stored as ``group/vars/0``, ``group/vars/1``, ... in that order.
    """
    group: str
    name: str
    variables: tuple = ()


def _numbered(base, index):
    return base if index == 0 else f"{base}_{index}"


def _transformer_layers(num_layers):
    layers = []
    for i in range(num_layers):
        group = f"layers/{_numbered('transformer_encoder', i)}"
        p = f"transformer_layer_{i}"
        attention = f"{group}/_self_attention_layer"
        layers += [
            H5Layer(group, p),
            H5Layer(attention, "self_attention_layer"),
            H5Layer(f"{attention}/query_dense", "query",
                    (f"{p}/self_attention_layer/query/kernel",
                     f"{p}/self_attention_layer/query/bias")),
            H5Layer(f"{attention}/key_dense", "key",
                    (f"{p}/self_attention_layer/key/kernel",
                     f"{p}/self_attention_layer/key/bias")),
            H5Layer(f"{attention}/value_dense", "value",
                    (f"{p}/self_attention_layer/value/kernel",
                     f"{p}/self_attention_layer/value/bias")),
            H5Layer(f"{attention}/output_dense", "attention_output",
                    (f"{p}/self_attention_layer/attention_output/kernel",
                     f"{p}/self_attention_layer/attention_output/bias")),
            H5Layer(f"{attention}/_softmax", "softmax"),
            H5Layer(f"{attention}/_dropout_layer", "dropout"),
            H5Layer(f"{group}/_self_attention_layer_norm", "self_attention_layer_norm",
                    (f"{p}/self_attention_layer_norm/gamma",
                     f"{p}/self_attention_layer_norm/beta")),
            H5Layer(f"{group}/_self_attention_dropout", "self_attention_dropout"),
            H5Layer(f"{group}/_feedforward_intermediate_dense", "feedforward_intermediate_dense",
                    (f"{p}/feedforward_intermediate_dense/kernel",
                     f"{p}/feedforward_intermediate_dense/bias")),
            H5Layer(f"{group}/_feedforward_output_dense", "feedforward_output_dense",
                    (f"{p}/feedforward_output_dense/kernel",
                     f"{p}/feedforward_output_dense/bias")),
            H5Layer(f"{group}/_feedforward_layer_norm", "feedforward_layer_norm",
                    (f"{p}/feedforward_layer_norm/gamma", f"{p}/feedforward_layer_norm/beta")),
            H5Layer(f"{group}/_feedforward_dropout", "feedforward_dropout"),
        ]
    return layers


def backbone_inputs(kind):
    return ("token_ids", "segment_ids", "padding_mask") if kind == "bert" else (
        "token_ids", "padding_mask")


def backbone_layout(kind, num_layers, name=None):
    """The groups of ``model.weights.h5`` for a backbone of ``kind`` ("bert" or
    "distil_bert") with ``num_layers`` transformer layers."""
    inputs = [H5Layer(f"layers/{_numbered('input_layer', i)}", n)
              for i, n in enumerate(backbone_inputs(kind))]
    if kind == "bert":
        embeddings = [
            H5Layer("layers/reversible_embedding", "token_embedding",
                    ("token_embedding/embeddings",)),
            H5Layer("layers/position_embedding", "position_embedding",
                    ("position_embedding/embeddings",)),
            H5Layer("layers/embedding", "segment_embedding", ("segment_embedding/embeddings",)),
            H5Layer("layers/add", "embeddings_add"),
        ]
        pooler = [H5Layer("layers/dense", "pooled_dense",
                          ("pooled_dense/kernel", "pooled_dense/bias"))]
    elif kind == "distil_bert":
        embeddings = [
            H5Layer("layers/token_and_position_embedding", "token_and_position_embedding"),
            H5Layer("layers/token_and_position_embedding/token_embedding", "token_embedding",
                    ("token_and_position_embedding/token_embedding/embeddings",)),
            H5Layer("layers/token_and_position_embedding/position_embedding",
                    "position_embedding",
                    ("token_and_position_embedding/position_embedding/embeddings",)),
        ]
        pooler = []
    else:
        raise ValueError(f"backbone kind: expected 'bert' or 'distil_bert', got {kind!r}")
    root = [H5Layer("", name or f"{kind}_backbone")]
    norm = [H5Layer("layers/layer_normalization", "embeddings_layer_norm",
                    ("embeddings_layer_norm/gamma", "embeddings_layer_norm/beta")),
            H5Layer("layers/dropout", "embeddings_dropout")]
    return root + inputs + embeddings + norm + _transformer_layers(num_layers) + pooler


def task_layout(task_kind, kind, name=None, preprocessor_names=None):
    """The groups of ``task.weights.h5`` (the task's own weights; the backbone's groups are
    skipped) for ``task_kind`` ("masked_lm" or "text_classifier") over backbone ``kind``."""
    if task_kind == "masked_lm":
        # The task model's inputs are the backbone's plus mask_positions, so it is the
        # (number of backbone inputs)-th input layer.
        layers = [
            H5Layer(f"layers/{_numbered('input_layer', len(backbone_inputs(kind)))}",
                    "mask_positions"),
            H5Layer("layers/masked_lm_head", "mlm_head", ("mlm_head/output_bias",)),
            H5Layer("layers/masked_lm_head/_intermediate_dense", "intermediate_dense",
                    ("mlm_head/intermediate_dense/kernel", "mlm_head/intermediate_dense/bias")),
            H5Layer("layers/masked_lm_head/_intermediate_layer_norm", "intermediate_layer_norm",
                    ("mlm_head/intermediate_layer_norm/gamma",
                     "mlm_head/intermediate_layer_norm/beta")),
        ]
        default = f"{kind}_masked_lm"
    elif task_kind == "text_classifier" and kind == "bert":
        layers = [H5Layer("layers/dropout", "classifier_dropout"),
                  H5Layer("layers/dense", "logits", ("logits/kernel", "logits/bias"))]
        default = "bert_text_classifier"
    elif task_kind == "text_classifier" and kind == "distil_bert":
        layers = [H5Layer("layers/dense", "pooled_dense",
                          ("pooled_dense/kernel", "pooled_dense/bias")),
                  H5Layer("layers/dropout", "output_dropout"),
                  H5Layer("layers/dense_1", "logits", ("logits/kernel", "logits/bias"))]
        default = "distil_bert_text_classifier"
    else:
        raise ValueError(f"task kind {task_kind!r} over backbone kind {kind!r} has no layout")
    extra = []
    if preprocessor_names is not None:
        preprocessor_name, tokenizer_name = preprocessor_names
        extra = [H5Layer("preprocessor", preprocessor_name),
                 H5Layer("preprocessor/tokenizer", tokenizer_name)]
    return [H5Layer("", name or default)] + layers + extra


def weight_map(layout):
    """{minibert variable path: H5 dataset path} of a layout."""
    mapping = {}
    for layer in layout:
        for index, path in enumerate(layer.variables):
            mapping[path] = _vars_path(layer.group) + f"/{index}"
    return mapping


def _vars_path(group):
    return f"{group}/vars" if group else "vars"


# =============================================================================== reading
#: Groups a weights file may hold that are not model weights (the optimizer's state, the
#: preprocessor's empty groups).
_IGNORED_TOP_GROUPS = ("optimizer", "preprocessor")


def _open_h5(path, label):
    import h5py
    try:
        return h5py.File(path, "r")
    except OSError as error:
        raise PresetFormatError(
            f"{label}: not a readable HDF5 file ({error}). The file is truncated or corrupt: "
            "delete it (or the cached copy) and save or download it again.") from error


def _alternatives(part, first):
    yield part
    if part.startswith("_"):
        yield part[1:]
    else:
        yield "_" + part
    if first and part == "layers":
        yield "_layer_checkpoint_dependencies"


def _find_group(h5file, group):
    """The h5py group at ``group``, trying the older spellings of each part; or None."""
    node = h5file
    for i, part in enumerate(group.split("/") if group else []):
        for name in _alternatives(part, i == 0):
            child = node.get(name)
            if child is not None and not hasattr(child, "shape"):
                node = child
                break
        else:
            return None
    return node


def _read_dataset(dataset, label):
    try:
        value = dataset[()]
    except (OSError, ValueError) as error:
        raise PresetFormatError(f"{label}: cannot read dataset {dataset.name} ({error}); the "
                                "file is truncated or corrupt") from error
    value = np.asarray(value)
    if dataset.attrs.get("dtype") == "bfloat16" or value.dtype.kind == "V":
        import ml_dtypes
        value = value.view(ml_dtypes.bfloat16)
    return value


class _H5Files:
    """One ``.weights.h5`` file, or the shards listed by a ``model.weights.json``."""

    def __init__(self, paths_and_labels):
        self.files = []
        try:
            for path, label in paths_and_labels:
                self.files.append((_open_h5(path, label), label))
        except BaseException:
            self.close()
            raise

    def close(self):
        for h5file, _ in self.files:
            h5file.close()
        self.files = []

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def find_vars(self, group):
        """(vars group, label) of the first file whose ``group/vars`` holds datasets, else
        of the first file that has the group at all, else (None, None)."""
        fallback = (None, None)
        for h5file, label in self.files:
            node = _find_group(h5file, group)
            if node is None:
                continue
            vars_group = node.get("vars")
            if vars_group is None or hasattr(vars_group, "shape"):
                continue
            if len(vars_group):
                return vars_group, label
            if fallback[0] is None:
                fallback = (vars_group, label)
        return fallback

    def all_datasets(self):
        """Every (dataset path, label) in the files, except optimizer/preprocessor state."""
        found = []
        for h5file, label in self.files:
            def visit(name, obj, label=label):
                if hasattr(obj, "shape") and name.split("/")[0] not in _IGNORED_TOP_GROUPS:
                    found.append((name, label))
            h5file.visititems(visit)
        return found


def _canonical(dataset_path):
    """A dataset path with the older spellings mapped to the current ones."""
    parts = dataset_path.split("/")
    if parts and parts[0] == "_layer_checkpoint_dependencies":
        parts[0] = "layers"
    return "/".join(p[1:] if p in ("_query_dense", "_key_dense", "_value_dense",
                                     "_output_dense") else p for p in parts)


def read_layout(files, layout, label):
    """Read every variable of ``layout`` from open ``_H5Files``: {variable path: array}.

    Raises WeightMismatchError naming every weight that is missing, and every dataset in the
    file that the layout does not have (extra weights), and PresetFormatError when a group's
    recorded layer name says it belongs to another layer."""
    arrays, missing, misplaced, expected = {}, [], [], set()
    for layer in layout:
        if not layer.variables:
            continue
        vars_group, file_label = files.find_vars(layer.group)
        for index, path in enumerate(layer.variables):
            expected.add(f"{_vars_path(layer.group)}/{index}")
        if vars_group is None:
            missing += [f"{path} (dataset {_vars_path(layer.group)}/{i})"
                        for i, path in enumerate(layer.variables)]
            continue
        recorded = vars_group.attrs.get("name")
        if isinstance(recorded, bytes):
            recorded = recorded.decode("utf-8", "replace")
        if recorded is not None and recorded != layer.name:
            misplaced.append(f"{_vars_path(layer.group)}: holds layer {recorded!r}, expected "
                             f"{layer.name!r}")
            continue
        for index, path in enumerate(layer.variables):
            dataset = vars_group.get(str(index))
            if dataset is None or not hasattr(dataset, "shape"):
                missing.append(f"{path} (dataset {_vars_path(layer.group)}/{index})")
            else:
                arrays[path] = _read_dataset(dataset, file_label)
    if misplaced:
        raise PresetFormatError(
            f"{label}: the file is not laid out like this model (another model kind, layer "
            "count or KerasHub version?):" + _listing(misplaced))
    extra = sorted({f"{_canonical(name)} (in {file_label})" for name, file_label
                    in files.all_datasets() if _canonical(name) not in expected})
    if missing or extra:
        problems = []
        if missing:
            problems.append("weights missing from the file:" + _listing(missing))
        if extra:
            problems.append("datasets in the file that the model does not have:"
                            + _listing(extra))
        raise WeightMismatchError(f"{label}: the weights do not fit the model.\n"
                                  + "\n".join(problems))
    return arrays


def read_weights_file(path, layout, label=None):
    """Read one ``.weights.h5`` file with ``layout``: {variable path: array}."""
    label = label or path
    with _H5Files([(path, label)]) as files:
        return read_layout(files, layout, label)


def sharded_filenames(index_path, label):
    """The shard file names a ``model.weights.json`` lists (each a plain relative name)."""
    try:
        with open(index_path, encoding="utf-8") as f:
            index = json.load(f)
        weight_map_ = index["weight_map"]
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise PresetFormatError(f"{label}: not a valid sharded-weights index (expected JSON "
                                f"with a 'weight_map'): {error}") from error
    names = set()
    for value in weight_map_.values():
        names.update(value if isinstance(value, list) else [value])
    return [check_relative_path(n, f"{label} shard name") for n in sorted(names)]


# =============================================================================== writing
def _write_layer(h5file, layer, arrays, done):
    group = h5file.require_group(layer.group) if layer.group else h5file
    vars_group = group.require_group("vars")
    vars_group.attrs["name"] = layer.name
    for index, path in enumerate(layer.variables):
        value = np.asarray(arrays[path])
        if value.dtype.name == "bfloat16":
            dataset = vars_group.create_dataset(str(index), data=value)
            dataset.attrs["dtype"] = "bfloat16"
        else:
            vars_group.create_dataset(str(index), data=value)
        done.add(path)


def _check_layout_covers(layout, arrays, label):
    known = {p for layer in layout for p in layer.variables}
    unknown = [p for p in arrays if p not in known]
    absent = [p for p in known if p not in arrays]
    if unknown or absent:
        raise WeightMismatchError(
            f"{label}: the model's weights do not match the KerasHub file layout."
            + ("\nweights the layout has no place for:" + _listing(unknown) if unknown else "")
            + ("\nplaces in the layout with no weight:" + _listing(absent) if absent else ""))


#: KerasHub compiles a task when it builds it (Adam, learning rate 5e-5) and its task files
#: hold that optimizer's two variables, iterations and learning rate. A task file written
#: with the same fresh values loads into KerasHub without its "skipping optimizer" warning
#: and changes nothing there.
FRESH_OPTIMIZER = ("adam", (np.int32(0), np.float32(5e-5)))


def write_weights_file(path, layout, arrays, optimizer=None):
    """Write ``arrays`` ({variable path: array}) as one ``.weights.h5`` file laid out as
    ``layout`` (weightless layers get their empty groups too, as Keras writes them).
    ``optimizer``: (name, values) written as ``optimizer/vars/0, 1, ...``."""
    import h5py
    _check_layout_covers(layout, arrays, path)
    done = set()
    with h5py.File(path, "w") as h5file:
        for layer in layout:
            _write_layer(h5file, layer, arrays, done)
        if optimizer is not None:
            name, values = optimizer
            group = h5file.require_group("optimizer").require_group("vars")
            group.attrs["name"] = name
            for index, value in enumerate(values):
                group.create_dataset(str(index), data=value)


def write_sharded_weights(directory, layout, arrays, max_shard_size_gb):
    """Write ``model.weights.json`` and ``model_00000.weights.h5``, ... each at most
    ``max_shard_size_gb`` (a layer's variables always stay together in one shard). Returns
    the file names written."""
    import h5py
    _check_layout_covers(layout, arrays, directory)
    limit = float(max_shard_size_gb) * 1024 ** 3
    shards, current, size = [], [], 0
    for layer in layout:
        nbytes = sum(np.asarray(arrays[p]).nbytes for p in layer.variables)
        if current and layer.variables and size + nbytes > limit:
            shards.append(current)
            current, size = [], 0
        current.append(layer)
        size += nbytes
    shards.append(current)
    weight_map_, names, total, done = {}, [], 0, set()
    for number, layers in enumerate(shards):
        name = f"model_{number:05d}.weights.h5"
        names.append(name)
        with h5py.File(os.path.join(directory, name), "w") as h5file:
            for layer in layers:
                _write_layer(h5file, layer, arrays, done)
                if layer.variables:
                    weight_map_[f"/{_vars_path(layer.group)}"] = [name]
                    total += sum(np.asarray(arrays[p]).nbytes for p in layer.variables)
    with open(os.path.join(directory, SHARDED_WEIGHTS_CONFIG_FILE), "w", encoding="utf-8") as f:
        json.dump({"metadata": {"total_size": float(total)}, "weight_map": weight_map_},
                  f, indent=4)
    return [SHARDED_WEIGHTS_CONFIG_FILE] + names


def nbytes(arrays):
    return sum(np.asarray(a).nbytes for a in arrays.values())


# =============================================================================== configs
#: The config keys KerasHub writes (and accepts back) for each class, in its order.
_BACKBONE_KEYS = ("name", "trainable", "dtype", "vocabulary_size", "num_layers", "num_heads",
                  "hidden_dim", "intermediate_dim", "dropout", "max_sequence_length")
_TOKENIZER_KEYS = ("name", "trainable", "dtype", "config_file", "vocabulary", "sequence_length",
                   "lowercase", "strip_accents", "split", "suffix_indicator", "oov_token",
                   "special_tokens", "special_tokens_in_strings")
_MLM_PREPROCESSOR_KEYS = ("name", "trainable", "dtype", "tokenizer", "config_file",
                          "sequence_length", "truncate", "mask_selection_rate",
                          "mask_selection_length", "mask_token_rate", "random_token_rate")
_CLASSIFIER_PREPROCESSOR_KEYS = ("name", "trainable", "dtype", "tokenizer", "config_file",
                                 "sequence_length", "truncate")
KERAS_HUB_KEYS = {
    "BertBackbone": _BACKBONE_KEYS + ("num_segments",),
    "DistilBertBackbone": _BACKBONE_KEYS,
    "BertMaskedLM": ("backbone", "preprocessor", "name"),
    "DistilBertMaskedLM": ("backbone", "preprocessor", "name"),
    "BertTextClassifier": ("backbone", "preprocessor", "name", "num_classes", "activation",
                           "dropout"),
    "DistilBertTextClassifier": ("backbone", "preprocessor", "name", "num_classes",
                                 "activation", "hidden_dim", "dropout"),
    "BertTokenizer": _TOKENIZER_KEYS,
    "DistilBertTokenizer": _TOKENIZER_KEYS,
    "BertMaskedLMPreprocessor": _MLM_PREPROCESSOR_KEYS,
    "DistilBertMaskedLMPreprocessor": _MLM_PREPROCESSOR_KEYS,
    "BertTextClassifierPreprocessor": _CLASSIFIER_PREPROCESSOR_KEYS,
    "DistilBertTextClassifierPreprocessor": _CLASSIFIER_PREPROCESSOR_KEYS,
}

#: minibert-only constructor arguments, at the value that reproduces what KerasHub does.
#: A config holding exactly these values loses nothing when they are left out.
KERAS_HUB_BEHAVIOUR = {
    "BertBackbone": {"activation": "gelu_approximate", "layer_norm_epsilon": 1e-12,
                     "attention_mask_value": -1e9},
    "DistilBertBackbone": {"activation": "gelu", "layer_norm_epsilon": 1e-12,
                           "attention_mask_value": -1e9},
    "BertMaskedLM": {"head_activation": "gelu", "head_layer_norm_epsilon": 1e-5},
    "DistilBertMaskedLM": {"head_activation": "gelu", "head_layer_norm_epsilon": 1e-5},
}

_NO_DEFAULT = object()


def _signature_default(cls, key):
    try:
        parameter = inspect.signature(cls.__init__).parameters.get(key)
    except (TypeError, ValueError):
        return _NO_DEFAULT
    if parameter is None or parameter.default is inspect.Parameter.empty:
        return _NO_DEFAULT
    return parameter.default


def _same(a, b):
    if isinstance(a, float) or isinstance(b, float):
        try:
            return math.isclose(float(a), float(b), rel_tol=1e-12, abs_tol=0.0)
        except (TypeError, ValueError):
            return False
    return a == b


def _jsonable(value):
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    return value


def _dtype_config(value):
    if value is None or isinstance(value, dict):
        return value
    name = getattr(value, "name", value)
    return {"module": "keras", "class_name": "DTypePolicy", "config": {"name": str(name)},
            "registered_name": None}


def serialize(obj, where):
    """``obj`` as KerasHub serializes it: {"module", "class_name", "config",
    "registered_name"}. Nested backbone / preprocessor / tokenizer objects are serialized
    too. minibert-only arguments are dropped when they hold KerasHub's behaviour; otherwise
    they are kept, with a PresetWarning: minibert reads them back, KerasHub cannot."""
    module, class_name, registered = registry.keras_hub_identity(obj)
    config = dict(obj.get_config())
    for key in ("backbone", "preprocessor", "tokenizer"):
        if key in KERAS_HUB_KEYS[class_name]:
            nested = getattr(obj, key, None)
            config[key] = None if nested is None else serialize(nested, where)
    if "dtype" in config:
        config["dtype"] = _dtype_config(config["dtype"])
    if class_name.endswith("Tokenizer"):
        config["vocabulary"] = None                      # saved as an asset
        config["config_file"] = TOKENIZER_CONFIG_FILE
    if class_name.endswith("Preprocessor"):
        config["config_file"] = PREPROCESSOR_CONFIG_FILE
    if class_name.endswith("TextClassifier") and config.get("activation") is None:
        config["activation"] = "linear"
    keys = KERAS_HUB_KEYS[class_name]
    out = {k: config[k] for k in keys if k in config}
    behaviour = KERAS_HUB_BEHAVIOUR.get(class_name, {})
    extras = {}
    for key, value in config.items():
        if key in keys:
            continue
        if key == "trainable" and value is True:
            continue
        if key == "dtype" and (value is None or value["config"]["name"] == "float32"):
            continue                                     # KerasHub's task configs have no dtype
        default = behaviour.get(key, _signature_default(type(obj), key))
        if default is not _NO_DEFAULT and _same(value, default):
            continue
        extras[key] = value
    if extras:
        seen = ", ".join(f"{k}={v!r}" for k, v in extras.items())
        keras_hub = ", ".join(f"{k}={behaviour[k]!r}" for k in extras if k in behaviour)
        preset_warning(
            f"{where}: {class_name} has settings KerasHub cannot represent: {seen}. They are "
            "written to the config so minibert restores them, but KerasHub will refuse this "
            f"file (its {class_name} takes no such arguments). Set them to KerasHub's values "
            f"({keras_hub or 'the defaults'}) to write a preset KerasHub can load.")
    out.update(extras)
    return {"module": module, "class_name": class_name, "config": _jsonable(out),
            "registered_name": registered}


def metadata(backbone):
    """The ``metadata.json`` of a backbone (informational; nothing reads it back)."""
    import minibert
    kind = registry.backbone_kind(backbone)
    return {
        "keras_version": None,
        "keras_hub_version": None,
        "minibert_version": getattr(minibert, "__version__", None),
        "parameter_count": int(backbone.count_params()),
        "date_saved": datetime.datetime.now().strftime("%Y-%m-%d@%H:%M:%S"),
        "tasks": ["MaskedLM", "TextClassifier"] if kind in ("bert", "distil_bert") else [],
    }


def write_json(path, obj):
    with open(path, "w", encoding="utf-8") as f:
        f.write(json.dumps(obj, indent=4))


def read_json(path, label):
    """A JSON file as a dict; PresetFormatError (naming the file) if it is not valid JSON."""
    try:
        with open(path, encoding="utf-8") as f:
            return json.load(f)
    except ValueError as error:
        raise PresetFormatError(f"{label}: not valid JSON ({error}); the file is truncated or "
                                "corrupt") from error


def deserialize_config(serialized, label, overrides=None):
    """(minibert class, constructor kwargs) of a serialized object; nested objects stay
    serialized (the loader builds them). ``overrides`` replace config entries."""
    cls = registry.class_from_serialized(serialized, label)
    config = serialized.get("config")
    if not isinstance(config, dict):
        raise PresetFormatError(f"{label}: 'config' must be an object, got {config!r}")
    config = copy.deepcopy(config)
    config.update(overrides or {})
    return cls, config
