"""Tokenizer: the base of every tokenizer, a weightless Layer that maps text to token ids.

It owns what does not depend on the algorithm: the vocabulary (a list of tokens, id = index)
and its lookups, the special tokens a model needs (``cls_token``, ``cls_token_id``, ...), the
vocabulary asset file, the config, and the checks on inputs. Subclasses implement
``tokenize`` and ``detokenize``.
"""
import os

import numpy as np

from minibert.layers.layer import Layer
from minibert.models.preset_methods import PresetMethods

VOCABULARY_FILE = "vocabulary.txt"
TOKENIZER_CONFIG_FILE = "tokenizer.json"


def _check_dtype(dtype):
    """The output dtype name: an integer dtype ("int32", ...) or "string" (token strings)."""
    if isinstance(dtype, dict):                       # a serialized Keras DTypePolicy
        dtype = dtype["config"]["name"]
    if dtype in ("string", str):
        return "string"
    try:
        numpy_dtype = np.dtype(dtype)
    except TypeError:
        numpy_dtype = None
    if numpy_dtype is None or numpy_dtype.kind not in "iu":
        raise ValueError(f"dtype: expected an integer dtype such as 'int32', or 'string', "
                         f"got {dtype!r}")
    return numpy_dtype.name


def as_text(value, argument="inputs"):
    """``value`` as a str: str as is, bytes decoded as UTF-8; anything else is a ValueError."""
    if isinstance(value, (bytes, np.bytes_)):
        try:
            return bytes(value).decode("utf-8")
        except UnicodeDecodeError as error:
            raise ValueError(
                f"{argument}: bytes that are not valid UTF-8 ({error.reason} at byte "
                f"{error.start}: {bytes(value)[error.start:error.end]!r})") from None
    if not isinstance(value, str):
        raise ValueError(f"{argument}: expected a string (str, or UTF-8 bytes), got "
                         f"{type(value).__name__} {value!r:.80}")
    if not value.isascii():
        try:
            value.encode("utf-8")
        except UnicodeEncodeError as error:
            raise ValueError(f"{argument}: the string holds a lone surrogate "
                             f"U+{ord(value[error.start]):04X} at position {error.start}, "
                             "which is not a Unicode character") from None
    return str(value)


def read_vocabulary_file(path, strip="whitespace"):
    """The tokens of a vocabulary file, one per line. KerasHub strips all trailing whitespace
    of each line (``strip="whitespace"``); HF strips only the newline (``strip="newline"``)."""
    with open(path, encoding="utf-8") as file:
        if strip == "newline":
            return [line.rstrip("\n") for line in file]
        return [line.rstrip() for line in file]


