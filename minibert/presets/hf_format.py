"""Hugging Face model directories (``transformers`` ``save_pretrained`` output).

Files read::

    config.json                      model_type "bert" or "distilbert", sizes, hidden_act, ...
    model.safetensors                the tensors (or model.safetensors.index.json + shards)
    vocab.txt                        the WordPiece vocabulary (else the one in tokenizer.json)
    tokenizer_config.json            do_lower_case, strip_accents, tokenize_chinese_chars
    sentence_bert_config.json        (sentence-transformers) max_seq_length

``pytorch_model.bin`` is a pickle, which can run code when loaded; minibert refuses it and
says how to convert it.

Config (``backbone_kwargs``). The sizes map one to one. Where HF and KerasHub compute
differently, the HF value is set explicitly, so a model loaded from an HF directory matches
``transformers`` rather than KerasHub (KerasHub's own converter ignores these):

    BERT hidden_act "gelu"              -> activation "gelu" (exact erf)
         "gelu_new", "gelu_pytorch_tanh", "gelu_fast" -> "gelu_approximate" (tanh)
         layer_norm_eps                 -> layer_norm_epsilon and head_layer_norm_epsilon
         type_vocab_size                -> num_segments
         hidden_dropout_prob            -> dropout
    DistilBERT activation               -> activation (and head_activation)
         LayerNorm epsilon              -> 1e-12 (fixed in HF's code)

Tensors (``weight_table``). PyTorch ``Linear`` weights are (out, in) and are transposed; the
attention projections are also reshaped to KerasHub's (H, heads, head_dim) and
(heads, head_dim, H). LayerNorm parameters are ``weight/bias`` or, in older checkpoints,
``gamma/beta``. The backbone's key prefix (``bert.``, ``distilbert.`` or none) is found by
suffix. Unlike KerasHub's converter, the masked-LM heads (``cls.predictions.*``;
``vocab_transform``, ``vocab_layer_norm``, ``vocab_projector.bias``) and classifier heads
(``classifier.*``, ``pre_classifier.*``) are loaded when present. Tensors left unused (the
next-sentence head ``cls.seq_relationship.*``, for instance) are reported by name.
"""
import json

import numpy as np

from minibert.presets.errors import (PresetError, PresetFileNotFoundError, PresetFormatError,
                                     WeightMismatchError, preset_warning)
from minibert.presets.handles import check_relative_path
from minibert.presets.weights import _listing, variables_by_path

CONFIG_FILE = "config.json"
SAFETENSORS_FILE = "model.safetensors"
SAFETENSORS_INDEX_FILE = "model.safetensors.index.json"
VOCAB_FILE = "vocab.txt"
TOKENIZER_CONFIG_FILE = "tokenizer_config.json"
HF_TOKENIZER_FILE = "tokenizer.json"
SENTENCE_BERT_CONFIG_FILE = "sentence_bert_config.json"
_PICKLE_FILES = ("pytorch_model.bin", "pytorch_model.bin.index.json")
_OTHER_FORMATS = ("tf_model.h5", "flax_model.msgpack")

MODEL_TYPES = {"bert": "BertBackbone", "distilbert": "DistilBertBackbone"}
_APPROXIMATE_GELUS = ("gelu_new", "gelu_pytorch_tanh", "gelu_fast")


# =============================================================================== config
def backbone_class_name(hf_config, label):
    """"BertBackbone" or "DistilBertBackbone" for an HF config."""
    model_type = hf_config.get("model_type")
    if model_type not in MODEL_TYPES:
        raise PresetError(f"{label}: model_type {model_type!r} is not supported; minibert "
                          f"reads {', '.join(map(repr, MODEL_TYPES))} HF directories")
    return MODEL_TYPES[model_type]


def _require(hf_config, key, label):
    if key not in hf_config:
        raise PresetFormatError(f"{label}: required key {key!r} is missing")
    return hf_config[key]


def _bert_activation(hidden_act, label):
    if hidden_act == "gelu":
        return "gelu"
    if hidden_act in _APPROXIMATE_GELUS:
        return "gelu_approximate"
    raise PresetError(f"{label}: hidden_act {hidden_act!r} is not supported; minibert "
                      f"implements 'gelu' (exact) and {', '.join(map(repr, _APPROXIMATE_GELUS))} "
                      "(tanh approximation)")


