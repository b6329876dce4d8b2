"""WordPieceTokenizer: BERT's tokenizer, in pure Python.

    "Tokenization is fun." -> words   ["tokenization", "is", "fun", "."]
                           -> pieces  ["token", "##ization", "is", "fun", "."]
                           -> ids     [19204, 3989, 2003, 4569, 1012]

Words come from pre-tokenization (``pretokenization.py``: lowercasing, accents, where words
split). Each word is then cut by WordPiece, greedy longest-match-first: take the longest
prefix of the word that is in the vocabulary, then the longest vocabulary entry "##" + rest
(a suffix piece), and so on. If at some point nothing matches, the *whole* word becomes the
unknown token "[UNK]"; so does a word over 100 bytes (KerasHub) or characters (HF).

The result of a word depends on nothing else, so it is cached: a corpus has far fewer
distinct words than words.
"""
import functools

import numpy as np
import regex

from minibert.tokenizers import pretokenization
from minibert.tokenizers.tokenizer import Tokenizer, as_text, read_vocabulary_file

#: How many distinct words each tokenizer remembers.
WORD_CACHE_SIZE = 1 << 16


class WordPieceTokenizer(Tokenizer):
    """A WordPiece tokenizer with KerasHub's arguments and behaviour, or HF's on request.

    Args:
        vocabulary: list of tokens or path to a file with one token per line.
        sequence_length: if set, outputs are int arrays truncated / padded with 0 to it.
        lowercase: lowercase the text (KerasHub: NFKC case folding; HF: ``str.lower``).
        strip_accents: delete accents (NFD, drop marks). KerasHub convention: a bool (None is
            False). HF conventions: None means "same as lowercase", as HF's ``strip_accents``.
        split: split text into words on whitespace and punctuation. With ``split=False`` the
            input is already words: a word, a list of words (one sequence) or a list of
            such lists (a batch). KerasHub convention only.
        split_on_cjk: split CJK ideographs into one word each.
        suffix_indicator: the prefix of word-continuing pieces ("##").
        oov_token: the token of words that cannot be tokenized; must be in the vocabulary.
        special_tokens: extra tokens that are never split when ``special_tokens_in_strings``.
        special_tokens_in_strings: map special tokens written in the text ("[MASK]") to their
            ids instead of splitting them like text. Always on in the HF conventions.
        dtype: "int32" (or another int dtype) for ids; "string" for token strings.
        convention: "keras_hub" (default), "transformers" (HF transformers' BertTokenizer,
            Rust-backed, = BertTokenizerFast) or "transformers_python" (HF's pure-Python
            BertTokenizerLegacy). ``from_hf`` builds the HF ones with HF's argument meanings.

    Inputs: a str (or UTF-8 bytes), or a list of them (a batch). Outputs: a list of ids for a
    str, a list of lists for a batch; with ``sequence_length``, an int array of shape
    (sequence_length,) or (batch, sequence_length).
    """

    def __init__(self, vocabulary=None, sequence_length=None, lowercase=False,
                 strip_accents=False, split=True, split_on_cjk=True, suffix_indicator="##",
                 oov_token="[UNK]", special_tokens=None, special_tokens_in_strings=False,
                 dtype="int32", convention="keras_hub", **kwargs):
        if convention not in pretokenization.CONVENTIONS:
            raise ValueError(f"convention: expected one of {pretokenization.CONVENTIONS}, "
                             f"got {convention!r}")
        if oov_token is None:
            raise ValueError("oov_token: cannot be None, WordPiece needs an unknown token")
        if sequence_length is not None and (not isinstance(sequence_length, (int, np.integer))
                                            or sequence_length <= 0):
            raise ValueError(f"sequence_length: expected a positive int or None, got "
                             f"{sequence_length!r}")
        if convention != "keras_hub" and not split:
            raise ValueError(f"split=False is only available in the keras_hub convention, "
                             f"not in {convention!r}")
        self.sequence_length = sequence_length
        self.lowercase = lowercase
        self.strip_accents = strip_accents
        self.split = split
        self.split_on_cjk = split_on_cjk
        self.suffix_indicator = suffix_indicator
        self.oov_token = oov_token
        self._init_special_tokens = special_tokens
        self.special_tokens_in_strings = special_tokens_in_strings
        self.convention = convention
        super().__init__(vocabulary=vocabulary, dtype=dtype, **kwargs)

    @classmethod
    def from_hf(cls, vocabulary, lowercase=True, strip_accents=None, split_on_cjk=True,
                convention="transformers", **kwargs):
        """A tokenizer that reproduces HF transformers' BERT tokenizer.

        Args mirror HF's: ``lowercase`` is ``do_lower_case``, ``strip_accents`` (None: same as
        lowercase), ``split_on_cjk`` is ``tokenize_chinese_chars``. ``vocabulary`` is a list
        or a ``vocab.txt`` path (read as HF does: only the newline is stripped).
        ``convention``: "transformers" (``BertTokenizer``/``BertTokenizerFast``, the Rust
        library) or "transformers_python" (``BertTokenizerLegacy``, pure Python).
        """
        if convention not in ("transformers", "transformers_python"):
            raise ValueError(f"convention: expected 'transformers' or 'transformers_python', "
                             f"got {convention!r}")
        if not isinstance(vocabulary, (list, tuple)):
            vocabulary = read_vocabulary_file(vocabulary, strip="newline")
        return cls(vocabulary=vocabulary, lowercase=lowercase, strip_accents=strip_accents,
                   split_on_cjk=split_on_cjk, special_tokens_in_strings=True,
                   convention=convention, **kwargs)

    # ------------------------------------------------------------------------- vocabulary
    def _special_tokens_in_text(self):
        """The special tokens recognised when written in the text, longest first."""
        if self.convention == "keras_hub" and not (self.split
                                                   and self.special_tokens_in_strings):
            return []
        tokens = self.special_tokens + list(self._init_special_tokens or [])
        if self.convention != "keras_hub":
            tokens.append(self.oov_token)                # HF counts [UNK] as special too
        return sorted(set(tokens), key=len, reverse=True)

    def _required_tokens(self):
        return list(dict.fromkeys([self.oov_token] + super()._required_tokens()
                                  + self._special_tokens_in_text()))

    def _vocabulary_changed(self):
        """Rebuild the lookups, the special-token matcher and the word cache."""
        self._oov_id = self._token_to_id_map[self.oov_token]
        self._max_token_length = max(map(len, self.vocabulary))
        specials = self._special_tokens_in_text()
        self._special_ids = {token: self._token_to_id_map[token] for token in specials}
        self._special_pattern = None
        if specials:                     # matched first, longest first, never split
            self._special_pattern = regex.compile(
                "(" + "|".join(regex.escape(token) for token in specials) + ")")
        if self.convention == "keras_hub":
            self._pretokenizer = pretokenization.KerasHubConvention(
                self.lowercase, self.strip_accents, self.split, self.split_on_cjk)
        else:
            self._pretokenizer = pretokenization.TransformersConvention(
                self.lowercase, self.strip_accents, self.split_on_cjk, never_split=specials,
                python=self.convention == "transformers_python")
        self._word_ids = self._new_word_cache()

    def _new_word_cache(self):
        """The per-word cache: ``_word_ids_uncached`` behind an LRU cache of this tokenizer."""
        return functools.lru_cache(maxsize=WORD_CACHE_SIZE)(self._word_ids_uncached)

    def __getstate__(self):
        """Pickles and copies leave the word cache behind; ``__setstate__`` makes a new one."""
        return {**self.__dict__, "_word_ids": None}

    def __setstate__(self, state):
        self.__dict__.update(state)
        if self.vocabulary is not None:
            self._word_ids = self._new_word_cache()

    # --------------------------------------------------------------------------- WordPiece
    def _word_piece(self, word):
        """Greedy longest-match-first: the ids of ``word``'s pieces, or (oov,) if it has none."""
        if not word:
            return ()
        if self._pretokenizer.too_long(word):
            return (self._oov_id,)
        vocabulary, suffix = self._token_to_id_map, self.suffix_indicator
        ids, start = [], 0
        while start < len(word):
            # No token is longer than the longest one in the vocabulary.
            end = min(len(word), start + self._max_token_length)
            while end > start:
                piece = word[start:end] if start == 0 else suffix + word[start:end]
                if piece in vocabulary:
                    break
                end -= 1
            else:
                return (self._oov_id,)
            ids.append(vocabulary[piece])
            start = end
        return tuple(ids)

    def _word_ids_uncached(self, word):
        """The ids of one coarse word from pre-tokenization (cached as ``_word_ids``)."""
        ids = ()
        for piece in self._pretokenizer.pieces(word):
            ids += self._word_piece(piece)
        return ids

    def _text_ids(self, text):
        """The ids of one input string."""
        pretokenizer, word_ids = self._pretokenizer, self._word_ids
        text = pretokenizer.normalize_text(text)
        chunks = [text] if self._special_pattern is None else self._special_pattern.split(text)
        ids = []
        for i, chunk in enumerate(chunks):
            if i % 2:                                    # odd chunks are special tokens
                ids.append(self._special_ids[chunk])
                continue
            for word in pretokenizer.split(chunk):
                ids += word_ids(word)
        return ids

    # ----------------------------------------------------------------------------- public
    def tokenize(self, inputs):
        """Text -> ids (see the class docstring for the shapes)."""
        self._check_vocabulary()
        if self.split:
            texts, batched = _text_batch(inputs)
            rows = [self._text_ids(text) for text in texts]
        else:
            sequences, batched = _word_batch(inputs)
            rows = [[i for word in words for i in self._text_ids(word)] for words in sequences]
        if self._output_dtype == "string":
            rows = [[self.vocabulary[i] for i in row] for row in rows]
        if self.sequence_length is not None:
            rows = _pad_rows(rows, self.sequence_length, self._output_dtype)
        return rows if batched else rows[0]

    def detokenize(self, inputs):
        """Ids -> text: tokens joined by spaces, "##" pieces glued to the word before.

        The text is the normalised one ("the quick brownish fox ."), not the original."""
        self._check_vocabulary()
        rows, batched = _id_batch(inputs)
        suffix = self.suffix_indicator
        texts = []
        for row in rows:
            words = []
            for position, token in enumerate(self.id_to_token(i) for i in row):
                if position > 0 and len(token) > len(suffix) and token.startswith(suffix):
                    words[-1] += token[len(suffix):]
                else:
                    words.append(token)
            texts.append(" ".join(words))
        return texts if batched else texts[0]

    def get_config(self):
        config = super().get_config()
        config.update({
            "vocabulary": None,                              # saved as an asset
            "sequence_length": self.sequence_length,
            "lowercase": self.lowercase,
            "strip_accents": self.strip_accents,
            "split": self.split,
            "suffix_indicator": self.suffix_indicator,
            "oov_token": self.oov_token,
            "special_tokens": self._init_special_tokens,
            "special_tokens_in_strings": self.special_tokens_in_strings,
        })
        if self.convention != "keras_hub":                   # KerasHub has no such key
            config["convention"] = self.convention
        return config


