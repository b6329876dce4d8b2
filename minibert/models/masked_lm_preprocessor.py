"""MaskedLMPreprocessor: text -> masked-LM inputs, labels and label weights."""
from minibert.layers.preprocessing.masked_lm_mask_generator import MaskedLMMaskGenerator
from minibert.models.preprocessor import PackingPreprocessor, pack_x_y_sample_weight


class MaskedLMPreprocessor(PackingPreprocessor):
    """Tokenize, pack and mask text for masked-LM training (KerasHub's class).

    Args:
        tokenizer: the model's tokenizer (it needs a ``mask_token_id``).
        sequence_length: the packed length (default 512).
        truncate: "round_robin" (default) or "waterfall", for pairs that are too long.
        mask_selection_rate: the fraction of (non-special) tokens selected (0.15).
        mask_selection_length: at most this many per sequence (96): the width of
            ``mask_positions`` and of the labels.
        mask_token_rate, random_token_rate: of the selected tokens, the fraction replaced
            by [MASK] (0.8) and by a random token (0.1); the rest are left unchanged.

    Call with ``x`` as ``TextClassifierPreprocessor``. Returns ``(x, y, sample_weight)``:
    ``x`` = {"token_ids" (masked), "padding_mask" (from the unmasked ids), "segment_ids",
    "mask_positions"}, ``y`` = the original ids at mask_positions (B, M), ``sample_weight``
    = 1.0 for real selections and 0.0 for padding (B, M). As in KerasHub, ``y`` and
    ``sample_weight`` given by the caller are ignored: the labels come from the masking.
    Each call draws new masks (dynamic masking); seed them with
    ``minibert.utils.set_random_seed``.
    """

    def __init__(self, tokenizer, sequence_length=512, truncate="round_robin",
                 mask_selection_rate=0.15, mask_selection_length=96, mask_token_rate=0.8,
                 random_token_rate=0.1, **kwargs):
        super().__init__(tokenizer, sequence_length=sequence_length, truncate=truncate,
                         **kwargs)
        self.mask_selection_rate = mask_selection_rate
        self.mask_selection_length = mask_selection_length
        self.mask_token_rate = mask_token_rate
        self.random_token_rate = random_token_rate
        self.masker = None

    def build(self):
        super().build()
        self.masker = MaskedLMMaskGenerator(
            vocabulary_size=self.tokenizer.vocabulary_size(),
            mask_selection_rate=self.mask_selection_rate,
            mask_token_id=self.tokenizer.mask_token_id,
            mask_selection_length=self.mask_selection_length,
            unselectable_token_ids=self.tokenizer.special_token_ids,
            mask_token_rate=self.mask_token_rate, random_token_rate=self.random_token_rate)

    def call(self, x, y=None, sample_weight=None):
        features = self.pack(x)
        masked = self.masker(features["token_ids"])
        features["token_ids"] = masked["token_ids"]
        features["mask_positions"] = masked["mask_positions"]
        return pack_x_y_sample_weight(features, masked["mask_ids"], masked["mask_weights"])

    def get_config(self):
        config = super().get_config()
        config.update({"mask_selection_rate": self.mask_selection_rate,
                       "mask_selection_length": self.mask_selection_length,
                       "mask_token_rate": self.mask_token_rate,
                       "random_token_rate": self.random_token_rate})
        return config