def backbone_kwargs(hf_config, label):
    """Constructor arguments of the backbone for an HF config (see the module docstring)."""
    model_type = hf_config.get("model_type")
    backbone_class_name(hf_config, label)
    if model_type == "bert":
        if hf_config.get("position_embedding_type", "absolute") != "absolute":
            raise PresetError(f"{label}: position_embedding_type "
                              f"{hf_config['position_embedding_type']!r} is not supported; "
                              "minibert implements 'absolute'")
        if hf_config.get("is_decoder") or hf_config.get("add_cross_attention"):
            raise PresetError(f"{label}: a BERT decoder (is_decoder / add_cross_attention) "
                              "is not supported; minibert implements the bidirectional encoder")
        hidden_dropout = hf_config.get("hidden_dropout_prob", 0.1)
        attention_dropout = hf_config.get("attention_probs_dropout_prob", hidden_dropout)
        if attention_dropout != hidden_dropout:
            preset_warning(f"{label}: attention_probs_dropout_prob={attention_dropout} differs "
                          f"from hidden_dropout_prob={hidden_dropout}; minibert uses one rate "
                          f"({hidden_dropout}) everywhere, as KerasHub")
        epsilon = float(hf_config.get("layer_norm_eps", 1e-12))
        return {
            "vocabulary_size": _require(hf_config, "vocab_size", label),
            "num_layers": _require(hf_config, "num_hidden_layers", label),
            "num_heads": _require(hf_config, "num_attention_heads", label),
            "hidden_dim": _require(hf_config, "hidden_size", label),
            "intermediate_dim": _require(hf_config, "intermediate_size", label),
            "dropout": hidden_dropout,
            "max_sequence_length": hf_config.get("max_position_embeddings", 512),
            "num_segments": hf_config.get("type_vocab_size", 2),
            "activation": _bert_activation(hf_config.get("hidden_act", "gelu"), label),
            "layer_norm_epsilon": epsilon,
        }
    activation = hf_config.get("activation", "gelu")
    if activation not in ("gelu", "relu"):
        raise PresetError(f"{label}: activation {activation!r} is not supported for "
                          "DistilBERT; minibert implements 'gelu' and 'relu'")
    return {
        "vocabulary_size": _require(hf_config, "vocab_size", label),
        "num_layers": _require(hf_config, "n_layers", label),
        "num_heads": _require(hf_config, "n_heads", label),
        "hidden_dim": _require(hf_config, "dim", label),
        "intermediate_dim": _require(hf_config, "hidden_dim", label),
        "dropout": hf_config.get("dropout", 0.1),
        "max_sequence_length": hf_config.get("max_position_embeddings", 512),
        "activation": activation,
        "layer_norm_epsilon": 1e-12,
    }


def masked_lm_kwargs(hf_config):
    """The head arguments of a MaskedLM for an HF config: HF's head uses the model's
    activation and LayerNorm epsilon (KerasHub: exact gelu, 1e-5)."""
    if hf_config.get("model_type") == "bert":
        act = hf_config.get("hidden_act", "gelu")
        return {"head_activation": "gelu_approximate" if act in _APPROXIMATE_GELUS else act,
                "head_layer_norm_epsilon": float(hf_config.get("layer_norm_eps", 1e-12))}
    return {"head_activation": hf_config.get("activation", "gelu"),
            "head_layer_norm_epsilon": 1e-12}


def tokenizer_kwargs(tokenizer_config):
    """``WordPieceTokenizer.from_hf`` arguments from ``tokenizer_config.json``, with HF's
    meanings and defaults: ``do_lower_case`` (True), ``strip_accents`` (None: strip when
    lowercasing), ``tokenize_chinese_chars`` (True)."""
    strip_accents = tokenizer_config.get("strip_accents")
    return {"lowercase": bool(tokenizer_config.get("do_lower_case", True)),
            "strip_accents": None if strip_accents is None else bool(strip_accents),
            "split_on_cjk": bool(tokenizer_config.get("tokenize_chinese_chars", True))}


def vocabulary_from_tokenizer_json(path, label):
    """The WordPiece vocabulary (tokens in id order) of an HF ``tokenizer.json``."""
    try:
        with open(path, encoding="utf-8") as f:
            model = json.load(f)["model"]
        vocab = model["vocab"]
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise PresetFormatError(f"{label}: no WordPiece vocabulary in it ({error})") from error
    if model.get("type") not in (None, "WordPiece") or not isinstance(vocab, dict):
        raise PresetFormatError(f"{label}: the tokenizer model is {model.get('type')!r}, not "
                                "WordPiece")
    tokens = sorted(vocab, key=vocab.get)
    if [vocab[t] for t in tokens] != list(range(len(tokens))):
        raise PresetFormatError(f"{label}: the vocabulary ids are not 0..{len(tokens) - 1}")
    return tokens


