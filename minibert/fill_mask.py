"""Fill in masked words with a masked language model (the ``minibert fill-mask`` command).

    fill_mask(masked_lm, ["Return the [MASK] of the [MASK]."], top_k=3)
    -> [[[(token, probability), (token, probability), (token, probability)],    1st mask
         [(token, probability), ...]]]                                           2nd mask

A literal "[MASK]" written in text is not a mask token to a KerasHub tokenizer: with its
default ``special_tokens_in_strings=False`` it is split like any other text, into "[", "mask"
and "]". So the text is cut at each marker, the pieces are tokenized one by one with the
masked LM's own tokenizer, and the [MASK] id is put between them; since the tokenizer splits
words at whitespace and punctuation, and the marker is punctuation, this gives the ids the
whole text would have with the mask recognised. The ids are then packed as the preprocessor
packs text ([CLS] ... [SEP], padding), and the model's ``predict`` gives, at each mask, logits
over the vocabulary.
"""
import numpy as np

from minibert.layers.preprocessing.multi_segment_packer import MultiSegmentPacker

MASK_MARKER = "[MASK]"


def masked_token_ids(tokenizer, text, marker=MASK_MARKER):
    """The token ids of ``text`` with ``tokenizer.mask_token_id`` in place of each
    ``marker``. Raises ValueError when the text holds no marker."""
    pieces = text.split(marker)
    if len(pieces) < 2:
        raise ValueError(f"text: expected at least one {marker!r} to fill, got {text!r}")
    ids = list(tokenizer(pieces[0]))
    for piece in pieces[1:]:
        ids.append(tokenizer.mask_token_id)
        ids.extend(tokenizer(piece))
    return ids


def fill_mask(masked_lm, texts, top_k=5, marker=MASK_MARKER, batch_size=32):
    """The ``top_k`` most probable tokens at every ``marker`` of every text.

    Args:
        masked_lm: a ``MaskedLM`` with a preprocessor (its tokenizer and sequence length are
            used).
        texts: a string or a list of strings, each with at least one ``marker``.
        top_k: how many candidates to return per mask.

    Returns:
        For each text, a list with one entry per marker, in order: a list of ``top_k``
        ``(token, probability)`` pairs, most probable first (the probabilities are the
        softmax over the whole vocabulary).

    Raises ValueError for a text without a marker, or one so long that a marker would be cut
    off by the preprocessor's ``sequence_length``.
    """
    if isinstance(texts, str):
        texts = [texts]
    preprocessor = getattr(masked_lm, "preprocessor", None)
    if preprocessor is None:
        raise ValueError("masked_lm: needs a preprocessor (its tokenizer reads the text)")
    tokenizer = preprocessor.tokenizer
    if not isinstance(top_k, int) or not 1 <= top_k <= tokenizer.vocabulary_size():
        raise ValueError(f"top_k: expected an int in [1, {tokenizer.vocabulary_size()}], "
                         f"got {top_k!r}")
    rows = [masked_token_ids(tokenizer, text, marker) for text in texts]
    packer = MultiSegmentPacker(sequence_length=preprocessor.sequence_length,
                                start_value=tokenizer.start_token_id,
                                end_value=tokenizer.end_token_id,
                                pad_value=tokenizer.pad_token_id)
    token_ids, segment_ids = packer((rows,))
    positions = [np.flatnonzero(row == tokenizer.mask_token_id) for row in token_ids]
    for text, ids, found in zip(texts, rows, positions):
        if len(found) < ids.count(tokenizer.mask_token_id):
            raise ValueError(f"text: too long for sequence_length="
                             f"{preprocessor.sequence_length}; a {marker} would be cut off: "
                             f"{text!r}")
    mask_positions = np.zeros((len(rows), max(len(p) for p in positions)), dtype="int32")
    for i, found in enumerate(positions):
        mask_positions[i, :len(found)] = found
    x = {"token_ids": token_ids, "segment_ids": segment_ids,
         "padding_mask": token_ids != tokenizer.pad_token_id, "mask_positions": mask_positions}
    logits = masked_lm.predict(x, batch_size=batch_size, verbose=0).astype(np.float64)
    probabilities = np.exp(logits - logits.max(axis=-1, keepdims=True))
    probabilities /= probabilities.sum(axis=-1, keepdims=True)               # (B, M, V)
    results = []
    for i, found in enumerate(positions):
        per_mask = []
        for j in range(len(found)):
            best = np.argsort(-probabilities[i, j], kind="stable")[:top_k]
            per_mask.append([(tokenizer.id_to_token(int(k)), float(probabilities[i, j, k]))
                             for k in best])
        results.append(per_mask)
    return results
