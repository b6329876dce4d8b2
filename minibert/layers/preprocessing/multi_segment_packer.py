"""MultiSegmentPacker: one or more token sequences -> BERT's fixed-length input.

    segments  ([7, 8, 9], [4, 5])            sequence_length=8, start 101, end 102
    packed    [101, 7, 8, 9, 102, 4, 5, 102]     "[CLS] a b c [SEP] d e [SEP]"
    segments  [  0, 0, 0, 0,   0, 1, 1,   1]     start -> 0, segment i and the delimiter
                                                  after it -> i, padding -> 0

When the segments do not fit, they are truncated first: the budget is sequence_length minus
the delimiters, shared out "round_robin" (one token to each segment in turn, so the longest
ones lose tokens first) or "waterfall" (the first segment takes what it needs, the next one
what is left, ...).
"""
import numpy as np

from minibert.layers.layer import Layer
from minibert.layers.preprocessing.rows import as_token_rows


def round_robin_lengths(lengths, budget):
    """How many tokens each segment keeps when ``budget`` tokens are dealt out one at a time,
    to each segment in turn that still has tokens: (6, 7) with 7 -> (4, 3)."""
    if sum(lengths) <= budget:
        return list(lengths)
    level = 0                       # every segment keeps min(length, level) ...
    while sum(min(n, level + 1) for n in lengths) <= budget:
        level += 1
    kept = [min(n, level) for n in lengths]
    left = budget - sum(kept)       # ... and the first `left` longer ones one token more
    for i, n in enumerate(lengths):
        if left and n > level:
            kept[i] += 1
            left -= 1
    return kept


def waterfall_lengths(lengths, budget):
    """How many tokens each segment keeps when each one, left to right, takes what it needs
    from what is left of ``budget``: (6, 7) with 7 -> (6, 1)."""
    kept = []
    for n in lengths:
        kept.append(min(n, budget))
        budget -= kept[-1]
    return kept


_TRUNCATERS = {"round_robin": round_robin_lengths, "waterfall": waterfall_lengths}


def _as_delimiter(value, argument):
    """An int/str delimiter as a one-element list; a list/tuple as a list."""
    if isinstance(value, (int, np.integer, str)) and not isinstance(value, bool):
        return [value.item() if isinstance(value, np.integer) else value]
    if isinstance(value, (list, tuple)):
        return list(value)
    raise ValueError(f"{argument}: expected an int, a str, or a list of them, got {value!r}")


class MultiSegmentPacker(Layer):
    """Pack a tuple of segments into ``(token_ids, segment_ids)``, as KerasHub's layer.

    Args:
        sequence_length: the output length.
        start_value: the token(s) at the start ("[CLS]" id); an int, str, or list of them.
        end_value: the token(s) after the last segment ("[SEP]" id).
        sep_value: the token(s) after every other segment (None: ``end_value``).
        pad_value: the padding token (None: 0, or "" for string tokens).
        truncate: "round_robin" or "waterfall" (see the module docstring).
        padding_side: "right" or "left".

    Call with a tuple of segments (or one segment); each is a list of tokens (one example)
    or a list of lists / a 2-D array (a batch; all segments must have the same batch size).
    Returns int32 arrays of shape (sequence_length,) or (batch, sequence_length) (nested lists
    when the tokens are strings).
    """

    def __init__(self, sequence_length, start_value, end_value, sep_value=None,
                 pad_value=None, truncate="round_robin", padding_side="right", name=None,
                 **kwargs):
        super().__init__(name=name, **kwargs)
        if truncate not in _TRUNCATERS:
            raise ValueError(f"truncate: expected 'round_robin' or 'waterfall', got "
                             f"{truncate!r}")
        if padding_side not in ("right", "left"):
            raise ValueError(f"padding_side: expected 'right' or 'left', got {padding_side!r}")
        self.sequence_length = sequence_length
        self.truncate = truncate
        self.padding_side = padding_side
        self.pad_value = pad_value
        self._config_values = {"start_value": start_value, "end_value": end_value,
                               "sep_value": sep_value}
        self.start_value = _as_delimiter(start_value, "start_value")
        self.end_value = _as_delimiter(end_value, "end_value")
        self.sep_value = self.end_value if sep_value is None else _as_delimiter(sep_value,
                                                                                "sep_value")

    def __call__(self, inputs, sequence_length=None, add_start_value=True,
                 add_end_value=True):
        sequence_length = sequence_length or self.sequence_length
        segments = inputs if isinstance(inputs, tuple) else (inputs,)
        if not segments:
            raise ValueError("inputs: expected at least one segment, got an empty tuple")
        rows, batched = zip(*(as_token_rows(segment, f"inputs[{i}]")
                                 for i, segment in enumerate(segments)))
        if len(set(batched)) != 1 or len({len(r) for r in rows}) != 1:
            raise ValueError("inputs: all segments must be single sequences, or batches of the "
                             f"same size; got batch sizes {[len(r) for r in rows]} "
                             f"(batched: {list(batched)})")
        start = self.start_value if add_start_value else []
        end = self.end_value if add_end_value else []
        delimiters = len(start) + (len(segments) - 1) * len(self.sep_value) + len(end)
        budget = sequence_length - delimiters
        if budget < 0:
            raise ValueError(
                f"sequence_length={sequence_length} is too small: {len(segments)} segment(s) "
                f"need {delimiters} positions for the start, separator and end tokens")
        truncate = _TRUNCATERS[self.truncate]
        token_rows, segment_rows = [], []
        for example in zip(*rows):
            kept = truncate([len(segment) for segment in example], budget)
            tokens, segment_ids = list(start), [0] * len(start)
            for i, (segment, n) in enumerate(zip(example, kept)):
                delimiter = end if i == len(example) - 1 else self.sep_value
                tokens += segment[:n] + delimiter
                segment_ids += [i] * (n + len(delimiter))
            token_rows.append(tokens)
            segment_rows.append(segment_ids)
        token_ids = self._pad(token_rows, self.pad_value, sequence_length)
        segment_ids = self._pad(segment_rows, 0, sequence_length)
        if not batched[0]:
            token_ids, segment_ids = token_ids[0], segment_ids[0]
        return token_ids, segment_ids

    def _pad(self, rows, pad_value, length):
        """Pad each row to ``length`` on ``padding_side``: an int32 array, or nested lists
        when the tokens are strings."""
        strings = any(isinstance(token, str) for row in rows for token in row[:1])
        if pad_value is None:
            pad_value = "" if strings else 0
        if self.padding_side == "right":
            rows = [row + [pad_value] * (length - len(row)) for row in rows]
        else:
            rows = [[pad_value] * (length - len(row)) + row for row in rows]
        return rows if strings else np.array(rows, dtype="int32").reshape(len(rows), length)

    def get_config(self):
        config = super().get_config()
        config.update({"sequence_length": self.sequence_length, **self._config_values,
                       "pad_value": self.pad_value, "truncate": self.truncate,
                       "padding_side": self.padding_side})
        return config
