"""Preprocessor: raw strings -> the integer inputs of a model (and the labels of its task).

``Preprocessor`` holds a tokenizer; ``PackingPreprocessor`` adds what both BERT task
preprocessors do: tokenize each segment (one text, or a pair), pack them into
[CLS] a [SEP] b [SEP] with a ``MultiSegmentPacker``, and derive the padding mask.

Calls follow KerasHub: ``preprocessor(x)``, ``preprocessor(x, y)``,
``preprocessor(x, y, sample_weight)`` return ``x`` (a dict), ``(x, y)`` or
``(x, y, sample_weight)``; and, as in KerasHub, a lone tuple of two or three elements is read
as ``(x, y)`` or ``(x, y, sample_weight)``. A pair of segments is therefore passed by keyword:
``preprocessor(x=(first_texts, second_texts))``.
"""
from minibert.layers.layer import Layer
from minibert.layers.preprocessing.multi_segment_packer import MultiSegmentPacker
from minibert.models.preset_methods import PresetMethods

PREPROCESSOR_CONFIG_FILE = "preprocessor.json"


def pack_x_y_sample_weight(x, y=None, sample_weight=None):
    """``x`` alone, ``(x, y)`` or ``(x, y, sample_weight)``, whichever are given (Keras)."""
    if y is None:
        return x
    if sample_weight is None:
        return x, y
    return x, y, sample_weight


class Preprocessor(PresetMethods, Layer):
    """Base class: a layer that holds a ``tokenizer`` (of class ``tokenizer_cls``)."""

    tokenizer_cls = None

    def __init__(self, tokenizer=None, name=None, dtype=None, trainable=True,
                 config_file=PREPROCESSOR_CONFIG_FILE):
        super().__init__(name=name, dtype=dtype, trainable=trainable)
        self.tokenizer = tokenizer
        self.config_file = config_file

    def __call__(self, *args, **kwargs):
        if (len(args) == 1 and type(args[0]) is tuple and len(args[0]) in (2, 3)
                and "y" not in kwargs and "sample_weight" not in kwargs):
            args = args[0]                     # a dataset element (x, y[, sample_weight])
        return self.call(*args, **kwargs)

    def call(self, x, y=None, sample_weight=None):
        raise NotImplementedError

    def get_config(self):
        """The preprocessor's own arguments; the preset saver nests the serialized
        tokenizer under "tokenizer", as KerasHub's preprocessor.json does."""
        config = super().get_config()
        config["config_file"] = self.config_file
        return config

    @classmethod
    def from_preset(cls, preset, config_file=PREPROCESSOR_CONFIG_FILE, **kwargs):
        """This preprocessor, with its tokenizer, from a preset (see ``Tokenizer.from_preset``)."""
        from minibert.presets.loader import load_preprocessor
        return load_preprocessor(cls, preset, config_file=config_file, **kwargs)

    def save_to_preset(self, preset_dir):
        """Write preprocessor.json and the tokenizer's files, as KerasHub does."""
        from minibert.presets.saver import save_preprocessor
        save_preprocessor(self, preset_dir)


class PackingPreprocessor(Preprocessor):
    """Tokenize one or more segments and pack them into ``token_ids``, ``segment_ids`` and
    ``padding_mask`` (True on real tokens, False on padding).

    Args:
        tokenizer: a tokenizer with ``start_token_id``, ``end_token_id``, ``pad_token_id``.
        sequence_length: the packed length.
        truncate: "round_robin" or "waterfall", how a pair that is too long is shortened.

    Class attribute ``segment_ids_input``: whether the model takes ``segment_ids`` (False for
    DistilBERT, whose preprocessors leave them out).
    """

    segment_ids_input = True

    def __init__(self, tokenizer, sequence_length=512, truncate="round_robin", **kwargs):
        super().__init__(tokenizer=tokenizer, **kwargs)
        self.truncate = truncate
        self.packer = None
        self.sequence_length = sequence_length

    @property
    def sequence_length(self):
        return self._sequence_length

    @sequence_length.setter
    def sequence_length(self, value):
        self._sequence_length = value
        if self.packer is not None:
            self.packer.sequence_length = value

    def build(self):
        """Create the packer (and, in subclasses, the other layers that need the vocabulary).
        Runs on the first call, once the tokenizer has its vocabulary."""
        tokenizer = self.tokenizer
        self.packer = MultiSegmentPacker(
            sequence_length=self.sequence_length, start_value=tokenizer.start_token_id,
            end_value=tokenizer.end_token_id, pad_value=tokenizer.pad_token_id,
            truncate=self.truncate)

    def pack(self, x):
        """Tokenize the segment(s) ``x`` (a string, a list of strings, or a tuple of those)
        and pack them: a dict of ``token_ids``, ``padding_mask`` and ``segment_ids``."""
        if self.packer is None:
            self.build()
        segments = x if isinstance(x, tuple) else (x,)
        token_ids, segment_ids = self.packer(tuple(self.tokenizer(s) for s in segments))
        features = {"token_ids": token_ids,
                    "padding_mask": token_ids != self.tokenizer.pad_token_id}
        if self.segment_ids_input:
            features["segment_ids"] = segment_ids
        return features

    def get_config(self):
        config = super().get_config()
        config.update({"sequence_length": self.sequence_length, "truncate": self.truncate})
        return config
