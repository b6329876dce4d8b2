"""compute_word_piece_vocabulary: learn a WordPiece vocabulary from text, in pure Python.

This is KerasHub's function, which runs the WordPiece learner of TensorFlow Text; the same
algorithm is written out here, so on ordinary data the result is the same vocabulary.

The learner keeps a token when it is frequent enough, and searches for the frequency
threshold that gives the requested vocabulary size:

    for a threshold t (binary search between 10 and the largest word count):
        iteration 0: count every whole word and every suffix "##" + word[i:] (weighted by
                     how often the word occurs); keep those counted at least t times,
                     plus every single character c and "##" + c
        iterations 1-3: cut each word with the current vocabulary (greedy longest match);
                     count the whole word and the suffixes that start where a piece starts;
                     keep those counted at least t times (plus the characters)
    vocabulary = reserved tokens + the characters + the kept tokens by count

(TensorFlow Text counts every substring and then subtracts from each one the counts of its
longer extensions; what survives that subtraction is exactly the count of the substring as a
whole word or as a word's ending, which is what is counted here directly.)

Two guarantees are added: every character of the training words is in the vocabulary,
alone and as a "##" piece, so tokenizing the training text never gives the unknown token
(except for words over 100 bytes, which WordPiece never splits); and when the vocabulary has
to be cut to ``vocabulary_size``, learned tokens go first, characters never. TensorFlow Text
may drop characters instead: those seen only in words over 50 characters, those beyond the
1000 most frequent, and the last "##" characters when it truncates.
"""
import collections
import os

from minibert.tokenizers.pretokenization import KerasHubConvention
from minibert.tokenizers.tokenizer import as_text

#: KerasHub's default reserved tokens (in this order, ids 0-4).
DEFAULT_RESERVED_TOKENS = ("[PAD]", "[CLS]", "[SEP]", "[UNK]", "[MASK]")

# TensorFlow Text's learner settings, which KerasHub uses.
NUM_ITERATIONS = 4
LOWER_THRESHOLD = 10              # smallest frequency threshold tried
UPPER_THRESHOLD = 10_000_000      # largest
MAX_TOKEN_LENGTH = 50             # longer words are not counted
MAX_UNIQUE_CHARACTERS = 1000      # words with rarer characters are not counted
MAX_INPUT_WORDS = 5_000_000       # only the most frequent distinct words are counted
SLACK_RATIO = 0.05                # a vocabulary within 5% under the target size is accepted


def compute_word_piece_vocabulary(data, vocabulary_size, vocabulary_output_file=None,
                                  lowercase=False, strip_accents=False, split=True,
                                  split_on_cjk=True, suffix_indicator="##",
                                  reserved_tokens=None):
    """Learn a WordPiece vocabulary of at most ``vocabulary_size`` tokens.

    Args:
        data: the training text: a list of file names (every element names a file; each file
            is read whole, as UTF-8), or any other iterable of strings. With ``split=False``,
            an iterable of lists of words (the text already split).
        vocabulary_size: the largest vocabulary wanted.
        vocabulary_output_file: if set, also write the vocabulary there, one token per line.
        lowercase, strip_accents, split, split_on_cjk: pre-tokenization, as in
            ``WordPieceTokenizer`` (use the same values for the tokenizer).
        suffix_indicator: the prefix of word-continuing pieces.
        reserved_tokens: tokens placed first, in order (None: "[PAD]", "[CLS]", "[SEP]",
            "[UNK]", "[MASK]", KerasHub's default).

    Returns:
        The vocabulary, a list of tokens (id = position).
    """
    reserved = list(DEFAULT_RESERVED_TOKENS if reserved_tokens is None else reserved_tokens)
    if not isinstance(vocabulary_size, int) or vocabulary_size <= 0:
        raise ValueError(f"vocabulary_size: expected a positive int, got {vocabulary_size!r}")
    convention = KerasHubConvention(lowercase, strip_accents, split, split_on_cjk)
    word_counts = count_words(_documents(data, split), convention)
    if not word_counts:
        raise ValueError("data: holds no words to learn from")
    vocabulary = learn(word_counts, vocabulary_size, reserved, suffix_indicator)
    if vocabulary_output_file is not None:
        with open(vocabulary_output_file, "w", encoding="utf-8") as file:
            file.writelines(f"{token}\n" for token in vocabulary)
    return vocabulary


def _documents(data, split):
    """Yield the training texts (or word lists when not ``split``)."""
    if isinstance(data, (str, bytes)):
        raise ValueError("data: expected a list of file names or an iterable of strings, got "
                         "a single string (wrap it in a list)")
    if isinstance(data, list) and data and all(
            isinstance(path, (str, os.PathLike)) and os.path.isfile(path) for path in data):
        if not split:
            raise ValueError("data: file names need split=True; pass lists of words instead")
        for path in data:
            with open(path, encoding="utf-8") as file:
                yield file.read()
        return
    for i, document in enumerate(data):
        if split:
            yield as_text(document, f"data[{i}]")
        else:
            words = [document] if isinstance(document, (str, bytes)) else document
            yield [as_text(word, f"data[{i}]") for word in words]


def count_words(documents, convention):
    """Counter of the words of ``documents`` after ``convention``'s pre-tokenization."""
    raw = collections.Counter()
    for document in documents:
        chunks = document if isinstance(document, list) else [document]
        for chunk in chunks:
            raw.update(convention.split(convention.normalize_text(chunk)))
    counts = collections.Counter()
    for word, count in raw.items():          # normalise each distinct word once
        for piece in convention.pieces(word):
            counts[piece] += count
    return counts


