"""From a raw string to the words WordPiece looks up: the three conventions.

WordPiece itself (greedy longest-match-first over a vocabulary) is the same everywhere. What
differs between KerasHub and HF transformers is everything before it: which characters split
words, which are deleted, how text is lowercased, and how long a word may be. Each convention
is a small object with four methods, called in this order by ``WordPieceTokenizer``:

    normalize_text(text)  text-level steps that come before special tokens are matched
    split(chunk)          a piece of text without special tokens -> coarse words
    pieces(word)          one coarse word -> the final words (normalised, punctuation split off)
    too_long(word)        True when a final word must become the unknown token

``pieces`` is a pure function of the word, so the tokenizer caches it (with the WordPiece
lookup) per word.

"keras_hub" (KerasHub's ``WordPieceTokenizer``; the default)
    1. ``strip_accents``: NFD, then delete nonspacing marks (category Mn).
    2. Split on ASCII whitespace (space, tab, newline, CR, form feed) and on every Cc (control)
       and Cf (format, e.g. zero-width space) character, which are dropped; punctuation and
       CJK ideographs are split off and kept as one-character words.
    3. ``lowercase``: Unicode NFKC_Casefold, per word: compatibility forms are unfolded
       ("ﬁ" -> "fi", "①" -> "1"), case is folded ("ß" -> "ss") and default-ignorable
       characters (soft hyphen, variation selectors, ...) are deleted. Accents stay.
    4. A word longer than 100 UTF-8 *bytes* is one unknown token.
    Non-breaking and other non-ASCII spaces do not split words. Special tokens written in the
    text are recognised (after step 1) only with ``special_tokens_in_strings=True``.

"transformers" (HF transformers' ``BertTokenizer`` = ``BertTokenizerFast``, the Rust
``tokenizers`` library) and "transformers_python" (HF's pure-Python ``BertTokenizerLegacy``,
which transformers 4 called ``BertTokenizer``)
    0. Special tokens ("[MASK]", "[UNK]", ...) are matched in the raw text first and never
       split.
    1. NUL, U+FFFD and control/format/private-use characters are deleted (the Python
       version deletes unassigned code points too).
    2. Spaces are put around CJK ideographs.
    3. (Python version only) the text is normalised to NFC.
    4. Split on any Unicode whitespace.
    5. Per word: lowercase with ``str.lower`` (the Rust version lowercases one character at
       a time, so a final capital sigma becomes "σ", not "ς"), strip accents (when
       ``strip_accents`` is None it follows ``lowercase``), split off punctuation.
    6. A word longer than 100 *characters* is one unknown token.

Character tables: "keras_hub" uses the ``regex`` module's Unicode classes and ``unicodedata``,
as KerasHub's Python code does; the transformers conventions use ``unicodedata`` (the Unicode
version of this Python). The Rust library carries its own, older tables, so for the few
characters whose category changed between Unicode versions it may disagree; see
docs/tokenizers.md.
"""
import functools
import unicodedata

import regex

CONVENTIONS = ("keras_hub", "transformers", "transformers_python")

#: KerasHub and HF both drop the unknown token on words longer than this many bytes / chars.
MAX_WORD_LENGTH = 100

#: BERT's "Chinese character" blocks: CJK Unified Ideographs, extensions A-E, compatibility
#: ideographs and their supplement. Hangul, kana and CJK punctuation are not in them.
CJK_RANGES = ((0x4E00, 0x9FFF), (0x3400, 0x4DBF), (0x20000, 0x2A6DF), (0x2A700, 0x2B73F),
              (0x2B740, 0x2B81F), (0x2B820, 0x2CEAF), (0xF900, 0xFAFF), (0x2F800, 0x2FA1F))
#: The Rust ``tokenizers`` copy of that table starts extension E at U+2B920 instead.
RUST_CJK_RANGES = tuple((0x2B920, last) if first == 0x2B820 else (first, last)
                        for first, last in CJK_RANGES)

#: ASCII characters that are neither letters, digits nor whitespace ("$", "^", "`" too):
#: punctuation for BERT, though Unicode files some of them as symbols.
ASCII_PUNCTUATION = "".join(chr(cp) for cp in range(0x21, 0x7F) if not chr(cp).isalnum())

#: Unicode Default_Ignorable_Code_Point, which NFKC_Casefold deletes.
DEFAULT_IGNORABLE_RANGES = (
    (0x00AD, 0x00AD), (0x034F, 0x034F), (0x061C, 0x061C), (0x115F, 0x1160), (0x17B4, 0x17B5),
    (0x180B, 0x180F), (0x200B, 0x200F), (0x202A, 0x202E), (0x2060, 0x206F), (0x3164, 0x3164),
    (0xFE00, 0xFE0F), (0xFEFF, 0xFEFF), (0xFFA0, 0xFFA0), (0xFFF0, 0xFFF8),
    (0x1BCA0, 0x1BCA3), (0x1D173, 0x1D17A), (0xE0000, 0xE0FFF))


def ranges_class(ranges):
    """A regex character class ("[...]") matching the code points of inclusive ``ranges``."""
    return "[" + "".join(f"\\U{first:08x}-\\U{last:08x}" for first, last in ranges) + "]"


_IGNORABLE = regex.compile(ranges_class(DEFAULT_IGNORABLE_RANGES))