# =============================================================================== tensors
class ArrayCheckpoint:
    """Tensors already in memory, ``{name: array}`` (e.g. a torch state dict converted with
    ``{k: v.detach().numpy() for k, v in model.state_dict().items()}``), with the interface of
    ``SafetensorsCheckpoint``, so ``load_weights`` copies a live HF model."""

    def __init__(self, tensors):
        self._tensors = tensors

    def keys(self):
        return list(self._tensors)

    def shape(self, key):
        return tuple(self._tensors[key].shape)

    def get(self, key):
        return np.array(self._tensors[key])     # a fresh array: load_weights may keep it


class SafetensorsCheckpoint:
    """The tensors of ``model.safetensors`` or of the shards an index lists, memory-mapped.

    ``keys()`` lists every tensor name; ``shape(key)``; ``get(key)`` reads one as numpy;
    ``filenames`` names the files read (the index first, if any, then the weight files).
    Opening checks every file's header, so a truncated or corrupt file fails here, by name.
    """

    def __init__(self, source):
        from safetensors import SafetensorError, safe_open
        self.source = source
        self._files = {}                # filename -> open handle
        self._where = {}                # tensor name -> filename
        if source.exists(SAFETENSORS_INDEX_FILE):
            label = f"{source.description}/{SAFETENSORS_INDEX_FILE}"
            try:
                with open(source.get_file(SAFETENSORS_INDEX_FILE), encoding="utf-8") as f:
                    weight_map = json.load(f)["weight_map"]
                items = list(weight_map.items())
            except (ValueError, KeyError, TypeError, AttributeError) as error:
                raise PresetFormatError(f"{label}: not a valid safetensors index (expected "
                                        f"JSON with a 'weight_map'): {error}") from error
            for name, filename in items:
                self._where[name] = check_relative_path(filename, f"{label} shard name")
            filenames = sorted(set(self._where.values()))
            self.filenames = [SAFETENSORS_INDEX_FILE] + filenames
        elif source.exists(SAFETENSORS_FILE):
            filenames = self.filenames = [SAFETENSORS_FILE]
        else:
            raise _no_safetensors_error(source)
        try:
            for filename in filenames:
                path = source.get_file(filename)
                try:
                    handle = safe_open(path, framework="numpy")
                except (SafetensorError, OSError) as error:
                    raise PresetFormatError(
                        f"{source.description}/{filename}: not a readable safetensors file "
                        f"({error}). It is truncated or corrupt: delete it (or the cached "
                        "copy) and download or save it again.") from error
                self._files[filename] = handle
                if len(filenames) == 1 and not self._where:
                    self._where = {k: filename for k in handle.keys()}
                else:
                    listed = {k for k, v in self._where.items() if v == filename}
                    absent = sorted(listed - set(handle.keys()))
                    if absent:
                        raise PresetFormatError(
                            f"{source.description}/{filename}: the index says it holds "
                            f"tensors it does not have:" + _listing(absent))
        except BaseException:
            self.close()
            raise

    def keys(self):
        return list(self._where)

    def shape(self, key):
        return tuple(self._files[self._where[key]].get_slice(key).get_shape())

    def get(self, key):
        filename = self._where[key]
        try:
            return self._files[filename].get_tensor(key)
        except Exception as error:
            raise PresetFormatError(f"{self.source.description}/{filename}: cannot read tensor "
                                    f"{key!r} ({error})") from error

    def close(self):
        for handle in self._files.values():
            exit_ = getattr(handle, "__exit__", None)
            if exit_ is not None:
                try:
                    exit_(None, None, None)
                except Exception:
                    pass
        self._files = {}

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def _no_safetensors_error(source):
    for name in _PICKLE_FILES:
        if source.exists(name):
            return PresetFileNotFoundError(
                f"{source.description} has {name} but no {SAFETENSORS_FILE}. {name} is a "
                "pickle, which can run arbitrary code when loaded, so minibert never reads it. "
                "Convert it once to safetensors with transformers (which loads .bin files "
                "with torch.load(weights_only=True)):\n"
                "    python -c \"from transformers import AutoModelForMaskedLM as M; "
                "M.from_pretrained('IN_DIR').save_pretrained('OUT_DIR')\"\n"
                "(use AutoModelForSequenceClassification for a classifier, AutoModel for a "
                "bare encoder); save_pretrained writes model.safetensors. Then load OUT_DIR.")
    for name in _OTHER_FORMATS:
        if source.exists(name):
            return PresetFileNotFoundError(
                f"{source.description} has {name} but no {SAFETENSORS_FILE}; minibert reads "
                "safetensors only. Convert with transformers (from_pretrained(..., "
                "from_tf=True / from_flax=True) then save_pretrained).")
    return PresetFileNotFoundError(f"{source.description}: neither {SAFETENSORS_FILE} nor "
                                   f"{SAFETENSORS_INDEX_FILE} is there")