def learn(word_counts, vocabulary_size, reserved_tokens, suffix_indicator="##"):
    """The WordPiece vocabulary of ``word_counts`` ({word: count}), as described above."""
    reserved = list(reserved_tokens)
    characters = sorted({char for word in word_counts for char in word})
    fixed = list(dict.fromkeys(reserved + characters + [suffix_indicator + c
                                                       for c in characters]))
    if len(fixed) > vocabulary_size:
        raise ValueError(
            f"vocabulary_size: {vocabulary_size} is too small; the reserved tokens and the "
            f"{len(characters)} characters of the data (alone and as '{suffix_indicator}' "
            f"pieces) need {len(fixed)}")
    counts = word_counts.values()
    lower = max(min(counts), LOWER_THRESHOLD)
    upper = min(max(counts), UPPER_THRESHOLD)
    words = _words_to_count(word_counts, set(reserved))
    first_counts = _count_endings(words, suffix_indicator, None)
    while True:
        threshold = (lower + upper) // 2
        vocabulary = _learn_with_threshold(words, first_counts, characters, threshold,
                                           reserved, suffix_indicator)
        size = len(vocabulary)
        close_enough = size <= vocabulary_size and \
            vocabulary_size - size <= SLACK_RATIO * vocabulary_size
        if close_enough or lower >= upper or threshold <= 1:
            break
        if size > vocabulary_size:
            lower = threshold + 1
        else:
            upper = threshold - 1
    return _trim(vocabulary, vocabulary_size, set(fixed))


def _words_to_count(word_counts, reserved):
    """[(word, count)], most frequent first, without: empty words (lowercasing deletes
    some characters), reserved tokens, words longer than MAX_TOKEN_LENGTH, words with a
    character outside the MAX_UNIQUE_CHARACTERS most frequent ones; at most MAX_INPUT_WORDS."""
    words = [(word, count) for word, count in word_counts.items()
             if 0 < len(word) <= MAX_TOKEN_LENGTH and word not in reserved]
    char_counts = collections.Counter()
    for word, count in words:
        for char in word:
            char_counts[char] += count
    ranked = sorted(char_counts.items(), key=lambda item: (-item[1], item[0]))
    allowed = {char for char, _ in ranked[:MAX_UNIQUE_CHARACTERS]}
    words.sort(key=lambda item: -item[1])                       # stable: ties keep order
    return [(word, count) for word, count in words if allowed.issuperset(word)][
        :MAX_INPUT_WORDS]


def _count_endings(words, suffix, vocabulary):
    """{token: count}: each word counts for itself and for "##" + the rest of the word at
    each piece start after the first. The pieces are single characters when ``vocabulary``
    is None, else those of a greedy longest-match cut with ``vocabulary``."""
    counts = collections.defaultdict(int)
    if vocabulary is None:
        for word, count in words:
            counts[word] += count
            for start in range(1, len(word)):
                counts[suffix + word[start:]] += count
        return counts
    # A greedy cut: the first piece may be any token, the next ones are suffix tokens.
    trie = _trie(vocabulary)
    suffix_trie = _trie(token[len(suffix):] for token in vocabulary if token.startswith(suffix))
    for word, count in words:
        counts[word] += count
        start, node = 0, trie
        while start < len(word):
            # Walk the trie along word[start:]; the last token end seen is the next piece.
            # Every character is a token (alone and as a suffix piece): the piece is >= 1.
            end = position = start
            while position < len(word):
                node = node.get(word[position])
                if node is None:
                    break
                position += 1
                if _END in node:
                    end = position
            if start:
                counts[suffix + word[start:]] += count
            start, node = end, suffix_trie
    return counts


_END = None  # the trie key marking "a token ends here" (never a character)


def _trie(tokens):
    """A prefix tree of ``tokens``: nested {char: subtree} dicts, ``_END`` where one ends."""
    root = {}
    for token in tokens:
        node = root
        for char in token:
            node = node.setdefault(char, {})
        node[_END] = True
    return root


def _learn_with_threshold(words, first_counts, characters, threshold, reserved, suffix):
    """The vocabulary learned with one frequency threshold (NUM_ITERATIONS rounds)."""
    counts = first_counts
    for iteration in range(NUM_ITERATIONS):
        if iteration:
            counts = _count_endings(words, suffix, tokens)
        tokens = {token: count for token, count in counts.items() if count >= threshold}
        for char in characters:
            tokens.setdefault(char, 1)
            tokens.setdefault(suffix + char, 1)
    ranked = sorted(tokens.items(), key=lambda item: (-item[1], item[0]))
    return list(dict.fromkeys(reserved + characters + [token for token, _ in ranked]))


def _trim(vocabulary, vocabulary_size, fixed):
    """Cut ``vocabulary`` to ``vocabulary_size``, dropping the last learned tokens (never a
    reserved token or a character)."""
    excess = len(vocabulary) - vocabulary_size
    if excess <= 0:
        return vocabulary
    dropped = set()
    for token in reversed(vocabulary):
        if len(dropped) == excess:
            break
        if token not in fixed:
            dropped.add(token)
    return [token for token in vocabulary if token not in dropped]