# ------------------------------------------------------------------------------ case folding
@functools.lru_cache(maxsize=None)
def _case_fold_char(char):
    """NFKC_Casefold of one character: NFKC, full case folding and deletion of default
    ignorables, repeated until nothing changes (Unicode's definition of the mapping)."""
    previous, folded = None, char
    while folded != previous:
        previous = folded
        folded = unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", folded).casefold())
        folded = _IGNORABLE.sub("", folded)
    return folded


def case_fold(text):
    """Unicode toNFKC_Casefold(text), what ``tensorflow_text.case_fold_utf8`` computes.

    Each character is mapped on its own, then the whole string is put in NFC. The order
    matters: "\\u1fc3\\u0313" (eta with ypogegrammeni, then a breathing mark) folds to "ηἰ",
    because the ypogegrammeni becomes a plain iota that the mark then composes with; folding
    after normalising the whole string would give "ἠι".
    """
    if text.isascii():
        return text.lower()
    return unicodedata.normalize("NFC", "".join(map(_case_fold_char, text)))


def strip_accents(text):
    """Decompose (NFD) and delete the nonspacing marks: "Café" -> "Cafe", "ñ" -> "n"."""
    if text.isascii():
        return text
    return "".join(c for c in unicodedata.normalize("NFD", text)
                   if unicodedata.category(c) != "Mn")


# ------------------------------------------------------------------------------ conventions
class KerasHubConvention:
    """KerasHub's pre-tokenization (see the module docstring)."""

    def __init__(self, lowercase=False, strip_accents=False, split=True, split_on_cjk=True):
        self.lowercase = bool(lowercase)
        self.strip_accents = bool(strip_accents)
        self.split_text = bool(split)
        kept = ["[" + regex.escape(ASCII_PUNCTUATION) + "]", r"\p{P}"]
        if split_on_cjk:
            kept.append(ranges_class(CJK_RANGES))
        # One capturing group: its matches (punctuation, CJK) are kept, the rest dropped.
        self._delimiters = regex.compile(
            "(" + "|".join(kept) + r")|[ \t\n\r\f]|\p{Cc}|\p{Cf}")

    def normalize_text(self, text):
        return strip_accents(text) if self.strip_accents else text

    def split(self, chunk):
        if not self.split_text:
            return [chunk] if chunk else []
        return [word for word in self._delimiters.split(chunk) if word]

    def pieces(self, word):
        return [case_fold(word)] if self.lowercase else [word]

    @staticmethod
    def too_long(word):
        return len(word.encode("utf-8")) > MAX_WORD_LENGTH


class TransformersConvention:
    """HF's BERT pre-tokenization: ``python=False`` follows the Rust ``tokenizers`` library
    (transformers' ``BertTokenizer``), ``python=True`` the pure-Python ``BasicTokenizer``."""

    def __init__(self, lowercase=True, strip_accents=None, split_on_cjk=True,
                 never_split=(), python=False):
        self.lowercase = bool(lowercase)
        self.strip_accents = self.lowercase if strip_accents is None else bool(strip_accents)
        self.python = bool(python)
        self.never_split = frozenset(never_split)
        # Deleted: NUL, U+FFFD and "other" characters: controls (except the whitespace
        # \t, \n, \r), format, private use and surrogates; for Python, unassigned too.
        self._deleted_categories = {"Cc", "Cf", "Co", "Cs"} | ({"Cn"} if python else set())
        self._cjk = None
        if split_on_cjk:
            self._cjk = regex.compile(ranges_class(CJK_RANGES if python else RUST_CJK_RANGES))

    def normalize_text(self, text):
        return text

    def _is_deleted(self, char):
        return char in "\x00\ufffd" or unicodedata.category(char) in self._deleted_categories

    def split(self, chunk):
        chunk = chunk.translate(_WHITESPACE_CONTROLS)
        # Printable text has no character to delete but U+FFFD; only other text is scanned.
        if not chunk.isprintable() or "\ufffd" in chunk:
            chunk = "".join(char for char in chunk if not self._is_deleted(char))
        if self._cjk is not None:
            chunk = self._cjk.sub(r" \g<0> ", chunk)
        if self.python:
            chunk = unicodedata.normalize("NFC", chunk)
        return chunk.split()

    def pieces(self, word):
        if self.python:
            if word in self.never_split:        # BasicTokenizer keeps these whole
                return [word]
            if self.lowercase:
                word = word.lower()
            if self.strip_accents:
                word = strip_accents(word)
        else:
            if self.strip_accents:
                word = strip_accents(word)
            if self.lowercase:                  # char by char: no final-sigma rule
                word = word.replace("Σ", "σ").lower()
        return split_punctuation(word)

    @staticmethod
    def too_long(word):
        return len(word) > MAX_WORD_LENGTH


#: \t, \n and \r are controls that HF treats as whitespace.
_WHITESPACE_CONTROLS = str.maketrans("\t\n\r", "   ")


def is_punctuation(char):
    """HF's punctuation: ASCII symbols ("$", "^", "`" too) and Unicode categories P*."""
    return char in ASCII_PUNCTUATION or unicodedata.category(char)[0] == "P"


def split_punctuation(word):
    """Split each punctuation character of ``word`` off as a word of its own."""
    pieces, start = [], 0
    for position, char in enumerate(word):
        if is_punctuation(char):
            if start < position:
                pieces.append(word[start:position])
            pieces.append(char)
            start = position + 1
    if start < len(word):
        pieces.append(word[start:])
    return pieces
