"""Sentence embeddings from a backbone (the ``minibert embed`` command).

    backbone, preprocessor = load_sentence_encoder("./all-MiniLM-L6-v2")
    embeddings = sentence_embeddings(backbone, preprocessor, ["A cat sat.", "A dog ran."])
    cosine_similarity(embeddings, embeddings)                    # (2, 2)

Each text is packed as the preprocessor packs it ([CLS] tokens [SEP], padding), the backbone
gives one hidden state per token, and pooling turns them into one vector per text:

- ``"mean"``: the average over the text's real tokens, padding left out,
  ``sum_t m_t h_t / sum_t m_t`` with ``m = padding_mask`` (sentence-transformers' mean pooling,
  the one all-MiniLM-L6-v2 is trained with);
- ``"cls"``: the hidden state of the first token, [CLS].

Padding changes nothing: a text gives the same vector alone or in a batch with longer texts
(to float32 rounding), since attention never looks at padded keys and the mean leaves them
out. Each batch is cut to its longest text before the backbone runs, so short texts do not pay
for the preprocessor's full ``sequence_length``.
"""
import numpy as np

from minibert import backend

POOLINGS = ("mean", "cls")
#: The smallest norm ``l2_normalize`` divides by (torch.nn.functional.normalize's epsilon).
NORM_EPSILON = 1e-12


def load_sentence_encoder(preset, sequence_length=None):
    """The backbone of ``preset`` and a text-classifier preprocessor around its tokenizer.

    Works for every preset with a tokenizer: a KerasHub preset (built-in name, directory,
    ``kaggle://``, ``hf://``) or an HF model directory. Without ``sequence_length`` the
    preprocessor packs to the preset's own length (an HF directory's
    ``sentence_bert_config.json`` ``max_seq_length``, else 512), at most the backbone's
    ``max_sequence_length``. Returns ``(backbone, preprocessor)``; a ValueError for a
    ``sequence_length`` that is not a positive int.
    """
    from minibert.models import Backbone, TextClassifierPreprocessor
    if sequence_length is not None and (not isinstance(sequence_length, int)
                                        or sequence_length < 1):
        raise ValueError(f"sequence_length: expected a positive int, got {sequence_length!r}")
    backbone = Backbone.from_preset(preset)
    preprocessor = TextClassifierPreprocessor.from_preset(preset)
    preprocessor.sequence_length = sequence_length or min(preprocessor.sequence_length,
                                                          backbone.max_sequence_length)
    return backbone, preprocessor


def pool(sequence_output, padding_mask, pooling="mean"):
    """One vector per sequence: (B, T, H) hidden states and a (B, T) mask (True or 1 on real
    tokens) -> (B, H) float32. ``pooling`` is "mean" (over the real tokens) or "cls" (the
    first token)."""
    _check_pooling(pooling)
    hidden = np.asarray(sequence_output, dtype=np.float32)                 # (B, T, H)
    if pooling == "cls":
        return hidden[:, 0, :]                                               # (B, H)
    mask = np.asarray(padding_mask, dtype=np.float32)[..., None]             # (B, T, 1)
    return (hidden * mask).sum(axis=1) / mask.sum(axis=1)                    # (B, H)


def l2_normalize(embeddings):
    """Each row divided by its Euclidean norm (at least NORM_EPSILON): (N, H) -> (N, H)."""
    embeddings = np.asarray(embeddings, dtype=np.float32)                   # (N, H)
    norms = np.linalg.norm(embeddings, axis=-1, keepdims=True)              # (N, 1)
    return embeddings / np.maximum(norms, NORM_EPSILON)                     # (N, H)


def cosine_similarity(a, b):
    """The cosine of every row of ``a`` (N, H) with every row of ``b`` (M, H): (N, M)."""
    return l2_normalize(a) @ l2_normalize(b).T                              # (N, M)


def sentence_embeddings(backbone, preprocessor, texts, pooling="mean", normalize=False,
                        batch_size=32):
    """One embedding per text.

    Args:
        backbone: a ``BertBackbone`` or ``DistilBertBackbone`` (any backend).
        preprocessor: a packing preprocessor of the backbone's family (a
            ``TextClassifierPreprocessor``, or a masked LM's preprocessor: only its tokenizer
            and packing are used). Texts longer than its ``sequence_length`` are truncated.
        texts: a string or a non-empty list of strings.
        pooling: "mean" (the average over the real tokens) or "cls" (the [CLS] token's
            hidden state).
        normalize: divide each embedding by its L2 norm.
        batch_size: how many texts go through the backbone at once.

    Returns:
        A NumPy float32 array (len(texts), hidden_dim), row i for texts[i].

    Raises ValueError for an empty list, a text that is not a string, an unknown ``pooling``
    or a ``batch_size`` that is not a positive int.
    """
    if isinstance(texts, str):
        texts = [texts]
    texts = list(texts)
    if not texts:
        raise ValueError("texts: expected at least one text, got an empty list")
    not_strings = [type(text).__name__ for text in texts if not isinstance(text, str)]
    if not_strings:
        raise ValueError(f"texts: expected strings, got {', '.join(sorted(set(not_strings)))}")
    _check_pooling(pooling)
    if not isinstance(batch_size, int) or batch_size < 1:
        raise ValueError(f"batch_size: expected a positive int, got {batch_size!r}")
    batches = []
    for start in range(0, len(texts), batch_size):
        x = preprocessor.pack(texts[start:start + batch_size])            # each (b, S)
        length = int(np.asarray(x["padding_mask"]).sum(axis=1).max())
        x = {name: value[:, :length] for name, value in x.items()}        # each (b, T <= S)
        outputs = backbone(x)
        sequence = outputs["sequence_output"] if isinstance(outputs, dict) else outputs
        batches.append(pool(backend.to_numpy(sequence), x["padding_mask"], pooling))  # (b, H)
    embeddings = np.concatenate(batches)                                   # (N, H)
    return l2_normalize(embeddings) if normalize else embeddings


def _check_pooling(pooling):
    if pooling not in POOLINGS:
        raise ValueError(f"pooling: expected one of {', '.join(map(repr, POOLINGS))}, got "
                         f"{pooling!r}")