# Transforms: (name, HF shape for a given minibert shape, HF array -> minibert array).
def _copy_shape(shape):
    return shape


def _transpose_shape(shape):
    return shape[::-1]


def _qkv_kernel_shape(shape):          # minibert (H, nh, hd) <- HF (nh*hd, H)
    return (shape[1] * shape[2], shape[0])


def _qkv_bias_shape(shape):            # minibert (nh, hd) <- HF (nh*hd,)
    return (shape[0] * shape[1],)


def _out_kernel_shape(shape):          # minibert (nh, hd, H) <- HF (H, nh*hd)
    return (shape[2], shape[0] * shape[1])


TRANSFORMS = {
    "copy": (_copy_shape, lambda a, shape: a),
    "transpose": (_transpose_shape, lambda a, shape: a.T),
    "qkv_kernel": (_qkv_kernel_shape, lambda a, shape: a.T.reshape(shape)),
    "qkv_bias": (_qkv_bias_shape, lambda a, shape: a.reshape(shape)),
    "out_kernel": (_out_kernel_shape, lambda a, shape: a.T.reshape(shape)),
}


def _ln(prefix):
    """A LayerNorm's two keys; ``*`` stands for weight|gamma and bias|beta."""
    return ((f"{prefix}.weight|{prefix}.gamma", "copy"),
            (f"{prefix}.bias|{prefix}.beta", "copy"))


