"""Parity: minibert's ids are identical to KerasHub's and HF transformers' on every string of
tests/data/tokenizer_corpus.jsonl, with an uncased and a cased vocabulary, lowercasing on and
off; and on one string per code point for a sample of all of Unicode.

KerasHub has two implementations of its tokenizer: TensorFlow Text ops (used when it runs in
a tf.data pipeline, as ``fit`` does) and a pure-Python port (used on eager calls). They
disagree on two points, and minibert follows TensorFlow Text on both, as KerasHub's own
reference semantics:
- TensorFlow Text stops reading a string at a NUL character; minibert, like the Python port,
  treats NUL as any other control character: a word boundary. So the TensorFlow Text path is
  given the pieces between NULs, and their ids are concatenated.
- Lowercasing is Unicode NFKC_Casefold. The Python port approximates it in a way that orders
  some combining marks differently (e.g. U+0345 after other marks); where the two KerasHub
  paths disagree, minibert must equal the TensorFlow Text one.
"""
import unicodedata

import pytest
from reference_libraries import require

from data import make_tokenizer_corpus
from minibert.models.bert.bert_tokenizer import BertTokenizer

SETTINGS = [("uncased", True), ("cased", False), ("uncased", False), ("cased", True)]


@pytest.fixture(scope="module")
def keras_hub():
    require("tensorflow_text")            # KerasHub's graph path runs TensorFlow Text ops
    return require("keras_hub")


@pytest.fixture(scope="module")
def transformers():
    return require("transformers")


def test_corpus_file_is_what_the_script_writes(corpus):
    assert corpus == make_tokenizer_corpus.corpus()
    assert len(corpus) >= 500


def vocabulary_path(request, vocabulary):
    return request.getfixturevalue(f"{vocabulary}_vocabulary")


def keras_hub_ids(keras_hub, vocabulary, lowercase, texts):
    """(eager ids, graph ids) of KerasHub's BertTokenizer on ``texts``."""
    tf = require("tensorflow")
    eager = keras_hub.models.BertTokenizer(vocabulary=vocabulary, lowercase=lowercase)
    graph = keras_hub.models.BertTokenizer(vocabulary=vocabulary, lowercase=lowercase,
                                           _allow_python_workflow=False)
    eager_ids = [[int(i) for i in ids] for ids in eager(texts)]
    pieces = [text.split("\x00") for text in texts]     # see the module docstring
    piece_ids = []
    for batch in tf.data.Dataset.from_tensor_slices(sum(pieces, [])).batch(512).map(graph):
        piece_ids.extend(batch.to_list())
    graph_ids, start = [], 0
    for text_pieces in pieces:
        graph_ids.append(sum(piece_ids[start:start + len(text_pieces)], []))
        start += len(text_pieces)
    return eager_ids, graph_ids


def assert_matches_keras_hub(texts, ours, eager, graph, skip_graph=()):
    """Equal to the graph path (except on ``skip_graph`` strings), and to the eager path
    except where the eager path disagrees with the graph path. Returns how many strings the
    graph path had to settle."""
    settled = 0
    for i, text in enumerate(texts):
        if i not in skip_graph:
            assert ours[i] == graph[i], f"TensorFlow Text path differs on {text!r}"
            if eager[i] != graph[i]:
                settled += 1
                continue
        assert ours[i] == eager[i], f"Python path differs on {text!r}"
    return settled


@pytest.mark.parametrize("vocabulary,lowercase", SETTINGS)
def test_corpus_matches_keras_hub(request, keras_hub, corpus_texts, vocabulary, lowercase):
    path = vocabulary_path(request, vocabulary)
    ours = BertTokenizer(path, lowercase=lowercase)(corpus_texts)
    eager, graph = keras_hub_ids(keras_hub, path, lowercase, corpus_texts)
    settled = assert_matches_keras_hub(corpus_texts, ours, eager, graph)
    if not lowercase:                  # the paths differ only in how they lowercase
        assert settled == 0


def hf_reference(transformers, convention, path, lowercase):
    """HF's tokenizer: the Rust-backed BertTokenizer or the pure-Python BertTokenizerLegacy."""
    from transformers.models.bert import tokenization_bert, tokenization_bert_legacy
    if convention == "transformers":
        return transformers.BertTokenizer(vocab=tokenization_bert.load_vocab(path),
                                          do_lower_case=lowercase)
    return tokenization_bert_legacy.BertTokenizerLegacy(path, do_lower_case=lowercase)


@pytest.mark.parametrize("convention", ["transformers", "transformers_python"])
@pytest.mark.parametrize("vocabulary,lowercase", SETTINGS)
def test_corpus_matches_transformers(request, transformers, corpus_texts, vocabulary,
                                     lowercase, convention):
    path = vocabulary_path(request, vocabulary)
    reference = hf_reference(transformers, convention, path, lowercase)
    ours = BertTokenizer.from_hf(path, lowercase=lowercase, convention=convention)
    for text in corpus_texts:
        expected = reference(text, add_special_tokens=False)["input_ids"]
        assert ours(text) == expected, f"{text!r}"


def code_point_probes():
    """One string per sampled code point c, with c inside, alone and after a capital:
    every code point below U+3400, then every 61st (no surrogates)."""
    points = [cp for cp in list(range(0x3400)) + list(range(0x3400, 0x110000, 61))
              if not 0xD800 <= cp <= 0xDFFF]
    return points, [f"x{chr(cp)}y {chr(cp)} Z{chr(cp)}" for cp in points]


@pytest.mark.slow
@pytest.mark.parametrize("lowercase", [True, False])
def test_code_points_match_keras_hub_and_transformers_python(
        keras_hub, transformers, uncased_vocabulary, lowercase):
    """Every sampled code point, against KerasHub (both paths) and HF's Python tokenizer.
    Code points unassigned in this Python's Unicode tables are left out of the TensorFlow
    Text comparison: TensorFlow's tables are newer and know some of them."""
    points, texts = code_point_probes()
    ours = BertTokenizer(uncased_vocabulary, lowercase=lowercase)(texts)
    eager, graph = keras_hub_ids(keras_hub, uncased_vocabulary, lowercase, texts)
    newer = {i for i, cp in enumerate(points) if unicodedata.category(chr(cp)) == "Cn"}
    assert_matches_keras_hub(texts, ours, eager, graph, skip_graph=newer)

    reference = hf_reference(transformers, "transformers_python", uncased_vocabulary,
                             lowercase)
    ours = BertTokenizer.from_hf(uncased_vocabulary, lowercase=lowercase,
                                 convention="transformers_python")(texts)
    for text, ids in zip(texts, ours):
        assert ids == reference(text, add_special_tokens=False)["input_ids"], f"{text!r}"
