"""``from_preset``: build a backbone, task, tokenizer or preprocessor from a preset.

The model classes' ``from_preset`` classmethods call these functions::

    load_backbone(cls, preset, load_weights=True, **kwargs)
    load_task(cls, preset, load_weights=True, **kwargs)
    load_tokenizer(cls, preset, config_file="tokenizer.json", **kwargs)
    load_preprocessor(cls, preset, config_file="preprocessor.json", **kwargs)
    download_preset(preset)      every file those read, fetched into the cache

``preset`` is anything ``handles.resolve`` accepts. Its ``config.json`` tells the format:
``registered_name`` means a KerasHub preset, ``model_type`` an HF model directory.

KerasHub's rules, kept here:

- The class comes from the preset. ``Backbone.from_preset`` (or ``MaskedLM``, ``Tokenizer``,
  ...) on a base class returns the subclass that fits the preset's backbone; a class that
  does not fit (``BertBackbone.from_preset`` of a DistilBERT preset) is an error.
- ``**kwargs`` override the saved config (``dropout=0.0``, ``dtype="bfloat16"``, ...).
- ``load_weights=False`` builds the architecture with fresh random weights.
- A task whose class matches the preset's ``task.json`` is rebuilt from it with its head
  weights (``task.weights.h5``); otherwise (or with ``num_classes`` passed) it is built from
  the backbone and the preprocessor with a new, randomly initialised head.
- A float dtype saved in the preset is not imposed: the model gets the global dtype policy
  unless ``dtype`` is passed.
"""
import copy
import inspect

from minibert.layers import initializers
from minibert.presets import handles, hf_format, registry
from minibert.presets import keras_format as kf
from minibert.presets.errors import (PresetError, PresetFileNotFoundError, PresetFormatError,
                                     preset_warning)
from minibert.presets.weights import assign_arrays, task_only_variables

_FLOAT_POLICIES = ("float16", "float32", "float64", "bfloat16", "mixed_float16",
                   "mixed_bfloat16")


# =============================================================================== entry points
def load_backbone(cls, preset, load_weights=True, **kwargs):
    """A backbone from ``preset``; ``cls`` must be the preset's backbone class or a base of
    it (``Backbone``)."""
    loader = open_preset(preset)
    found = loader.backbone_class()
    if not issubclass(found, cls):
        raise PresetError(
            f"{cls.__name__}.from_preset({preset!r}): the preset holds a {found.__name__}, "
            f"which is not a {cls.__name__}. Call {found.__name__}.from_preset (or "
            "Backbone.from_preset) instead.")
    with initializers.deferred_initialization(load_weights):
        backbone = loader.load_backbone(found, load_weights, dict(kwargs))
    initializers.initialize_unset(backbone)
    return backbone


def load_task(cls, preset, load_weights=True, **kwargs):
    """A task from ``preset``; a base class (``MaskedLM``, ``TextClassifier``) resolves to the
    subclass for the preset's backbone. Passing ``num_classes`` never loads task weights."""
    if registry.is_base(cls, "Task"):
        raise PresetError("Task.from_preset() is ambiguous: call it on a task class, e.g. "
                          "MaskedLM.from_preset() or TextClassifier.from_preset().")
    loader = open_preset(preset)
    cls = registry.find_subclass(cls, loader.backbone_class(), preset)
    _check_task_arguments(cls, loader.backbone_class(), preset, kwargs)
    load_task_weights = "num_classes" not in kwargs
    with initializers.deferred_initialization(load_weights):
        task = loader.load_task(cls, load_weights, load_task_weights, dict(kwargs))
    initializers.initialize_unset(task)        # a new head, or weights the file did not hold
    return task


def load_tokenizer(cls, preset, config_file=kf.TOKENIZER_CONFIG_FILE, **kwargs):
    """A tokenizer (with its vocabulary) from ``preset``."""
    loader = open_preset(preset)
    cls = registry.find_subclass(cls, loader.backbone_class(), preset)
    return loader.load_tokenizer(cls, config_file, dict(kwargs))