def weight_table(kind, num_layers, task_kind=None):
    """{minibert variable path: (HF key alternatives "a|b", transform name)}.

    Backbone keys are relative to the backbone prefix (``bert.``, ``distilbert.``, or none);
    head keys (``cls.``, ``classifier.``, ``pre_classifier.``, ``vocab_*``) are absolute."""
    table = {}

    def put(path, key, transform="copy"):
        table[path] = (key, transform)

    def put_ln(path, prefix):
        (g, _), (b, _) = _ln(prefix)
        put(f"{path}/gamma", g)
        put(f"{path}/beta", b)

    if kind == "bert":
        put("token_embedding/embeddings", "embeddings.word_embeddings.weight")
        put("position_embedding/embeddings", "embeddings.position_embeddings.weight")
        put("segment_embedding/embeddings", "embeddings.token_type_embeddings.weight")
        put_ln("embeddings_layer_norm", "embeddings.LayerNorm")
        for i in range(num_layers):
            p, h = f"transformer_layer_{i}", f"encoder.layer.{i}"
            a = f"{p}/self_attention_layer"
            for ours, theirs in (("query", "query"), ("key", "key"), ("value", "value")):
                put(f"{a}/{ours}/kernel", f"{h}.attention.self.{theirs}.weight", "qkv_kernel")
                put(f"{a}/{ours}/bias", f"{h}.attention.self.{theirs}.bias", "qkv_bias")
            put(f"{a}/attention_output/kernel", f"{h}.attention.output.dense.weight",
                "out_kernel")
            put(f"{a}/attention_output/bias", f"{h}.attention.output.dense.bias")
            put_ln(f"{p}/self_attention_layer_norm", f"{h}.attention.output.LayerNorm")
            put(f"{p}/feedforward_intermediate_dense/kernel", f"{h}.intermediate.dense.weight",
                "transpose")
            put(f"{p}/feedforward_intermediate_dense/bias", f"{h}.intermediate.dense.bias")
            put(f"{p}/feedforward_output_dense/kernel", f"{h}.output.dense.weight", "transpose")
            put(f"{p}/feedforward_output_dense/bias", f"{h}.output.dense.bias")
            put_ln(f"{p}/feedforward_layer_norm", f"{h}.output.LayerNorm")
        put("pooled_dense/kernel", "pooler.dense.weight", "transpose")
        put("pooled_dense/bias", "pooler.dense.bias")
    elif kind == "distil_bert":
        e = "token_and_position_embedding"
        put(f"{e}/token_embedding/embeddings", "embeddings.word_embeddings.weight")
        put(f"{e}/position_embedding/embeddings", "embeddings.position_embeddings.weight")
        put_ln("embeddings_layer_norm", "embeddings.LayerNorm")
        for i in range(num_layers):
            p, h = f"transformer_layer_{i}", f"transformer.layer.{i}"
            a = f"{p}/self_attention_layer"
            for ours, theirs in (("query", "q_lin"), ("key", "k_lin"), ("value", "v_lin")):
                put(f"{a}/{ours}/kernel", f"{h}.attention.{theirs}.weight", "qkv_kernel")
                put(f"{a}/{ours}/bias", f"{h}.attention.{theirs}.bias", "qkv_bias")
            put(f"{a}/attention_output/kernel", f"{h}.attention.out_lin.weight", "out_kernel")
            put(f"{a}/attention_output/bias", f"{h}.attention.out_lin.bias")
            put_ln(f"{p}/self_attention_layer_norm", f"{h}.sa_layer_norm")
            put(f"{p}/feedforward_intermediate_dense/kernel", f"{h}.ffn.lin1.weight",
                "transpose")
            put(f"{p}/feedforward_intermediate_dense/bias", f"{h}.ffn.lin1.bias")
            put(f"{p}/feedforward_output_dense/kernel", f"{h}.ffn.lin2.weight", "transpose")
            put(f"{p}/feedforward_output_dense/bias", f"{h}.ffn.lin2.bias")
            put_ln(f"{p}/feedforward_layer_norm", f"{h}.output_layer_norm")
    else:
        raise ValueError(f"backbone kind: expected 'bert' or 'distil_bert', got {kind!r}")
    heads = {}
    if task_kind == "masked_lm" and kind == "bert":
        heads = {"mlm_head/intermediate_dense/kernel":
                 ("cls.predictions.transform.dense.weight", "transpose"),
                 "mlm_head/intermediate_dense/bias": ("cls.predictions.transform.dense.bias",
                                                      "copy"),
                 "mlm_head/output_bias": ("cls.predictions.bias|cls.predictions.decoder.bias",
                                          "copy")}
        (g, _), (b, _) = _ln("cls.predictions.transform.LayerNorm")
        heads["mlm_head/intermediate_layer_norm/gamma"] = (g, "copy")
        heads["mlm_head/intermediate_layer_norm/beta"] = (b, "copy")
    elif task_kind == "masked_lm":
        heads = {"mlm_head/intermediate_dense/kernel": ("vocab_transform.weight", "transpose"),
                 "mlm_head/intermediate_dense/bias": ("vocab_transform.bias", "copy"),
                 "mlm_head/output_bias": ("vocab_projector.bias", "copy")}
        (g, _), (b, _) = _ln("vocab_layer_norm")
        heads["mlm_head/intermediate_layer_norm/gamma"] = (g, "copy")
        heads["mlm_head/intermediate_layer_norm/beta"] = (b, "copy")
    elif task_kind == "text_classifier":
        heads = {"logits/kernel": ("classifier.weight", "transpose"),
                 "logits/bias": ("classifier.bias", "copy")}
        if kind == "distil_bert":
            heads["pooled_dense/kernel"] = ("pre_classifier.weight", "transpose")
            heads["pooled_dense/bias"] = ("pre_classifier.bias", "copy")
    return table, heads


#: Tensors a checkpoint may hold that are not weights minibert needs: buffers, and the
#: decoder matrices tied to the token embeddings.
_BUFFER_SUFFIXES = ("position_ids", "token_type_ids")
_TIED_KEYS = ("cls.predictions.decoder.weight", "vocab_projector.weight")


def _backbone_prefix(keys, anchor, label):
    """The prefix in front of the backbone's keys ("", "bert.", "distilbert.", ...)."""
    if anchor in keys:
        return ""
    prefixes = sorted({k[:-len(anchor)] for k in keys if k.endswith("." + anchor)}, key=len)
    if not prefixes:
        raise WeightMismatchError(f"{label}: no tensor named like '{anchor}' (with any prefix);"
                                  " this is not a BERT / DistilBERT checkpoint of the expected "
                                  "model_type")
    return prefixes[0]


def _pick(alternatives, prefix, keys):
    for key in alternatives.split("|"):
        if prefix + key in keys:
            return prefix + key
    return None


