import pytest

from data.tokenizer_references import (load_corpus, train_cased_vocabulary,
                                       uncased_vocabulary_path)


@pytest.fixture(scope="session")
def corpus():
    return load_corpus()


@pytest.fixture(scope="session")
def corpus_texts(corpus):
    return [entry["text"] for entry in corpus]


@pytest.fixture(scope="session")
def uncased_vocabulary():
    return uncased_vocabulary_path()


@pytest.fixture(scope="session")
def cased_vocabulary(corpus_texts, tmp_path_factory):
    return train_cased_vocabulary(corpus_texts, tmp_path_factory.mktemp("cased_vocabulary"))