def load_preprocessor(cls, preset, config_file=kf.PREPROCESSOR_CONFIG_FILE, **kwargs):
    """A preprocessor (with its tokenizer) from ``preset``."""
    if registry.is_base(cls, "Preprocessor"):
        raise PresetError("Preprocessor.from_preset() is ambiguous: call it on a preprocessor "
                          "class, e.g. BertMaskedLMPreprocessor.from_preset().")
    loader = open_preset(preset)
    cls = registry.find_subclass(cls, loader.backbone_class(), preset)
    return loader.load_preprocessor(cls, config_file, dict(kwargs))


def download_preset(preset):
    """Fetch every file ``from_preset`` reads for ``preset`` into the cache, so that it loads
    offline later (``MINIBERT_OFFLINE=1``).

    The required files (config.json and the backbone weights, every shard of them) must
    exist; the optional ones (task, preprocessor, tokenizer, vocabulary) are fetched when the
    preset has them. For a local directory or a preset shipped with minibert nothing is
    fetched: the files present are reported.

    Returns {file name in the preset: local path}, config.json first. Raises what loading
    raises: PresetError for an unknown name, PresetFileNotFoundError for a missing required
    file (offline: one not in the cache), DownloadError when the network fails.
    """
    loader = open_preset(preset)
    return {name: loader.source.get_file(name) for name in loader.files()}


def open_preset(preset):
    """The loader for ``preset``'s format (KerasPresetLoader or HFPresetLoader)."""
    source = handles.resolve(preset)
    try:
        config_path = source.get_file(kf.CONFIG_FILE)
    except FileNotFoundError as error:
        raise PresetFileNotFoundError(
            f"{source.description}: no {kf.CONFIG_FILE} ({error}). A preset is a KerasHub "
            "preset directory (config.json, model.weights.h5, ...) or an HF model directory "
            "(config.json, model.safetensors, vocab.txt).") from error
    label = f"{source.description}/{kf.CONFIG_FILE}"
    config = kf.read_json(config_path, label)
    if not isinstance(config, dict):
        raise PresetFormatError(f"{label}: expected a JSON object")
    if "registered_name" in config or ("class_name" in config and "config" in config):
        return KerasPresetLoader(source, config)
    if "model_type" in config:
        return HFPresetLoader(source, config)
    raise PresetFormatError(
        f"{label}: unrecognised format: neither a KerasHub config (with 'registered_name') nor "
        "an HF config (with 'model_type'). Keys seen: " + ", ".join(sorted(config)))


def _check_task_arguments(cls, backbone_cls, preset, kwargs):
    """Refuse, with the way to do it, an argument that only the backbone takes: a task's
    ``from_preset`` does not pass backbone arguments on (as in KerasHub)."""
    misplaced = sorted(set(kwargs) & (_init_arguments(backbone_cls) - _init_arguments(cls)))
    if misplaced:
        raise TypeError(
            f"{cls.__name__}.from_preset(): {', '.join(misplaced)} "
            f"{'is an argument' if len(misplaced) == 1 else 'are arguments'} of the backbone "
            f"({backbone_cls.__name__}), not of the task, and a task's from_preset does not "
            "pass backbone arguments on. Build the backbone with them, then give it to the "
            "task:\n"
            f"    backbone = {backbone_cls.__name__}.from_preset({preset!r}, "
            f"{', '.join(f'{name}=...' for name in misplaced)})\n"
            f"    task = {cls.__name__}.from_preset({preset!r}, backbone=backbone)")


def _init_arguments(cls):
    """The names of the arguments ``cls(...)`` accepts by keyword, along its bases."""
    names = set()
    for klass in cls.__mro__:
        init = vars(klass).get("__init__")
        if init is not None:
            names.update(name for name, parameter in inspect.signature(init).parameters.items()
                         if parameter.kind in (parameter.POSITIONAL_OR_KEYWORD,
                                               parameter.KEYWORD_ONLY))
    return names


def _resolve_dtype(saved, requested):
    """KerasHub's rule: a requested dtype wins; a saved float policy yields to the global one."""
    if requested is not None:
        return requested
    name = saved.get("config", {}).get("name") if isinstance(saved, dict) else saved
    if name is None or name in _FLOAT_POLICIES:
        return None
    return saved


