"""MaskedLMMaskGenerator: how many tokens, which ones, what they become, and seeding."""
import math

import numpy as np
import pytest
from reference_libraries import require

from minibert.layers.preprocessing import MaskedLMMaskGenerator
from minibert.utils import set_random_seed

VOCABULARY_SIZE = 1000
MASK, CLS, SEP, PAD = 3, 1, 2, 0


def batch(rng, rows=64, length=40):
    """[CLS] tokens [SEP] [PAD]...: random real lengths, ids from 10 up."""
    ids = np.zeros((rows, length), dtype=np.int32)
    for row in ids:
        n = rng.integers(0, length - 1)
        row[0], row[1:n + 1], row[n + 1] = CLS, rng.integers(10, VOCABULARY_SIZE, n), SEP
    return ids


def make(**kwargs):
    arguments = dict(vocabulary_size=VOCABULARY_SIZE, mask_selection_rate=0.15,
                     mask_token_id=MASK, unselectable_token_ids=[CLS, SEP, PAD], seed=0)
    return MaskedLMMaskGenerator(**{**arguments, **kwargs})


def test_exact_count_hand_derived():
    # float32(0.15) = 0.1500000059604644775390625; times 20 = 3 + 2**-23, exactly halfway
    # between the float32 neighbours 3 and 3 + 2**-22, so it rounds (to even) to 3.0:
    # ceil gives 3 (in float64 20 * 0.15 = 3.0000000000000004 would give 4).
    row = [CLS] + list(range(10, 30)) + [SEP]
    assert make()(row)["mask_weights"].sum() == 3
    # 7 * 0.5 = 3.5 -> 4, capped at mask_selection_length=2.
    assert make(mask_selection_rate=0.5)(list(range(10, 17)))["mask_weights"].sum() == 4
    capped = make(mask_selection_rate=0.5, mask_selection_length=2)(list(range(10, 17)))
    assert capped["mask_weights"].tolist() == [1.0, 1.0]


@pytest.mark.parametrize("rate", [0.1, 0.15, 0.3, 0.5])
def test_exact_count_matches_keras_hub_fit_path(rate):
    """KerasHub's TensorFlow Text path (the one ``fit`` uses) selects the same number."""
    require("tensorflow_text")
    tf = require("tensorflow")
    keras_hub = require("keras_hub")
    rows = [[10 + i for i in range(n)] + [PAD] * (60 - n) for n in range(1, 61)]
    reference = keras_hub.layers.MaskedLMMaskGenerator(
        vocabulary_size=VOCABULARY_SIZE, mask_selection_rate=rate, mask_token_id=MASK,
        mask_selection_length=40, unselectable_token_ids=[PAD], _allow_python_workflow=False)
    expected = np.asarray(reference(tf.constant(rows))["mask_weights"]).sum(axis=1)
    ours = make(mask_selection_rate=rate, mask_selection_length=40,
                unselectable_token_ids=[PAD])(rows)["mask_weights"].sum(axis=1)
    np.testing.assert_array_equal(ours, expected)


@pytest.mark.parametrize("selection", ["exact_count", "bernoulli"])
def test_never_selects_unselectable_and_outputs_agree(selection):
    masker = make(mask_selection_length=8, selection=selection)
    ids = batch(np.random.default_rng(1))
    for _ in range(20):
        out = masker(ids)
        weights = out["mask_weights"]
        positions = out["mask_positions"]
        assert positions.shape == weights.shape == out["mask_ids"].shape == (64, 8)
        for row in range(len(ids)):
            n = int(weights[row].sum())
            assert weights[row].tolist() == [1.0] * n + [0.0] * (8 - n)
            chosen = positions[row, :n]
            assert np.all(np.diff(chosen) > 0)                    # ascending
            assert not np.isin(ids[row, chosen], [CLS, SEP, PAD]).any()
            np.testing.assert_array_equal(out["mask_ids"][row, :n], ids[row, chosen])
            assert out["mask_ids"][row, n:].tolist() == positions[row, n:].tolist() == \
                [0] * (8 - n)
            unchosen = np.setdiff1d(np.arange(ids.shape[1]), chosen)
            np.testing.assert_array_equal(out["token_ids"][row, unchosen], ids[row, unchosen])
            labels = out["labels"][row]
            np.testing.assert_array_equal(labels[chosen], ids[row, chosen])
            assert np.all(labels[unchosen] == -100)
            if selection == "exact_count":
                selectable = int(np.sum(~np.isin(ids[row], [CLS, SEP, PAD])))
                assert n == min(math.ceil(np.float32(selectable) * np.float32(0.15)), 8)


