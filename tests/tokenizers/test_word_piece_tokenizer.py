"""WordPieceTokenizer on small hand-made vocabularies: every expected id below is worked out
by hand from the vocabulary written next to it."""
import copy
import pickle

import numpy as np
import pytest

from minibert.tokenizers import WordPieceTokenizer
from minibert.tokenizers.tokenizer import VOCABULARY_FILE

# KerasHub's docstring example: "The quick brown fox." -> the, qu ##ick, br ##own, fox, .
VOCABULARY = ["[UNK]", "the", "qu", "##ick", "br", "##own", "fox", "."]


def make(**kwargs):
    return WordPieceTokenizer(vocabulary=VOCABULARY, **kwargs)


def test_greedy_longest_match_first():
    assert make(lowercase=True)("The quick brown fox.") == [1, 2, 3, 4, 5, 6, 7]


def test_without_lowercase_capitalised_words_are_unknown():
    assert make()("The quick") == [0, 2, 3]


def test_a_word_with_an_unmatched_piece_is_one_unknown_token():
    # "quickx": qu, ##ick, then "##x" is missing -> the whole word is [UNK], not qu ##ick [UNK]
    assert make()("quickx fox") == [0, 6]


def test_longest_match_is_preferred_over_shorter_pieces():
    vocabulary = ["[UNK]", "a", "ab", "abc", "##c", "##d", "##cd"]
    tokenizer = WordPieceTokenizer(vocabulary=vocabulary)
    assert tokenizer("abcd") == [3, 5]          # abc ##d (greedy), not ab ##cd
    assert tokenizer("abd") == [2, 5]


def test_batches_are_ragged_and_sequence_length_pads_and_truncates():
    tokenizer = make(lowercase=True)
    assert tokenizer(["the fox", "quick"]) == [[1, 6], [2, 3]]
    dense = make(lowercase=True, sequence_length=3)(["the fox", "the quick brown"])
    assert dense.dtype == np.int32
    np.testing.assert_array_equal(dense, [[1, 6, 0], [1, 2, 3]])
    single = make(lowercase=True, sequence_length=4)("fox")
    np.testing.assert_array_equal(single, [6, 0, 0, 0])


def test_string_dtype_returns_tokens():
    tokenizer = make(lowercase=True, dtype="string")
    assert tokenizer("The quick fox.") == ["the", "qu", "##ick", "fox", "."]


def test_byte_limit_keras_hub_and_character_limit_transformers():
    vocabulary = ["[UNK]", "[CLS]", "[SEP]", "[PAD]", "[MASK]", "a", "##a", "é", "##é"]
    keras_hub = WordPieceTokenizer(vocabulary=vocabulary)
    transformers = WordPieceTokenizer.from_hf(vocabulary, lowercase=False)
    fits = "é" * 50                          # 100 bytes, 50 characters
    too_many_bytes = "é" * 51                # 102 bytes, 51 characters
    too_many_chars = "a" * 101               # 101 bytes, 101 characters
    assert keras_hub(fits) == [7] + [8] * 49
    assert keras_hub(too_many_bytes) == [0]
    assert transformers(too_many_bytes) == [7] + [8] * 50
    assert keras_hub(too_many_chars) == [0]
    assert transformers(too_many_chars) == [0]
    assert transformers("a" * 100) == [5] + [6] * 99


def test_punctuation_cjk_and_control_characters_split_words():
    vocabulary = ["[UNK]", "a", "b", "中", "文", ",", "##b"]
    tokenizer = WordPieceTokenizer(vocabulary=vocabulary)
    assert tokenizer("a,b") == [1, 5, 2]
    assert tokenizer("a中文b") == [1, 3, 4, 2]
    assert tokenizer("a\u200bb a\x00b") == [1, 2, 1, 2]        # Cf and Cc split
    assert tokenizer("a\u00a0b") == [0]      # a no-break space does not split (KerasHub)
    no_cjk_split = WordPieceTokenizer(vocabulary=vocabulary, split_on_cjk=False)
    assert no_cjk_split("中文") == [0]


def test_special_tokens_in_strings():
    vocabulary = ["[UNK]", "[MASK]", "[", "]", "mask", "a"]
    assert WordPieceTokenizer(vocabulary=vocabulary, lowercase=True)("a [MASK]") == \
        [5, 2, 4, 3]
    tokenizer = WordPieceTokenizer(vocabulary=vocabulary, lowercase=True,
                                   special_tokens=["[MASK]"], special_tokens_in_strings=True)
    assert tokenizer("a[MASK]a [mask]") == [5, 1, 5, 2, 4, 3]


def test_split_false_takes_words():
    vocabulary = ["[UNK]", "the", "qu", "##ick", "a b"]
    tokenizer = WordPieceTokenizer(vocabulary=vocabulary, split=False, lowercase=True)
    assert tokenizer(["The", "quick"]) == [1, 2, 3]              # one sequence of words
    assert tokenizer([["The"], ["quick", "the"]]) == [[1], [2, 3, 1]]
    assert tokenizer("A B") == [4]                                # one word, with a space


