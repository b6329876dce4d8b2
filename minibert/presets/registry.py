"""Which classes a preset may name, where they live, and which built-in presets they list.

A KerasHub preset names its classes by ``registered_name`` (``"keras_hub>BertBackbone"``) and
``module`` (``"keras_hub.src.models.bert.bert_backbone"``). minibert mirrors KerasHub's layout,
so each KerasHub class has a minibert twin at the same relative path. The table below is the
whole list: a preset naming any other class is refused (nothing is imported from a name read
out of a file).

Model classes are imported lazily, on first use, so that this module can be imported while
the models are being built (and without import cycles).
"""
import importlib
import os

from minibert.presets.errors import PresetError

# name: (minibert module, KerasHub module, role)
_CLASSES = {
    # base classes
    "Backbone": ("minibert.models.backbone", "keras_hub.src.models.backbone", "backbone"),
    "Task": ("minibert.models.task", "keras_hub.src.models.task", "task"),
    "MaskedLM": ("minibert.models.masked_lm", "keras_hub.src.models.masked_lm", "task"),
    "TextClassifier": ("minibert.models.text_classifier",
                       "keras_hub.src.models.text_classifier", "task"),
    "Tokenizer": ("minibert.tokenizers.tokenizer", "keras_hub.src.tokenizers.tokenizer",
                  "tokenizer"),
    "Preprocessor": ("minibert.models.preprocessor", "keras_hub.src.models.preprocessor",
                     "preprocessor"),
    # BERT
    "BertBackbone": ("minibert.models.bert.bert_backbone",
                     "keras_hub.src.models.bert.bert_backbone", "backbone"),
    "BertMaskedLM": ("minibert.models.bert.bert_masked_lm",
                     "keras_hub.src.models.bert.bert_masked_lm", "task"),
    "BertTextClassifier": ("minibert.models.bert.bert_text_classifier",
                           "keras_hub.src.models.bert.bert_text_classifier", "task"),
    "BertTokenizer": ("minibert.models.bert.bert_tokenizer",
                      "keras_hub.src.models.bert.bert_tokenizer", "tokenizer"),
    "BertMaskedLMPreprocessor": ("minibert.models.bert.bert_masked_lm_preprocessor",
                                 "keras_hub.src.models.bert.bert_masked_lm_preprocessor",
                                 "preprocessor"),
    "BertTextClassifierPreprocessor": (
        "minibert.models.bert.bert_text_classifier_preprocessor",
        "keras_hub.src.models.bert.bert_text_classifier_preprocessor", "preprocessor"),
    # DistilBERT
    "DistilBertBackbone": ("minibert.models.distil_bert.distil_bert_backbone",
                           "keras_hub.src.models.distil_bert.distil_bert_backbone", "backbone"),
    "DistilBertMaskedLM": ("minibert.models.distil_bert.distil_bert_masked_lm",
                           "keras_hub.src.models.distil_bert.distil_bert_masked_lm", "task"),
    "DistilBertTextClassifier": (
        "minibert.models.distil_bert.distil_bert_text_classifier",
        "keras_hub.src.models.distil_bert.distil_bert_text_classifier", "task"),
    "DistilBertTokenizer": ("minibert.models.distil_bert.distil_bert_tokenizer",
                            "keras_hub.src.models.distil_bert.distil_bert_tokenizer",
                            "tokenizer"),
    "DistilBertMaskedLMPreprocessor": (
        "minibert.models.distil_bert.distil_bert_masked_lm_preprocessor",
        "keras_hub.src.models.distil_bert.distil_bert_masked_lm_preprocessor", "preprocessor"),
    "DistilBertTextClassifierPreprocessor": (
        "minibert.models.distil_bert.distil_bert_text_classifier_preprocessor",
        "keras_hub.src.models.distil_bert.distil_bert_text_classifier_preprocessor",
        "preprocessor"),
}

#: Names an older file may use for a class (KerasHub aliases and the keras-nlp era).
_ALIASES = {"BertClassifier": "BertTextClassifier",
            "DistilBertClassifier": "DistilBertTextClassifier",
            "BertPreprocessor": "BertTextClassifierPreprocessor",
            "DistilBertPreprocessor": "DistilBertTextClassifierPreprocessor"}
_REGISTERED_PREFIXES = ("keras_hub>", "keras_nlp>")
#: Abstract bases: a preset never names them, ``from_preset`` on them infers the subclass.
BASE_NAMES = frozenset({"Backbone", "Task", "MaskedLM", "TextClassifier", "Tokenizer",
                        "Preprocessor"})

