import pytest

from data.tokenizer_references import uncased_vocabulary_path


@pytest.fixture(scope="session")
def uncased_vocabulary():
    return uncased_vocabulary_path()
