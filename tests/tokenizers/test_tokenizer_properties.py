"""Properties over arbitrary Unicode (hypothesis): the tokenizer never crashes, every id is
in range, and detokenize-then-tokenize is stable once the text is normalised."""
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from minibert.models.bert.bert_tokenizer import BertTokenizer

CONVENTIONS = ["keras_hub", "transformers", "transformers_python"]

# Any code point except surrogates, with extra weight on the characters tokenizers treat
# specially (controls, format, marks, punctuation, spaces) and on plain words.
ANY_TEXT = st.text(alphabet=st.characters(exclude_categories=["Cs"]), max_size=60)
TRICKY_TEXT = st.lists(
    st.one_of(
        st.characters(categories=["Cc", "Cf", "Mn", "Zs", "Zl", "Zp", "Po", "Lo", "So"]),
        st.sampled_from(list("abcXYZ .,!?'[]#ﬁßΣé") + ["[MASK]", "[CLS]", "##"])),
    max_size=40).map("".join)
WORDY_TEXT = st.lists(st.sampled_from(["the", "Quick", "brown", "fox", "jumps", "über",
                                       "café", "naïve", "中文", "😀", ",", ".", "[MASK]",
                                       "unbelievable", "tokenization", "ﬁne", "ΟΔΟΣ"]),
                      max_size=12).map(" ".join)


@pytest.fixture(scope="module")
def tokenizers(uncased_vocabulary):
    built = {"keras_hub": BertTokenizer(uncased_vocabulary, lowercase=True)}
    for convention in CONVENTIONS[1:]:
        built[convention] = BertTokenizer.from_hf(uncased_vocabulary, lowercase=True,
                                                  convention=convention)
    return built


@pytest.mark.parametrize("convention", CONVENTIONS)
@settings(max_examples=150, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=st.one_of(ANY_TEXT, TRICKY_TEXT, WORDY_TEXT))
def test_any_text_gives_ids_in_range(tokenizers, convention, text):
    tokenizer = tokenizers[convention]
    ids = tokenizer(text)
    assert all(isinstance(i, int) and 0 <= i < tokenizer.vocabulary_size() for i in ids)
    assert tokenizer([text, text]) == [ids, ids]


@pytest.mark.parametrize("convention", CONVENTIONS)
@settings(max_examples=150, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=st.one_of(ANY_TEXT, TRICKY_TEXT, WORDY_TEXT))
def test_detokenize_then_tokenize_is_stable_on_normalised_text(tokenizers, convention, text):
    """Normalising is two round trips: the first resolves compatibility characters whose
    folded form holds punctuation ("㈠" -> "(一)"), the second the "[UNK]" strings the first
    one wrote. After that, the ids no longer change."""
    tokenizer = tokenizers[convention]

    def round_trip(ids):
        return tokenizer(tokenizer.detokenize(ids))

    normalised = round_trip(round_trip(tokenizer(text)))
    assert round_trip(normalised) == normalised