def _vocabulary_file(tokenizer_config_file):
    """Where a KerasHub preset keeps the vocabulary of the tokenizer saved as
    ``tokenizer_config_file``: ``tokenizer.json`` -> ``assets/tokenizer/vocabulary.txt``."""
    return f"assets/{tokenizer_config_file.split('.')[0]}/{kf.VOCABULARY_FILE}"


def _warn_random_head(cls, source):
    if registry.task_kind(cls) == "masked_lm":
        preset_warning(f"{source.description} has no {cls.__name__} task (no task.json for it): "
                      "the mlm_head is randomly initialised; only the backbone is pretrained")


# =============================================================================== KerasHub
class KerasPresetLoader:
    """A KerasHub preset directory (see ``keras_format``)."""

    def __init__(self, source, config):
        self.source = source
        self.config = config

    def label(self, filename):
        return f"{self.source.description}/{filename}"

    def _json(self, filename):
        return kf.read_json(self.source.get_file(filename), self.label(filename))

    def backbone_class(self):
        cls = registry.class_from_serialized(self.config, self.label(kf.CONFIG_FILE))
        registry.backbone_kind(cls)                       # a backbone, not some other class
        return cls

    # -------------------------------------------------------------------------- backbone
    def _build_backbone(self, serialized, kwargs, label):
        cls, config = kf.deserialize_config(serialized, label)
        requested = kwargs.pop("dtype", None)
        config.update(kwargs)
        config["dtype"] = _resolve_dtype(config.get("dtype"), requested)
        return cls.from_config(config)

    def load_backbone(self, cls, load_weights, kwargs):
        backbone = self._build_backbone(self.config, kwargs, self.label(kf.CONFIG_FILE))
        if load_weights:
            self.load_backbone_weights(backbone)
        return backbone

    def backbone_weight_files(self):
        """The names of the backbone's weight files: [model.weights.h5], or
        [model.weights.json, shard, ...] (the shards it lists)."""
        if self.source.exists(kf.MODEL_WEIGHTS_FILE):
            return [kf.MODEL_WEIGHTS_FILE]
        if self.source.exists(kf.SHARDED_WEIGHTS_CONFIG_FILE):
            return [kf.SHARDED_WEIGHTS_CONFIG_FILE] + kf.sharded_filenames(
                self.source.get_file(kf.SHARDED_WEIGHTS_CONFIG_FILE),
                self.label(kf.SHARDED_WEIGHTS_CONFIG_FILE))
        raise PresetFileNotFoundError(
            f"{self.source.description}: no backbone weights ({kf.MODEL_WEIGHTS_FILE}, or "
            f"{kf.SHARDED_WEIGHTS_CONFIG_FILE} with its shards). Pass load_weights=False "
            "for a randomly initialised model.")

    def files(self):
        """The names of every file of the preset this loader reads: config.json and the
        backbone weights (an error if missing), then whichever of the task, preprocessor,
        tokenizer and vocabulary files the preset has."""
        optional = (kf.TASK_CONFIG_FILE, kf.TASK_WEIGHTS_FILE, kf.PREPROCESSOR_CONFIG_FILE,
                    kf.TOKENIZER_CONFIG_FILE, _vocabulary_file(kf.TOKENIZER_CONFIG_FILE))
        return [kf.CONFIG_FILE, *self.backbone_weight_files(),
                *(name for name in optional if self.source.exists(name))]

    def load_backbone_weights(self, backbone):
        kind = registry.backbone_kind(backbone)
        layout = kf.backbone_layout(kind, int(backbone.get_config()["num_layers"]))
        names = self.backbone_weight_files()
        label = self.label(names[0])                     # the weights file, or the index
        files = [(self.source.get_file(n), self.label(n)) for n in names
                 if n != kf.SHARDED_WEIGHTS_CONFIG_FILE]
        with kf._H5Files(files) as h5files:
            arrays = kf.read_layout(h5files, layout, label)
        assign_arrays(backbone.weights, arrays, label, names=kf.weight_map(layout))

    # -------------------------------------------------------------------------- task
    def load_task(self, cls, load_weights, load_task_weights, kwargs):
        task_config = None
        if self.source.exists(kf.TASK_CONFIG_FILE):
            task_config = self._json(kf.TASK_CONFIG_FILE)
            task_cls = registry.class_from_serialized(task_config,
                                                      self.label(kf.TASK_CONFIG_FILE))
            if not issubclass(task_cls, cls):
                task_config = None
        if task_config is None:
            return self._task_from_backbone(cls, load_weights, kwargs)
        label = self.label(kf.TASK_CONFIG_FILE)
        config = copy.deepcopy(task_config.get("config") or {})
        backbone_kwargs = {"dtype": kwargs.pop("dtype")} if "dtype" in kwargs else {}
        if "backbone" in kwargs:
            backbone = kwargs.pop("backbone")
        elif isinstance(config.get("backbone"), dict):
            backbone = self._build_backbone(config["backbone"], backbone_kwargs, label)
        else:
            raise PresetFormatError(f"{label}: the task config has no 'backbone'")
        if "preprocessor" in kwargs:
            preprocessor = kwargs.pop("preprocessor")
        elif isinstance(config.get("preprocessor"), dict):
            preprocessor = self._build_preprocessor(config["preprocessor"], {}, label)
        else:
            preprocessor = None
        rest = {k: v for k, v in config.items() if k not in ("backbone", "preprocessor")}
        rest.update(kwargs)
        task = task_cls(backbone=backbone, preprocessor=preprocessor, **rest)
        if load_weights:
            self.load_backbone_weights(task.backbone)
            if load_task_weights:
                self.load_task_weights(task)
        return task

    def _task_from_backbone(self, cls, load_weights, kwargs):
        """KerasHub's fallback: the preset's backbone, the class's default preprocessor and a
        new head. A preset with no tokenizer at all gives a task without a preprocessor."""
        if registry.task_kind(cls) == "text_classifier" and "num_classes" not in kwargs:
            raise PresetError(f"{cls.__name__}.from_preset({self.source.description!r}): the "
                              f"preset has no {cls.__name__} task, so num_classes must be "
                              "passed")
        if "backbone" not in kwargs:
            backbone_kwargs = {"dtype": kwargs.pop("dtype")} if "dtype" in kwargs else {}
            kwargs["backbone"] = self.load_backbone(self.backbone_class(), load_weights,
                                                    backbone_kwargs)
        preprocessor_cls = registry.preprocessor_of(cls)
        if "preprocessor" not in kwargs and preprocessor_cls is not None:
            if (self.source.exists(kf.PREPROCESSOR_CONFIG_FILE)
                    or self.source.exists(kf.TOKENIZER_CONFIG_FILE)):
                kwargs["preprocessor"] = self.load_preprocessor(
                    preprocessor_cls, kf.PREPROCESSOR_CONFIG_FILE, {})
            else:
                preset_warning(f"{self.source.description} has no tokenizer (no "
                               f"{kf.TOKENIZER_CONFIG_FILE}): the {cls.__name__} has no "
                               "preprocessor and takes dicts of token ids")
        if load_weights:
            _warn_random_head(cls, self.source)
        return cls(**kwargs)

    def load_task_weights(self, task):
        heads = task_only_variables(task)
        if not heads:
            return
        if not self.source.exists(kf.TASK_WEIGHTS_FILE):
            preset_warning(f"{self.source.description} has no {kf.TASK_WEIGHTS_FILE}: the "
                          f"{type(task).__name__} head is randomly initialised")
            return
        label = self.label(kf.TASK_WEIGHTS_FILE)
        layout = kf.task_layout(registry.task_kind(task), registry.backbone_kind(task.backbone))
        arrays = kf.read_weights_file(self.source.get_file(kf.TASK_WEIGHTS_FILE), layout, label)
        assign_arrays(heads, arrays, label, names=kf.weight_map(layout))

    # -------------------------------------------------------------------------- tokenizer
    def _build_tokenizer(self, serialized, kwargs, label):
        cls, config = kf.deserialize_config(serialized, label, kwargs)
        config_file = config.get("config_file") or kf.TOKENIZER_CONFIG_FILE
        if "vocabulary" not in kwargs:
            config["vocabulary"] = self.source.get_file(_vocabulary_file(config_file))
        return cls.from_config(config)

    def load_tokenizer(self, cls, config_file, kwargs):
        label = self.label(config_file)
        serialized = self._json(config_file)
        found = registry.class_from_serialized(serialized, label)
        if not issubclass(found, cls):
            raise PresetError(f"{label} holds a {found.__name__}, which is not a "
                              f"{cls.__name__}")
        return self._build_tokenizer(serialized, kwargs, label)

    # -------------------------------------------------------------------------- preprocessor
    def _build_preprocessor(self, serialized, kwargs, label):
        cls, config = kf.deserialize_config(serialized, label)
        nested = config.pop("tokenizer", None)
        if "tokenizer" in kwargs:
            tokenizer = kwargs.pop("tokenizer")
        elif isinstance(nested, dict):
            tokenizer = self._build_tokenizer(nested, {}, label)
        else:
            tokenizer = self.load_tokenizer(registry.tokenizer_of(cls),
                                            kf.TOKENIZER_CONFIG_FILE, {})
        config.update(kwargs)
        config["tokenizer"] = tokenizer
        return cls.from_config(config)

    def load_preprocessor(self, cls, config_file, kwargs):
        if self.source.exists(config_file):
            serialized = self._json(config_file)
            found = registry.class_from_serialized(serialized, self.label(config_file))
            if issubclass(found, cls):
                return self._build_preprocessor(serialized, kwargs, self.label(config_file))
        # KerasHub's fallback: the class with default arguments around the preset's tokenizer.
        if "tokenizer" not in kwargs:
            kwargs["tokenizer"] = self.load_tokenizer(registry.tokenizer_of(cls),
                                                      kf.TOKENIZER_CONFIG_FILE, {})
        return cls(**kwargs)


