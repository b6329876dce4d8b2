"""MultiSegmentPacker: KerasHub's layout, truncation and padding."""
import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from reference_libraries import require

from minibert.layers.preprocessing import MultiSegmentPacker
from minibert.layers.preprocessing.multi_segment_packer import (round_robin_lengths,
                                                                waterfall_lengths)


def test_layout_and_segment_ids():
    packer = MultiSegmentPacker(sequence_length=10, start_value=101, end_value=102)
    token_ids, segment_ids = packer(([1, 2, 3], [4, 5]))
    np.testing.assert_array_equal(token_ids, [101, 1, 2, 3, 102, 4, 5, 102, 0, 0])
    np.testing.assert_array_equal(segment_ids, [0, 0, 0, 0, 0, 1, 1, 1, 0, 0])
    assert token_ids.dtype == np.int32 and segment_ids.dtype == np.int32


def test_truncation_hand_examples():
    # Budgets and results worked out by dealing one token at a time (round robin) or
    # filling left to right (waterfall).
    assert round_robin_lengths([6, 7], 7) == [4, 3]
    assert round_robin_lengths([6, 2, 4], 6) == [2, 2, 2]
    assert round_robin_lengths([1, 9, 9], 8) == [1, 4, 3]
    assert round_robin_lengths([3, 3], 10) == [3, 3]
    assert waterfall_lengths([6, 7], 7) == [6, 1]
    assert waterfall_lengths([2, 7], 7) == [2, 5]
    assert waterfall_lengths([8, 7], 7) == [7, 0]


def test_multi_token_delimiters_left_padding_and_no_start_or_end():
    packer = MultiSegmentPacker(sequence_length=9, start_value=[7, 8], end_value=9,
                                sep_value=[5, 5], pad_value=-1, padding_side="left")
    token_ids, segment_ids = packer(([1, 2], [3]))
    np.testing.assert_array_equal(token_ids, [-1, 7, 8, 1, 2, 5, 5, 3, 9])
    np.testing.assert_array_equal(segment_ids, [0, 0, 0, 0, 0, 0, 0, 1, 1])
    token_ids, _ = packer(([1, 2], [3]), add_start_value=False, add_end_value=False)
    np.testing.assert_array_equal(token_ids, [-1, -1, -1, -1, 1, 2, 5, 5, 3])


def test_string_tokens():
    packer = MultiSegmentPacker(sequence_length=6, start_value="[CLS]", end_value="[SEP]")
    token_ids, segment_ids = packer((["a", "b"],))
    assert token_ids == ["[CLS]", "a", "b", "[SEP]", "", ""]
    np.testing.assert_array_equal(segment_ids, [0, 0, 0, 0, 0, 0])


def test_errors():
    packer = MultiSegmentPacker(sequence_length=2, start_value=101, end_value=102)
    with pytest.raises(ValueError, match="sequence_length=2 is too small: 2 segment\\(s\\) "
                                         "need 3 positions"):
        packer(([1], [2]))
    with pytest.raises(ValueError, match="same size"):
        MultiSegmentPacker(8, 1, 2)(([[1], [2]], [[3]]))
    with pytest.raises(ValueError, match="truncate"):
        MultiSegmentPacker(8, 1, 2, truncate="middle_out")
    with pytest.raises(ValueError, match="padding_side"):
        MultiSegmentPacker(8, 1, 2, padding_side="up")


segment = st.lists(st.integers(1, 99), max_size=14)


def width(delimiter):
    """How many tokens a delimiter value (an id or a list of ids) takes."""
    return len(delimiter) if isinstance(delimiter, list) else 1


@settings(max_examples=200, deadline=None)
@given(segments=st.lists(st.lists(segment, min_size=1, max_size=3), min_size=1, max_size=3),
       sequence_length=st.integers(6, 24),
       truncate=st.sampled_from(["round_robin", "waterfall"]),
       padding_side=st.sampled_from(["right", "left"]),
       delimiters=st.sampled_from([(101, 102, None), ([101, 100], 102, [103, 103]),
                                   (101, [102, 104], 105)]),
       add_start=st.booleans(), add_end=st.booleans())
def test_matches_keras_hub(segments, sequence_length, truncate, padding_side, delimiters,
                           add_start, add_end):
    """A batch of examples, each with the same number (1-3) of segments of any length."""
    keras_hub = require("keras_hub")
    start, end, sep = delimiters
    arguments = dict(sequence_length=sequence_length, start_value=start, end_value=end,
                     sep_value=sep, truncate=truncate, padding_side=padding_side)
    num_segments = len(segments[0])
    assume(sequence_length >= add_start * width(start) + add_end * width(end)
           + (num_segments - 1) * width(end if sep is None else sep))
    batch = tuple([example[i] if i < len(example) else [] for example in segments]
                  for i in range(num_segments))
    expected = keras_hub.layers.MultiSegmentPacker(**arguments)(
        batch, add_start_value=add_start, add_end_value=add_end)
    ours = MultiSegmentPacker(**arguments)(batch, add_start_value=add_start,
                                           add_end_value=add_end)
    for mine, theirs in zip(ours, expected):
        np.testing.assert_array_equal(mine, np.asarray(theirs))
