"""MaskedLMMaskGenerator: BERT's masking, the input of masked-language-model training.

For each sequence, some positions are selected (never one holding an unselectable id such as
[CLS], [SEP] or [PAD]); the model must predict the original token at each of them. Each
selected token is then replaced by [MASK] (80%), by a random token (10%), or left as it is
(10%), so that the model cannot rely on seeing [MASK].

    token_ids       [101, 2023, 2003, 1037, 3231, 102, 0]
    masked          [101, 2023,  103, 1037, 3231, 102, 0]     position 2 selected -> [MASK]
    mask_positions  [2, 0, 0]      mask_ids [2003, 0, 0]      mask_weights [1., 0., 0.]
    labels          [-100, -100, 2003, -100, -100, -100, -100]     (HF's view)

How many positions: ``selection="exact_count"`` picks exactly
min(ceil(n * rate), mask_selection_length) of the n selectable positions, uniformly at random
(what KerasHub's ``fit`` does: TensorFlow Text's RandomItemSelector; the product is rounded in
float32 as there). ``selection="bernoulli"`` selects each position independently with
probability ``rate``, then keeps a random ``mask_selection_length`` of them if there are more
(KerasHub's eager path).
"""
import numpy as np

from minibert import utils
from minibert.layers.layer import Layer
from minibert.layers.preprocessing.rows import as_token_rows

#: HF's label for "not selected" (PyTorch's cross-entropy ignore_index).
IGNORE_LABEL = -100


def _check_rate(value, argument):
    if not 0.0 <= value <= 1.0:
        raise ValueError(f"{argument}: expected a rate in [0, 1], got {value!r}")