class Tokenizer(PresetMethods, Layer):
    """Base tokenizer: vocabulary, special tokens, assets and config.

    Subclasses list the special tokens they need in ``special_token_attributes``
    ({attribute: token}); each becomes an attribute (``tokenizer.cls_token == "[CLS]"``)
    with its id next to it (``tokenizer.cls_token_id``), and a vocabulary without one of them
    is refused.

    Args:
        vocabulary: a list of tokens (id = position), a path to a file with one token per
            line, or None (set it later with ``set_vocabulary`` or ``load_assets``).
        dtype: the output dtype: an integer dtype ("int32") or "string" for token strings.
        name: the layer name. config_file: the preset file this tokenizer is saved to.
    """

    special_token_attributes = {}

    def __init__(self, vocabulary=None, dtype="int32", name=None, trainable=True,
                 config_file=TOKENIZER_CONFIG_FILE):
        super().__init__(name=name, trainable=trainable)
        self._output_dtype = _check_dtype(dtype)
        self.config_file = config_file
        for attribute, token in self.special_token_attributes.items():
            setattr(self, attribute, token)
        self.set_vocabulary(vocabulary)

    @property
    def dtype(self):
        """The output dtype ("int32", or "string")."""
        return self._output_dtype

    compute_dtype = dtype

    # ------------------------------------------------------------------------- vocabulary
    def set_vocabulary(self, vocabulary):
        """Use ``vocabulary`` (a list of tokens or a file path; None to unset)."""
        if vocabulary is None:
            self.vocabulary, self._token_to_id_map = None, None
            for attribute in self.special_token_attributes:
                setattr(self, f"{attribute}_id", None)
            return
        if isinstance(vocabulary, (str, os.PathLike)):
            vocabulary = read_vocabulary_file(vocabulary)
        elif isinstance(vocabulary, (list, tuple)):
            vocabulary = list(vocabulary)
        else:
            raise ValueError(f"vocabulary: expected a list of tokens or a file path, got "
                             f"{type(vocabulary).__name__}")
        if not vocabulary or not all(isinstance(token, str) for token in vocabulary):
            raise ValueError("vocabulary: expected a non-empty list of str tokens")
        token_to_id = {token: i for i, token in enumerate(vocabulary)}
        missing = [token for token in self._required_tokens() if token not in token_to_id]
        if missing:
            raise ValueError(
                f"vocabulary: {type(self).__name__} needs the tokens "
                f"{', '.join(map(repr, missing))}, which the vocabulary does not have")
        self.vocabulary, self._token_to_id_map = vocabulary, token_to_id
        for attribute, token in self.special_token_attributes.items():
            setattr(self, f"{attribute}_id", token_to_id[token])
        self._vocabulary_changed()

    def _required_tokens(self):
        """The tokens a vocabulary must hold: the special tokens (subclasses add theirs)."""
        return self.special_tokens

    def _vocabulary_changed(self):
        """Called after a new vocabulary is set: subclasses rebuild what depends on it."""

    def _check_vocabulary(self):
        if self.vocabulary is None:
            raise ValueError(f"{type(self).__name__} has no vocabulary: pass `vocabulary=` "
                             "when creating it, or call set_vocabulary() or load_assets()")

    def get_vocabulary(self):
        """The tokens, in id order (a copy)."""
        self._check_vocabulary()
        return list(self.vocabulary)

    def vocabulary_size(self):
        self._check_vocabulary()
        return len(self.vocabulary)

    def token_to_id(self, token):
        self._check_vocabulary()
        if token not in self._token_to_id_map:
            raise ValueError(f"token {token!r} is not in the vocabulary")
        return self._token_to_id_map[token]

    def id_to_token(self, id):
        self._check_vocabulary()
        if isinstance(id, bool) or not isinstance(id, (int, np.integer)) \
                or not 0 <= id < len(self.vocabulary):
            raise ValueError(f"id: expected an int in [0, {len(self.vocabulary) - 1}], "
                             f"got {id!r}")
        return self.vocabulary[id]

    @property
    def special_tokens(self):
        """The special tokens of this tokenizer (each once, in declaration order)."""
        return list(dict.fromkeys(self.special_token_attributes.values()))

    @property
    def special_token_ids(self):
        """Their ids, sorted (the unknown token is not a special token)."""
        self._check_vocabulary()
        return sorted({self._token_to_id_map[token] for token in self.special_tokens})

    # ---------------------------------------------------------------------- text <-> ids
    def tokenize(self, inputs):
        raise NotImplementedError

    def detokenize(self, inputs):
        raise NotImplementedError

    def __call__(self, inputs):
        """Same as ``tokenize(inputs)``."""
        return self.tokenize(inputs)

    # ------------------------------------------------------------------ assets and config
    def save_assets(self, dir_path):
        """Write ``vocabulary.txt`` (one token per line, in id order) into ``dir_path``."""
        self._check_vocabulary()
        with open(os.path.join(dir_path, VOCABULARY_FILE), "w", encoding="utf-8") as file:
            file.writelines(f"{token}\n" for token in self.vocabulary)

    def load_assets(self, dir_path):
        """Read the vocabulary written by ``save_assets``."""
        self.set_vocabulary(os.path.join(dir_path, VOCABULARY_FILE))

    def get_config(self):
        """KerasHub's keys; the vocabulary is saved as an asset, not in the config."""
        return {"name": self.name, "trainable": self._trainable,
                "dtype": {"module": "keras", "class_name": "DTypePolicy",
                          "config": {"name": self._output_dtype}, "registered_name": None},
                "config_file": self.config_file}

    @classmethod
    def from_preset(cls, preset, config_file=TOKENIZER_CONFIG_FILE, **kwargs):
        """A tokenizer with its vocabulary from a preset (a built-in name, a KerasHub preset
        directory, an HF model directory, ``kaggle://`` or ``hf://`` handle)."""
        from minibert.presets.loader import load_tokenizer
        return load_tokenizer(cls, preset, config_file=config_file, **kwargs)

    def save_to_preset(self, preset_dir):
        """Write tokenizer.json and assets/tokenizer/vocabulary.txt, as KerasHub does."""
        from minibert.presets.saver import save_tokenizer
        save_tokenizer(self, preset_dir)