#: The backbone kind of each concrete backbone class: it picks the weight layouts.
BACKBONE_KINDS = {"BertBackbone": "bert", "DistilBertBackbone": "distil_bert"}
#: The task kind of each task base class.
TASK_KINDS = {"MaskedLM": "masked_lm", "TextClassifier": "text_classifier"}

_PRESET_MODULES = {"BertBackbone": "minibert.models.bert.bert_presets",
                   "DistilBertBackbone": "minibert.models.distil_bert.distil_bert_presets"}


def get_class(name):
    """The minibert class called ``name`` (a KerasHub class name), imported now."""
    name = _ALIASES.get(name, name)
    if name not in _CLASSES:
        raise PresetError(f"unknown class {name!r}: minibert knows only "
                          f"{', '.join(sorted(_CLASSES))}")
    module_name = _CLASSES[name][0]
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as error:
        if error.name != module_name:
            raise
        raise PresetError(f"class {name} is not available: module {module_name} "
                          "cannot be imported") from error
    return getattr(module, name)


def class_from_serialized(config, filename):
    """The class a serialized object (``{"class_name", "registered_name", ...}``) names."""
    if not isinstance(config, dict) or "class_name" not in config:
        raise PresetError(f"{filename}: expected a serialized object with 'class_name' and "
                          f"'registered_name', got {str(config)[:200]}")
    registered = config.get("registered_name") or ""
    name = config["class_name"]
    for prefix in _REGISTERED_PREFIXES:
        if registered.startswith(prefix):
            name = registered[len(prefix):]
    if _ALIASES.get(name, name) not in _CLASSES:
        raise PresetError(f"{filename} names class {registered or name!r}, which minibert does "
                          f"not implement; known classes: "
                          f"{', '.join(sorted(n for n in _CLASSES))}")
    return get_class(name)


def known_name(cls):
    """The KerasHub name of ``cls`` or of its nearest known base class."""
    for klass in cls.__mro__:
        if klass.__name__ in _CLASSES and klass.__module__ == _CLASSES[klass.__name__][0]:
            return klass.__name__
    return None


def keras_hub_identity(obj):
    """``(module, class_name, registered_name)`` KerasHub writes for ``obj`` (or a class)."""
    cls = obj if isinstance(obj, type) else type(obj)
    name = known_name(cls)
    if name is None or name in BASE_NAMES:
        raise PresetError(f"{cls.__name__} cannot be written as a KerasHub preset: it is not "
                          f"one of (or a subclass of) {', '.join(_concrete_names())}")
    return _CLASSES[name][1], name, f"keras_hub>{name}"


def _concrete_names():
    return [n for n in _CLASSES if n not in BASE_NAMES]


def _kind(obj_or_cls, kinds, expected):
    """kinds[name] for the first class along the MRO of obj_or_cls (an instance or a class)
    whose name ``kinds`` has; PresetError naming the ``expected`` classes otherwise."""
    cls = obj_or_cls if isinstance(obj_or_cls, type) else type(obj_or_cls)
    for klass in cls.__mro__:
        if klass.__name__ in kinds:
            return kinds[klass.__name__]
    raise PresetError(f"{cls.__name__} is {expected}")


def backbone_kind(backbone_or_cls):
    """"bert" or "distil_bert" for a backbone (or its class); PresetError otherwise."""
    return _kind(backbone_or_cls, BACKBONE_KINDS, "not a BertBackbone or DistilBertBackbone")


def task_kind(task_or_cls):
    """"masked_lm" or "text_classifier" for a task (or its class); PresetError otherwise."""
    return _kind(task_or_cls, TASK_KINDS, "neither a MaskedLM nor a TextClassifier")


def import_all():
    """Import every class of the table that exists yet (so subclass searches see them)."""
    classes = []
    for name in _CLASSES:
        try:
            classes.append(get_class(name))
        except PresetError:
            pass
    return classes


def all_subclasses(cls):
    """Every subclass of ``cls`` (transitively), in definition order, after ``import_all``."""
    import_all()
    found, stack = [], list(cls.__subclasses__())
    while stack:
        sub = stack.pop(0)
        if sub not in found:
            found.append(sub)
            stack.extend(sub.__subclasses__())
    return found


def find_subclass(cls, backbone_cls, preset):
    """The subclass of ``cls`` whose ``backbone_cls`` is ``backbone_cls`` (KerasHub's rule:
    prefer direct subclasses, then the first defined)."""
    if backbone_of(cls) is backbone_cls:
        return cls
    candidates = [c for c in all_subclasses(cls) if backbone_of(c) is backbone_cls]
    if not candidates:
        raise PresetError(
            f"{cls.__name__}.from_preset({preset!r}): the preset holds a "
            f"{backbone_cls.__name__}, and no subclass of {cls.__name__} works with it. "
            f"Call from_preset on a class made for {backbone_cls.__name__} instead.")
    direct = [c for c in candidates if cls in c.__bases__]
    return (direct or candidates)[0]