def test_replacement_rates_within_binomial_bounds():
    """Each selected token becomes [MASK] with probability 0.8 + 0.1/V (a random id can be
    [MASK] too), stays unchanged with 0.1 + 0.1/V, and becomes another id with 0.1 (V-2)/V.
    Every count must be within 5 standard deviations of N p."""
    masker = make(mask_selection_rate=0.5)
    ids = batch(np.random.default_rng(2), rows=512)
    outcomes = np.zeros(3)
    for _ in range(10):
        out = masker(ids)
        chosen = out["labels"] != -100
        new, old = out["token_ids"][chosen], ids[chosen]
        outcomes += [np.sum(new == MASK), np.sum(new == old),
                     np.sum((new != MASK) & (new != old))]
    n = outcomes.sum()
    assert n > 40_000
    p = np.array([0.8 + 0.1 / VOCABULARY_SIZE, 0.1 + 0.1 / VOCABULARY_SIZE,
                  0.1 * (VOCABULARY_SIZE - 2) / VOCABULARY_SIZE])
    bound = 5 * np.sqrt(n * p * (1 - p))
    assert np.all(np.abs(outcomes - n * p) <= bound), (outcomes, n * p, bound)


def test_bernoulli_selection_count_within_binomial_bounds():
    masker = make(selection="bernoulli")
    ids = np.full((2000, 30), 50, dtype=np.int32)           # 30 selectable tokens per row
    selected = masker(ids)["labels"] != -100
    n, p = ids.size, 0.15
    assert abs(selected.sum() - n * p) <= 5 * np.sqrt(n * p * (1 - p))
    assert len(set(selected.sum(axis=1))) > 3               # the count varies per row


def test_seeding():
    ids = batch(np.random.default_rng(3))
    first = make(seed=5, mask_selection_length=10)(ids)
    again = make(seed=5, mask_selection_length=10)(ids)
    other = make(seed=6, mask_selection_length=10)(ids)
    for key in first:
        np.testing.assert_array_equal(first[key], again[key])
    assert not np.array_equal(first["token_ids"], other["token_ids"])
    masker = make(seed=None)
    set_random_seed(11)
    shared_first = masker(ids)
    set_random_seed(11)
    shared_again = masker(ids)
    np.testing.assert_array_equal(shared_first["labels"], shared_again["labels"])
    assert not np.array_equal(masker(ids)["labels"], shared_again["labels"])   # fresh masks


def test_ragged_and_unbatched_inputs():
    masker = make(mask_selection_rate=1.0, mask_token_rate=1.0, random_token_rate=0.0)
    out = masker([[CLS, 10, 11, SEP], [CLS, 12, SEP]])
    assert [row.tolist() for row in out["token_ids"]] == [[CLS, MASK, MASK, SEP],
                                                          [CLS, MASK, SEP]]
    assert [row.tolist() for row in out["mask_positions"]] == [[1, 2], [1]]
    assert [row.tolist() for row in out["mask_ids"]] == [[10, 11], [12]]
    single = masker([CLS, 10, SEP])
    assert single["token_ids"].tolist() == [CLS, MASK, SEP]
    assert single["labels"].tolist() == [-100, 10, -100]


def test_errors():
    with pytest.raises(ValueError, match="mask_token_id"):
        make(mask_token_id=VOCABULARY_SIZE)
    with pytest.raises(ValueError, match="mask_selection_rate"):
        make(mask_selection_rate=1.5)
    with pytest.raises(ValueError, match="must be <= 1"):
        make(mask_token_rate=0.8, random_token_rate=0.3)
    with pytest.raises(ValueError, match="selection"):
        make(selection="poisson")
    with pytest.raises(ValueError, match="rank 1 or 2"):
        make()(np.zeros((2, 2, 2), dtype=np.int32))