def test_lowercase_folds_compatibility_characters_and_keeps_accents():
    vocabulary = ["[UNK]", "fi", "ss", "é", "café", "cafe"]
    keras_hub = WordPieceTokenizer(vocabulary=vocabulary, lowercase=True)
    assert keras_hub("ﬁ ß É CAFÉ") == [1, 2, 3, 4]
    transformers = WordPieceTokenizer.from_hf(vocabulary, lowercase=True)
    assert transformers("CAFÉ") == [5]                           # accents stripped


def test_detokenize_joins_words_and_glues_suffix_pieces():
    tokenizer = make(lowercase=True)
    ids = tokenizer("The quick brown fox.")
    assert tokenizer.detokenize(ids) == "the quick brown fox ."
    assert tokenizer.detokenize([ids, [6]]) == ["the quick brown fox .", "fox"]
    assert tokenizer.detokenize(np.array([[1, 6], [2, 3]])) == ["the fox", "quick"]
    assert tokenizer.detokenize([3, 1]) == "##ick the"           # a leading piece stays


def test_vocabulary_lookups_and_config():
    tokenizer = make(lowercase=True, sequence_length=16)
    assert tokenizer.vocabulary_size() == 8
    assert tokenizer.get_vocabulary() == VOCABULARY
    assert tokenizer.token_to_id("fox") == 6 and tokenizer.id_to_token(6) == "fox"
    config = tokenizer.get_config()
    assert set(config) == {"name", "trainable", "dtype", "config_file", "vocabulary",
                           "sequence_length", "lowercase", "strip_accents", "split",
                           "suffix_indicator", "oov_token", "special_tokens",
                           "special_tokens_in_strings"}
    assert config["vocabulary"] is None and config["dtype"]["config"]["name"] == "int32"
    rebuilt = WordPieceTokenizer.from_config({**config, "vocabulary": VOCABULARY})
    np.testing.assert_array_equal(rebuilt("The quick brown fox."),
                                  [1, 2, 3, 4, 5, 6, 7] + [0] * 9)
    hf_config = WordPieceTokenizer.from_hf(VOCABULARY).get_config()
    assert hf_config["convention"] == "transformers"


def test_assets_round_trip(tmp_path):
    tokenizer = make(lowercase=True)
    tokenizer.save_assets(str(tmp_path))
    assert (tmp_path / VOCABULARY_FILE).read_text(encoding="utf-8") == \
        "".join(f"{token}\n" for token in VOCABULARY)
    restored = WordPieceTokenizer(lowercase=True)
    restored.load_assets(str(tmp_path))
    assert restored("The quick brown fox.") == [1, 2, 3, 4, 5, 6, 7]


def test_vocabulary_file_is_read_like_keras_hub_and_hf(tmp_path):
    path = tmp_path / "vocab.txt"
    path.write_text("[UNK]\nfox \nthe\n", encoding="utf-8")
    assert WordPieceTokenizer(vocabulary=str(path)).get_vocabulary() == \
        ["[UNK]", "fox", "the"]                                  # every line rstrip()ped
    assert WordPieceTokenizer.from_hf(str(path)).get_vocabulary() == \
        ["[UNK]", "fox ", "the"]                                 # only the newline


# ------------------------------------------------------------------------------ bad input
@pytest.mark.parametrize("bad", [3, 4.5, None, ["ok", 7], {"a": 1}])
def test_non_string_input_is_a_clear_error(bad):
    with pytest.raises(ValueError, match="expected a string"):
        make()(bad)


def test_bytes_are_utf8():
    tokenizer = make(lowercase=True)
    assert tokenizer(b"the fox") == [1, 6]
    with pytest.raises(ValueError, match="not valid UTF-8"):
        tokenizer(b"the \xff fox")
    with pytest.raises(ValueError, match="inputs\\[1\\]: bytes that are not valid UTF-8"):
        tokenizer([b"fox", b"\xc3\x28"])


def test_lone_surrogate_is_a_clear_error():
    with pytest.raises(ValueError, match="lone surrogate U\\+D800"):
        make()("fox \ud800")


def test_vocabulary_errors():
    with pytest.raises(ValueError, match="needs the tokens '\\[UNK\\]', which the vocab"):
        WordPieceTokenizer(vocabulary=["the", "fox"])
    with pytest.raises(ValueError, match="expected a list of tokens or a file path"):
        WordPieceTokenizer(vocabulary=42)
    with pytest.raises(ValueError, match="has no vocabulary"):
        WordPieceTokenizer()("the fox")
    with pytest.raises(ValueError, match="convention"):
        WordPieceTokenizer(vocabulary=VOCABULARY, convention="spacy")
    with pytest.raises(ValueError, match="needs the tokens '\\[X\\]'"):
        WordPieceTokenizer(vocabulary=VOCABULARY, special_tokens=["[X]"],
                           special_tokens_in_strings=True)


def test_detokenize_rejects_ids_out_of_range():
    with pytest.raises(ValueError, match="expected an int in \\[0, 7\\], got 8"):
        make().detokenize([1, 8])


def test_pickle_and_copy_keep_the_behaviour():
    tokenizer = make(lowercase=True)
    for clone in (pickle.loads(pickle.dumps(tokenizer)), copy.deepcopy(tokenizer)):
        assert clone("The quick brown fox.") == [1, 2, 3, 4, 5, 6, 7]
        clone.set_vocabulary(["[UNK]", "fox"])
        assert clone("the fox") == [0, 1]
    assert tokenizer("the fox") == [1, 6]                       # the original is untouched
