"""compute_word_piece_vocabulary: the same vocabulary as KerasHub's (TensorFlow Text's
learner), and the guarantees added on top of it."""
import random

import pytest
from reference_libraries import require

from minibert.tokenizers import WordPieceTokenizer, compute_word_piece_vocabulary
from minibert.tokenizers.pretokenization import KerasHubConvention

RESERVED = ["[PAD]", "[CLS]", "[SEP]", "[UNK]", "[MASK]"]


def training_lines(count=1000, seed=0):
    """Deterministic pseudo-English: Zipf-distributed words made of syllables, inflected,
    capitalised, punctuated, with some accented and CJK words."""
    rng = random.Random(seed)
    syllables = ["ka", "to", "mi", "ra", "ne", "su", "lo", "pi", "de", "ban", "tor", "el",
                 "qua", "str", "ou", "ich", "é", "ü", "ñ"]
    words = ["".join(rng.choice(syllables) for _ in range(rng.randint(1, 4)))
             for _ in range(400)]
    words += ["中文", "日本語", "naïve", "café"]
    endings = ["", "", "", "s", "ed", "ing", "ly"]
    lines = []
    for _ in range(count):
        sentence = [words[min(int(rng.paretovariate(0.9)) - 1, len(words) - 1)]
                    + rng.choice(endings) for _ in range(rng.randint(3, 12))]
        sentence[0] = sentence[0].capitalize()
        lines.append(" ".join(sentence) + rng.choice([".", "!", "?", ", too."]))
    return lines


@pytest.mark.parametrize("lowercase,size", [(True, 300), (False, 1000)])
def test_matches_keras_hub(lowercase, size):
    require("tensorflow_text")
    tf = require("tensorflow")
    keras_hub = require("keras_hub")
    lines = training_lines()
    expected = keras_hub.tokenizers.compute_word_piece_vocabulary(
        tf.data.Dataset.from_tensor_slices(lines), size, lowercase=lowercase)
    assert compute_word_piece_vocabulary(lines, size, lowercase=lowercase) == expected


@pytest.mark.parametrize("lowercase", [True, False])
def test_vocabulary_is_sound(lowercase):
    lines = training_lines()
    # A word over 50 characters, with a character found nowhere else: TensorFlow Text's
    # learner would leave that character out.
    lines.append("Ω" + "ka" * 30)
    convention = KerasHubConvention(lowercase=lowercase)
    characters = {char for line in lines for word in convention.split(line)
                  for piece in convention.pieces(word) for char in piece}
    assert "ω" in characters or "Ω" in characters
    smallest = len(RESERVED) + 2 * len(characters)
    with pytest.raises(ValueError, match=f"is too small.* need {smallest}"):
        compute_word_piece_vocabulary(lines, smallest - 1, lowercase=lowercase)
    for size in (smallest, smallest + 5, 400, 5000):
        vocabulary = compute_word_piece_vocabulary(lines, size, lowercase=lowercase)
        assert vocabulary[:len(RESERVED)] == RESERVED
        assert len(vocabulary) <= size
        assert len(set(vocabulary)) == len(vocabulary)
        for char in characters:
            assert char in vocabulary and "##" + char in vocabulary, char
        if size == smallest:         # learned tokens were all cut: only characters left
            assert set(vocabulary) == set(RESERVED) | characters | {"##" + c
                                                                    for c in characters}
        tokenizer = WordPieceTokenizer(vocabulary, lowercase=lowercase)
        unknown = tokenizer.token_to_id("[UNK]")
        assert all(unknown not in ids for ids in tokenizer(lines))
        assert compute_word_piece_vocabulary(lines, size, lowercase=lowercase) == vocabulary


def test_files_output_file_and_presplit_words(tmp_path):
    lines = training_lines(300)
    files = []
    for i in range(3):
        path = tmp_path / f"part{i}.txt"
        path.write_text("\n".join(lines[i::3]), encoding="utf-8")
        files.append(str(path))
    output = tmp_path / "vocab.txt"
    vocabulary = compute_word_piece_vocabulary(files, 200, vocabulary_output_file=str(output))
    assert vocabulary == compute_word_piece_vocabulary(lines, 200)
    assert output.read_text(encoding="utf-8") == "".join(f"{t}\n" for t in vocabulary)
    words = [KerasHubConvention().split(line) for line in lines]
    assert compute_word_piece_vocabulary(words, 200, split=False) == vocabulary


def test_reserved_tokens_are_placed_first_in_order():
    vocabulary = compute_word_piece_vocabulary(training_lines(100), 200,
                                               reserved_tokens=["<s>", "[UNK]", "</s>"])
    assert vocabulary[:3] == ["<s>", "[UNK]", "</s>"]


def test_errors():
    with pytest.raises(ValueError, match="a single string"):
        compute_word_piece_vocabulary("just one text", 100)
    with pytest.raises(ValueError, match="data\\[1\\]: expected a string"):
        compute_word_piece_vocabulary(["fine", 42], 100)
    with pytest.raises(ValueError, match="no words"):
        compute_word_piece_vocabulary(["", "  "], 100)