class MaskedLMMaskGenerator(Layer):
    """Select and mask tokens for masked-LM training (KerasHub's layer, seeded).

    Args:
        vocabulary_size: ids of random replacements are drawn from [0, vocabulary_size).
        mask_selection_rate: the fraction of selectable tokens to select.
        mask_token_id: the [MASK] id.
        mask_selection_length: at most this many selections per sequence; the outputs
            ``mask_positions``, ``mask_ids``, ``mask_weights`` are then dense (B, M), padded
            with 0. None: no limit, and those outputs are lists of 1-D arrays for a batch.
        unselectable_token_ids: ids never selected ([CLS], [SEP], [PAD], ...).
        mask_token_rate: the fraction of selected tokens replaced by [MASK].
        random_token_rate: the fraction replaced by a random id (any id, specials included).
        selection: "exact_count" (default) or "bernoulli" (see the module docstring).
        seed: an int for this masker's own generator; None draws from minibert's shared
            generator (``minibert.utils.host_rng()``), which ``set_random_seed`` seeds.

    Call with token ids (a list, a list of lists, or an array of rank 1 or 2). Returns a dict:
    ``token_ids`` (masked, same layout as the input), ``mask_positions`` (ascending),
    ``mask_ids`` (the original ids there), ``mask_weights`` (1.0 per real selection, 0.0 for
    padding), and ``labels``: the original id at each selected position, -100 elsewhere.
    Each call draws new masks.
    """

    def __init__(self, vocabulary_size, mask_selection_rate, mask_token_id,
                 mask_selection_length=None, unselectable_token_ids=(0,), mask_token_rate=0.8,
                 random_token_rate=0.1, selection="exact_count", seed=None, name=None,
                 **kwargs):
        super().__init__(name=name, **kwargs)
        if not 0 <= mask_token_id < vocabulary_size:
            raise ValueError(f"mask_token_id: expected an id in [0, {vocabulary_size - 1}], "
                             f"got {mask_token_id}")
        _check_rate(mask_selection_rate, "mask_selection_rate")
        _check_rate(mask_token_rate, "mask_token_rate")
        _check_rate(random_token_rate, "random_token_rate")
        if mask_token_rate + random_token_rate > 1.0:
            raise ValueError(f"mask_token_rate + random_token_rate must be <= 1, got "
                             f"{mask_token_rate} + {random_token_rate}")
        if mask_selection_length is not None and mask_selection_length <= 0:
            raise ValueError(f"mask_selection_length: expected a positive int or None, got "
                             f"{mask_selection_length}")
        if selection not in ("exact_count", "bernoulli"):
            raise ValueError(f"selection: expected 'exact_count' or 'bernoulli', got "
                             f"{selection!r}")
        self.vocabulary_size = vocabulary_size
        self.mask_selection_rate = mask_selection_rate
        self.mask_token_id = mask_token_id
        self.mask_selection_length = mask_selection_length
        self.unselectable_token_ids = list(unselectable_token_ids)
        self.mask_token_rate = mask_token_rate
        self.random_token_rate = random_token_rate
        self.selection = selection
        self.seed = seed
        self._rng = None if seed is None else np.random.default_rng(seed)

    def _select(self, token_ids, rng):
        """Ascending positions of ``token_ids`` (1-D array) to mask."""
        selectable = np.flatnonzero(~np.isin(token_ids, self.unselectable_token_ids))
        limit = self.mask_selection_length or len(selectable)
        if self.selection == "exact_count":
            wanted = np.ceil(np.float32(len(selectable)) * np.float32(self.mask_selection_rate))
            chosen = rng.permutation(selectable)[:min(int(wanted), limit)]
        else:
            chosen = selectable[rng.random(len(selectable)) < self.mask_selection_rate]
            if len(chosen) > limit:
                chosen = rng.permutation(chosen)[:limit]
        return np.sort(chosen)

    def __call__(self, inputs):
        rows, batched = as_token_rows(inputs, "inputs")
        rng = self._rng if self._rng is not None else utils.host_rng()
        masked, positions, labels = [], [], []
        for row in rows:
            token_ids = np.asarray(row, dtype=np.int64).reshape(-1)
            chosen = self._select(token_ids, rng)
            # One uniform draw per selection decides: [MASK], a random id, or unchanged.
            draw = rng.random(len(chosen))
            random_ids = rng.integers(0, self.vocabulary_size, len(chosen))
            new_ids = token_ids[chosen]
            new_ids = np.where(draw < self.mask_token_rate + self.random_token_rate,
                               random_ids, new_ids)
            new_ids = np.where(draw < self.mask_token_rate, self.mask_token_id, new_ids)
            row_labels = np.full(len(token_ids), IGNORE_LABEL, dtype=np.int64)
            row_labels[chosen] = token_ids[chosen]
            token_ids = token_ids.copy()
            token_ids[chosen] = new_ids
            masked.append(token_ids)
            positions.append(chosen)
            labels.append(row_labels)
        return {
            "token_ids": _pack(masked, batched),
            "mask_positions": self._pack_selected(positions, batched),
            "mask_ids": self._pack_selected([m[p] for m, p in zip(labels, positions)],
                                            batched),
            "mask_weights": self._pack_selected([np.ones(len(p)) for p in positions], batched,
                                                dtype="float32"),
            "labels": _pack(labels, batched),
        }

    def _pack_selected(self, values, batched, dtype="int32"):
        """Per-selection values: dense (B, M) padded with 0 when mask_selection_length is
        set, else ragged."""
        if self.mask_selection_length is None:
            return _pack(values, batched, dtype)
        dense = np.zeros((len(values), self.mask_selection_length), dtype=dtype)
        for i, row in enumerate(values):
            dense[i, :len(row)] = row
        return dense if batched else dense[0]

    def get_config(self):
        config = super().get_config()
        config.update({"vocabulary_size": self.vocabulary_size,
                       "mask_selection_rate": self.mask_selection_rate,
                       "mask_selection_length": self.mask_selection_length,
                       "unselectable_token_ids": self.unselectable_token_ids,
                       "mask_token_id": self.mask_token_id,
                       "mask_token_rate": self.mask_token_rate,
                       "random_token_rate": self.random_token_rate,
                       "selection": self.selection, "seed": self.seed})
        return config


def _pack(rows, batched, dtype="int32"):
    """Rows of equal length -> one array (B, T); ragged rows -> a list of 1-D arrays."""
    rows = [np.asarray(row, dtype=dtype) for row in rows]
    if not batched:
        return rows[0]
    if len({len(row) for row in rows}) <= 1:
        return np.stack(rows) if rows else np.zeros((0, 0), dtype=dtype)
    return rows
