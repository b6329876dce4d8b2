"""Pre-tokenization pieces: NFKC_Casefold against TensorFlow Text, accent stripping, and
small hand-derived cases of each convention."""
import random
import unicodedata

from reference_libraries import require

from minibert.tokenizers.pretokenization import (KerasHubConvention, TransformersConvention,
                                                 case_fold, strip_accents)


def test_case_fold_hand_derived():
    assert case_fold("ß") == "ss"                  # CaseFolding.txt: 00DF -> 0073 0073
    assert case_fold("ﬁ") == "fi"                  # NFKC: the ligature decomposes
    assert case_fold("A\u00adB") == "ab"           # soft hyphen: default ignorable
    assert case_fold("Ⅻ") == "xii"                 # NFKC: U+216B -> "XII", then folded
    # U+1FC3 (eta with ypogegrammeni) folds to eta + iota; the breathing mark U+0313 then
    # composes with that iota into U+1F30: "ηἰ" (not "ἠι").
    assert case_fold("\u1fc3\u0313") == "\u03b7\u1f30"


def test_strip_accents_hand_derived():
    assert strip_accents("Café naïve") == "Cafe naive"
    assert strip_accents("e\u0301") == "e"
    assert strip_accents("Ø") == "Ø"               # no canonical decomposition


def test_case_fold_matches_tensorflow_text():
    """Every code point assigned in this Python's Unicode tables, and random sequences of
    combining marks, Greek, Hangul jamo, compatibility and ignorable characters."""
    tf = require("tensorflow")
    tf_text = require("tensorflow_text")
    texts = [chr(cp) for cp in range(0x110000)
             if unicodedata.category(chr(cp)) not in ("Cn", "Cs")]
    pool = [chr(cp) for cp in [*range(0x41, 0x5B), *range(0xC0, 0x180), *range(0x300, 0x370),
                               *range(0x370, 0x400), *range(0x1100, 0x1200),
                               *range(0x1E00, 0x2000), *range(0x2160, 0x2190),
                               *range(0xFB00, 0xFB07), *range(0x13A0, 0x13F6),
                               0x00AD, 0x034F, 0x200B, 0x200D, 0x3164, 0xFE0F, 0x1D15E]
            if unicodedata.category(chr(cp)) != "Cn"]
    rng = random.Random(7)
    texts += ["".join(rng.choice(pool) for _ in range(rng.randint(2, 8)))
              for _ in range(50_000)]
    expected = [folded.decode("utf-8") for folded in
                tf_text.case_fold_utf8(tf.constant(texts)).numpy()]
    mismatches = [(text, want) for text, want in zip(texts, expected) if case_fold(text) != want]
    assert not mismatches, mismatches[:10]


def test_keras_hub_convention_splits_and_folds():
    convention = KerasHubConvention(lowercase=True)
    words = convention.split("Ça\u00a0va? 中文\u200bOK\tﬁn")
    assert words == ["Ça\u00a0va", "?", "中", "文", "OK", "ﬁn"]
    assert [piece for word in words for piece in convention.pieces(word)] == \
        ["ça va", "?", "中", "文", "ok", "fin"]    # NFKC turns the no-break space into " "


def test_transformers_conventions_differ_where_hf_does():
    rust = TransformersConvention(lowercase=True)
    python = TransformersConvention(lowercase=True, python=True)
    # Both delete zero-width and control characters and strip accents when lowercasing.
    assert rust.split("a\u200bb c\x00d") == python.split("a\u200bb c\x00d") == ["ab", "cd"]
    assert rust.pieces("CAFÉ!") == python.pieces("CAFÉ!") == ["cafe", "!"]
    # Rust lowercases one character at a time: no final sigma.
    assert rust.pieces("ΟΔΟΣ") == ["οδοσ"]
    assert python.pieces("ΟΔΟΣ") == ["οδος"]
    # Only the Python tokenizer deletes unassigned code points (U+0378).
    assert rust.split("a\u0378b") == ["a\u0378b"]
    assert python.split("a\u0378b") == ["ab"]
    # The Rust table of CJK blocks starts extension E at U+2B920 instead of U+2B820.
    assert rust.split("a\U0002B820b") == ["a\U0002B820b"]
    assert python.split("a\U0002B820b") == ["a", "\U0002B820", "b"]
    # Only the Python tokenizer normalises to NFC: e + combining acute -> é.
    cased_rust = TransformersConvention(lowercase=False)
    cased_python = TransformersConvention(lowercase=False, python=True)
    assert cased_rust.split("e\u0301") == ["e\u0301"]
    assert cased_python.split("e\u0301") == ["\u00e9"]