def load_weights(variables, checkpoint, kind, num_layers, task_kind, label,
                 load_heads=True):
    """Read the checkpoint's tensors into ``variables`` (a model's ``weights``).

    Every backbone weight must be there, except BERT's pooler, which ``*ForMaskedLM``
    checkpoints do not have (left as initialised, with a warning unless the model is a
    masked LM, which does not use it). Head weights are loaded when ``load_heads`` and the
    checkpoint has them, else left as initialised with a warning. Returns
    ``{"loaded", "unused", "initialised"}`` (lists of names)."""
    by_path = variables_by_path(variables)
    keys = set(checkpoint.keys())
    backbone_table, head_table = weight_table(kind, num_layers, task_kind)
    prefix = _backbone_prefix(keys, "embeddings.word_embeddings.weight", label)
    plan, missing, initialised = {}, [], []
    for path in by_path:
        if path in backbone_table:
            alternatives, transform = backbone_table[path]
            key = _pick(alternatives, prefix, keys)
        elif path in head_table:
            alternatives, transform = head_table[path]
            key = _pick(alternatives, "", keys) if load_heads else None
            if key is None:
                initialised.append(path)
                continue
        else:
            raise WeightMismatchError(f"{label}: the model has a weight {path!r} that no HF "
                                      "tensor maps to")
        if key is None:
            if path.startswith("pooled_dense/") and kind == "bert":
                initialised.append(path)
                continue
            names = " or ".join(prefix + a for a in alternatives.split("|"))
            missing.append(f"{path} (HF tensor {names})")
            continue
        plan[path] = (key, transform)
    wrong = []
    for path, (key, transform) in plan.items():
        expected = TRANSFORMS[transform][0](by_path[path].shape)
        seen = checkpoint.shape(key)
        if tuple(seen) != tuple(expected):
            wrong.append(f"{key} -> {path}: expected HF shape {tuple(expected)} (for minibert "
                         f"{by_path[path].shape}), seen {tuple(seen)}")
    if missing or wrong:
        raise WeightMismatchError(
            f"{label}: the checkpoint does not fit the model."
            + ("\ntensors of the wrong shape:" + _listing(wrong) if wrong else "")
            + ("\ntensors missing from the checkpoint:" + _listing(missing) if missing else ""))
    for path, (key, transform) in plan.items():
        value = np.asarray(checkpoint.get(key))
        # get() returned a fresh array, so the variable may keep it (or its transform).
        by_path[path].assign(TRANSFORMS[transform][1](value, by_path[path].shape), copy=False)

    used = {key for key, _ in plan.values()}
    unused = []
    for key in sorted(keys - used):
        if key.endswith(_BUFFER_SUFFIXES):
            continue
        if key in _TIED_KEYS:
            _check_tied(checkpoint, key, prefix, label)
            continue
        if key == "cls.predictions.decoder.bias" and "cls.predictions.bias" in used:
            continue
        unused.append(key)
    if unused:
        preset_warning(f"{label}: tensors in the checkpoint that this model does not use:"
                      + _listing(unused))
    heads_initialised = [p for p in initialised if p in head_table]
    pooler_initialised = [p for p in initialised if p not in head_table]
    if heads_initialised and load_heads:
        preset_warning(f"{label}: the checkpoint has no weights for the task head; these are "
                      "randomly initialised:" + _listing(heads_initialised))
    if pooler_initialised and task_kind != "masked_lm":
        preset_warning(f"{label}: the checkpoint has no pooler (pooler.dense.*), as HF masked-LM "
                      "checkpoints do not; pooled_dense is randomly initialised, so "
                      "pooled_output is meaningless until trained")
    return {"loaded": sorted(plan), "unused": unused, "initialised": initialised}


def _check_tied(checkpoint, key, prefix, label):
    """A saved decoder matrix must equal the token embeddings (minibert always ties them)."""
    embeddings_key = prefix + "embeddings.word_embeddings.weight"
    if embeddings_key in checkpoint.keys() and checkpoint.shape(key) == checkpoint.shape(
            embeddings_key):
        if np.array_equal(checkpoint.get(key), checkpoint.get(embeddings_key)):
            return
    preset_warning(f"{label}: {key} is not tied to the token embeddings in this checkpoint; "
                  "minibert ties the output projection to the token embeddings, so this "
                  "matrix is ignored and the logits will differ from the checkpoint's model")


def classifier_classes(checkpoint, hf_config):
    """The number of classes of a checkpoint's classifier head, or None if it has none."""
    if "classifier.weight" in checkpoint.keys():
        return checkpoint.shape("classifier.weight")[0]
    return None