# ---------------------------------------------------------------------------------- inputs
def _text_batch(inputs):
    """(list of str, batched): a str/bytes is one text; a list, tuple or 1-D array a batch."""
    if isinstance(inputs, np.ndarray):
        if inputs.ndim > 1:
            raise ValueError(f"inputs: expected a string or a 1-D batch of strings, got an "
                             f"array of shape {inputs.shape}")
        inputs = inputs.tolist()
    if isinstance(inputs, (list, tuple)):
        return [as_text(text, f"inputs[{i}]") for i, text in enumerate(inputs)], True
    return [as_text(inputs)], False


def _word_batch(inputs):
    """For ``split=False``: (list of word lists, batched)."""
    if isinstance(inputs, np.ndarray):
        inputs = inputs.tolist()
    if isinstance(inputs, (list, tuple)) and inputs and isinstance(inputs[0], (list, tuple)):
        return [_text_batch(words)[0] for words in inputs], True
    words, batched = _text_batch(inputs)
    return [words], False


def _id_batch(inputs):
    """(list of id lists, batched) from an int, a list of ints, a list of lists or an array."""
    if isinstance(inputs, np.ndarray):
        if inputs.ndim > 2:
            raise ValueError(f"inputs: expected token ids of rank 0, 1 or 2, got shape "
                             f"{inputs.shape}")
        inputs = inputs.tolist()
    if isinstance(inputs, (int, np.integer)) and not isinstance(inputs, bool):
        return [[int(inputs)]], False
    if isinstance(inputs, (list, tuple)):
        if inputs and all(isinstance(row, (list, tuple, np.ndarray)) for row in inputs):
            return [list(row) for row in inputs], True
        return [list(inputs)], False
    raise ValueError(f"inputs: expected token ids (an int, a list of ints, a list of lists "
                     f"or an array), got {type(inputs).__name__}")


def _pad_rows(rows, length, dtype):
    """Truncate / right-pad each row to ``length``: an int array (pad 0), or lists (pad "")."""
    if dtype == "string":
        return [row[:length] + [""] * (length - len(row)) for row in rows]
    dense = np.zeros((len(rows), length), dtype=dtype)
    for i, row in enumerate(rows):
        row = row[:length]
        dense[i, :len(row)] = row
    return dense
