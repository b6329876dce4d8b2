"""fit / evaluate / predict on raw text through the real BERT preprocessors: batch by batch,
every epoch, with fresh masks."""
import numpy as np
import pytest

from minibert import utils
from minibert.models.bert.bert_backbone import BertBackbone
from minibert.models.bert.bert_masked_lm import BertMaskedLM
from minibert.models.bert.bert_masked_lm_preprocessor import BertMaskedLMPreprocessor
from minibert.models.bert.bert_text_classifier import BertTextClassifier
from minibert.models.bert.bert_text_classifier_preprocessor import \
    BertTextClassifierPreprocessor
from minibert.models.bert.bert_tokenizer import BertTokenizer
from minibert.training import optimizers

VOCABULARY = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"] + (
    "the quick brown fox jumped over lazy dog a cat sat on mat and ran far away").split()
TEXTS = ["the quick brown fox", "a cat sat on the mat", "the lazy dog jumped over the fox",
         "a dog sat", "the cat ran far away", "a quick dog and a lazy cat"]
SEQUENCE_LENGTH = 12

pytestmark = pytest.mark.filterwarnings("ignore:.*no gradient")


def backbone():
    return BertBackbone(vocabulary_size=len(VOCABULARY), num_layers=1, num_heads=2,
                        hidden_dim=8, intermediate_dim=16, max_sequence_length=SEQUENCE_LENGTH,
                        dropout=0.0)


class Recording:
    """Calls a preprocessor and keeps every (x, y, sample_weight) it returned."""

    def __init__(self, preprocessor):
        self.preprocessor, self.outputs = preprocessor, []

    def __call__(self, x, y=None, sample_weight=None):
        output = self.preprocessor(x, y=y, sample_weight=sample_weight)
        self.outputs.append(output)
        return output


def masked_lm(seed):
    utils.set_random_seed(seed)
    tokenizer = BertTokenizer(vocabulary=VOCABULARY, lowercase=True)
    preprocessor = BertMaskedLMPreprocessor(tokenizer, sequence_length=SEQUENCE_LENGTH,
                                            mask_selection_length=4, mask_selection_rate=0.3)
    model = BertMaskedLM(backbone(), preprocessor=Recording(preprocessor))
    model.compile(optimizer=optimizers.Adam(1e-2))
    return model


def test_text_fit_is_the_preprocessor_then_train_on_batch():
    """fit(texts) calls the preprocessor on each batch in turn, every epoch, and trains on what
    it returns: the same as doing it by hand from the same seed."""
    fitted = masked_lm(seed=1)
    history = fitted.fit(TEXTS, batch_size=3, epochs=2, shuffle=False, verbose=0)
    manual = masked_lm(seed=1)
    losses = []
    for _ in range(2):
        for start in (0, 3):
            x, y, weight = manual.preprocessor(TEXTS[start:start + 3])
            losses.append(manual.train_on_batch(x, y, weight)[0])
    assert all(np.array_equal(a.numpy(), b.numpy())
               for a, b in zip(fitted.weights, manual.weights))
    assert history.history["loss"][1] == pytest.approx((losses[2] + losses[3]) / 2, rel=1e-6)
    first_epoch, second_epoch = fitted.preprocessor.outputs[:2], fitted.preprocessor.outputs[2:]
    assert any(not np.array_equal(a[0]["mask_positions"], b[0]["mask_positions"])
               for a, b in zip(first_epoch, second_epoch)), "masks must be drawn afresh"


def test_seeded_text_runs_are_identical():
    runs = []
    for _ in range(2):
        model = masked_lm(seed=4)
        history = model.fit(TEXTS, batch_size=2, epochs=2, verbose=0, validation_split=0.34)
        runs.append((history.history, [v.numpy().copy() for v in model.weights]))
    assert runs[0][0] == runs[1][0]
    assert all(np.array_equal(a, b) for a, b in zip(runs[0][1], runs[1][1]))


def test_masked_lm_evaluate_and_predict_on_text():
    model = masked_lm(seed=2)
    logs = model.evaluate(TEXTS, batch_size=4, verbose=0, return_dict=True)
    assert set(logs) == {"loss", "sparse_categorical_accuracy"} and np.isfinite(logs["loss"])
    logits = model.predict(TEXTS, batch_size=4, verbose=0)
    assert logits.shape == (len(TEXTS), 4, len(VOCABULARY))


def test_text_classifier_on_sentence_pairs():
    """A tuple of two string lists is one input of sentence pairs, as in KerasHub."""
    utils.set_random_seed(3)
    tokenizer = BertTokenizer(vocabulary=VOCABULARY, lowercase=True)
    preprocessor = BertTextClassifierPreprocessor(tokenizer, sequence_length=SEQUENCE_LENGTH)
    model = BertTextClassifier(backbone(), num_classes=2, preprocessor=preprocessor,
                               dropout=0.0)
    model.compile(optimizer=optimizers.Adam(1e-2))
    pairs, labels = (TEXTS, TEXTS[::-1]), np.array([0, 1, 0, 1, 0, 1])
    history = model.fit(pairs, labels, batch_size=2, epochs=3, verbose=0)
    assert history.epoch == [0, 1, 2] and all(np.isfinite(history.history["loss"]))
    logits = model.predict(pairs, batch_size=4, verbose=0)
    expected = model.predict_on_batch(preprocessor(x=pairs))
    np.testing.assert_allclose(logits, expected, rtol=1e-6, atol=1e-7)