# =============================================================================== HF
class HFPresetLoader:
    """An HF model directory (see ``hf_format``)."""

    def __init__(self, source, config):
        self.source = source
        self.config = config
        self.config_label = f"{source.description}/{hf_format.CONFIG_FILE}"

    def label(self, filename):
        return f"{self.source.description}/{filename}"

    def backbone_class(self):
        return registry.get_class(hf_format.backbone_class_name(self.config, self.config_label))

    def _backbone_kwargs(self, kwargs):
        config = hf_format.backbone_kwargs(self.config, self.config_label)
        config.update(kwargs)
        return config

    def weight_files(self):
        """The names of the safetensors files the weights are read from: model.safetensors,
        or model.safetensors.index.json and every shard it names (each fetched, and its
        header checked)."""
        with hf_format.SafetensorsCheckpoint(self.source) as checkpoint:
            return list(checkpoint.filenames)

    def files(self):
        """The names of every file of the model directory this loader reads: config.json and
        the weights (an error if missing), then whichever of the tokenizer files and
        sentence_bert_config.json the directory has."""
        optional = (hf_format.TOKENIZER_CONFIG_FILE, hf_format.VOCAB_FILE,
                    hf_format.HF_TOKENIZER_FILE, hf_format.SENTENCE_BERT_CONFIG_FILE)
        return [hf_format.CONFIG_FILE, *self.weight_files(),
                *(name for name in optional if self.source.exists(name))]

    def _checkpoint_label(self):
        return f"{self.source.description} (safetensors)"

    def load_backbone(self, cls, load_weights, kwargs):
        backbone = cls(**self._backbone_kwargs(kwargs))
        if load_weights:
            with hf_format.SafetensorsCheckpoint(self.source) as checkpoint:
                hf_format.load_weights(backbone.weights, checkpoint,
                                       registry.backbone_kind(backbone),
                                       int(backbone.get_config()["num_layers"]), None,
                                       self._checkpoint_label())
        return backbone

    def load_task(self, cls, load_weights, load_task_weights, kwargs):
        task_kind = registry.task_kind(cls)
        kind = registry.backbone_kind(self.backbone_class())
        if "backbone" in kwargs:
            backbone = kwargs.pop("backbone")
        else:
            backbone_kwargs = {"dtype": kwargs.pop("dtype")} if "dtype" in kwargs else {}
            backbone = self.backbone_class()(**self._backbone_kwargs(backbone_kwargs))
        if task_kind == "masked_lm":
            kwargs = {**hf_format.masked_lm_kwargs(self.config), **kwargs}
        else:
            if "num_classes" not in kwargs:
                with hf_format.SafetensorsCheckpoint(self.source) as checkpoint:
                    classes = hf_format.classifier_classes(checkpoint, self.config)
                if classes is None:
                    raise PresetError(
                        f"{cls.__name__}.from_preset({self.source.description!r}): the "
                        "checkpoint has no classifier head (classifier.weight), so "
                        "num_classes must be passed")
                kwargs["num_classes"] = classes
            if "dropout" not in kwargs:
                dropout = (self.config.get("classifier_dropout") if kind == "bert"
                           else self.config.get("seq_classif_dropout"))
                if dropout is None and kind == "bert":
                    dropout = self.config.get("hidden_dropout_prob")
                if dropout is not None:
                    kwargs["dropout"] = dropout
        preprocessor_cls = registry.preprocessor_of(cls)
        if "preprocessor" not in kwargs and preprocessor_cls is not None:
            kwargs["preprocessor"] = self.load_preprocessor(preprocessor_cls, None, {})
        task = cls(backbone=backbone, **kwargs)
        if load_weights:
            with hf_format.SafetensorsCheckpoint(self.source) as checkpoint:
                hf_format.load_weights(task.weights, checkpoint, kind,
                                       int(task.backbone.get_config()["num_layers"]), task_kind,
                                       self._checkpoint_label(), load_heads=load_task_weights)
        return task

    def load_tokenizer(self, cls, config_file, kwargs):
        tokenizer_config = {}
        if self.source.exists(hf_format.TOKENIZER_CONFIG_FILE):
            tokenizer_config = kf.read_json(
                self.source.get_file(hf_format.TOKENIZER_CONFIG_FILE),
                self.label(hf_format.TOKENIZER_CONFIG_FILE))
        if "vocabulary" in kwargs:
            vocabulary = kwargs.pop("vocabulary")
        elif self.source.exists(hf_format.VOCAB_FILE):
            vocabulary = self.source.get_file(hf_format.VOCAB_FILE)
        elif self.source.exists(hf_format.HF_TOKENIZER_FILE):
            vocabulary = hf_format.vocabulary_from_tokenizer_json(
                self.source.get_file(hf_format.HF_TOKENIZER_FILE),
                self.label(hf_format.HF_TOKENIZER_FILE))
        else:
            raise PresetFileNotFoundError(
                f"{self.source.description}: no vocabulary ({hf_format.VOCAB_FILE} or a "
                f"WordPiece {hf_format.HF_TOKENIZER_FILE})")
        arguments = {**hf_format.tokenizer_kwargs(tokenizer_config), **kwargs}
        return _hf_tokenizer(cls, vocabulary, arguments)

    def load_preprocessor(self, cls, config_file, kwargs):
        if "sequence_length" not in kwargs and self.source.exists(
                hf_format.SENTENCE_BERT_CONFIG_FILE):
            st_config = kf.read_json(self.source.get_file(hf_format.SENTENCE_BERT_CONFIG_FILE),
                                     self.label(hf_format.SENTENCE_BERT_CONFIG_FILE))
            if st_config.get("max_seq_length"):
                kwargs["sequence_length"] = int(st_config["max_seq_length"])
        if "tokenizer" not in kwargs:
            kwargs["tokenizer"] = self.load_tokenizer(registry.tokenizer_of(cls), None, {})
        return cls(**kwargs)


def _hf_tokenizer(cls, vocabulary, arguments):
    """A tokenizer that splits text as HF's BertTokenizer does (``cls.from_hf``)."""
    from_hf = getattr(cls, "from_hf", None)
    if not callable(from_hf):
        raise PresetError(f"{cls.__name__} has no from_hf constructor: it cannot reproduce "
                          "the HF tokenizer of this checkpoint")
    return from_hf(vocabulary=vocabulary, **arguments)