# ------------------------------------------------------------------------------ built-ins
def _preset_tables():
    """{backbone class name: presets dict} of the built-in presets."""
    tables = {}
    for name, module_name in _PRESET_MODULES.items():
        tables[name] = importlib.import_module(module_name).backbone_presets
    return tables


def builtin_presets():
    """Every built-in preset: {name: entry} (entry: metadata, config, and kaggle_handle
    unless the preset ships inside the package, in ``builtin_directory(name)``)."""
    presets = {}
    for table in _preset_tables().values():
        presets.update(table)
    return presets


def get_builtin(name):
    """The entry of built-in preset ``name``, or None."""
    return builtin_presets().get(name)


#: Where the presets that ship inside the package live (one directory per name).
BUILTIN_DIRECTORY = os.path.join(os.path.dirname(os.path.abspath(__file__)), "builtin")


def builtin_directory(name):
    """The directory of built-in preset ``name`` that ships inside the package (an entry
    without a ``kaggle_handle``)."""
    return os.path.join(BUILTIN_DIRECTORY, name)


def presets_for(cls):
    """The built-in presets ``cls`` lists, as KerasHub's ``cls.presets``: those registered for
    the class itself, for its ``backbone_cls``, and for any of its subclasses."""
    tables = _preset_tables()
    result = {}

    def add(klass):
        name = klass.__name__
        if name in tables and klass.__module__ == _CLASSES[name][0]:
            result.update(tables[name])
        backbone_cls = backbone_of(klass)
        if backbone_cls is not None and backbone_cls is not klass:
            add(backbone_cls)

    add(cls)
    for sub in all_subclasses(cls):
        add(sub)
    return result


# ------------------------------------------------------------------------------ companions
#: For each class, the backbone it works with (KerasHub's ``backbone_cls``), used when a
#: class does not carry the attribute itself.
_BACKBONE_OF = {
    "BertMaskedLM": "BertBackbone", "BertTextClassifier": "BertBackbone",
    "BertTokenizer": "BertBackbone", "BertMaskedLMPreprocessor": "BertBackbone",
    "BertTextClassifierPreprocessor": "BertBackbone",
    "DistilBertMaskedLM": "DistilBertBackbone",
    "DistilBertTextClassifier": "DistilBertBackbone",
    "DistilBertTokenizer": "DistilBertBackbone",
    "DistilBertMaskedLMPreprocessor": "DistilBertBackbone",
    "DistilBertTextClassifierPreprocessor": "DistilBertBackbone",
}
_PREPROCESSOR_OF = {
    "BertMaskedLM": "BertMaskedLMPreprocessor",
    "BertTextClassifier": "BertTextClassifierPreprocessor",
    "DistilBertMaskedLM": "DistilBertMaskedLMPreprocessor",
    "DistilBertTextClassifier": "DistilBertTextClassifierPreprocessor",
}
_TOKENIZER_OF = {
    "BertMaskedLMPreprocessor": "BertTokenizer", "BertTextClassifierPreprocessor": "BertTokenizer",
    "DistilBertMaskedLMPreprocessor": "DistilBertTokenizer",
    "DistilBertTextClassifierPreprocessor": "DistilBertTokenizer",
}


def _companion(cls, attribute, table):
    value = getattr(cls, attribute, None)
    if isinstance(value, type):
        return value
    name = known_name(cls)
    if name not in table:
        return None
    try:
        return get_class(table[name])
    except PresetError:                                  # not importable (yet)
        return None


def backbone_of(cls):
    """The backbone class ``cls`` works with (``cls.backbone_cls``), or None."""
    return _companion(cls, "backbone_cls", _BACKBONE_OF)


def preprocessor_of(cls):
    """A task class's preprocessor class (``cls.preprocessor_cls``), or None."""
    return _companion(cls, "preprocessor_cls", _PREPROCESSOR_OF)


def tokenizer_of(cls):
    """A preprocessor class's tokenizer class (``cls.tokenizer_cls``), or None."""
    return _companion(cls, "tokenizer_cls", _TOKENIZER_OF)


def is_base(cls, name):
    """Whether ``cls`` is minibert's base class called ``name`` (e.g. "Task")."""
    return cls.__name__ == name and cls.__module__ == _CLASSES[name][0]
