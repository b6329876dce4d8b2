"""A small task and preprocessor that follow the Task contract, for fast fit-loop tests.

BagOfWordsClassifier: token ids (B, T) -> embedding (B, T, H) -> mean over T -> Dense -> logits
(B, C). HashingPreprocessor: text -> token ids, replacing a random 30% of the tokens with the
mask id 0 on every call (as a masked-LM preprocessor draws fresh masks), and recording what it
returned.
"""
import json
import os
import zlib

import numpy as np

from minibert import utils
from minibert.layers.dense import Dense
from minibert.layers.embedding import Embedding
from minibert.layers.layer import Layer
from minibert.training import Trainer, losses, metrics, optimizers


class BagOfWordsClassifier(Trainer, Layer):
    is_model = True

    def __init__(self, vocabulary_size=50, hidden_dim=8, num_classes=3, preprocessor=None,
                 dtype=None):
        super().__init__(name="bag_of_words", dtype=dtype)
        self.embedding = Embedding(vocabulary_size, hidden_dim, name="embedding",
                                   dtype=self.dtype_policy)
        self.logits = Dense(num_classes, hidden_dim, name="logits", dtype=self.dtype_policy)
        self.preprocessor = preprocessor

    def forward(self, x, training=False):
        sequence = self.embedding(x["token_ids"])                       # (B, T, H)
        self._length = sequence.shape[1]
        return self.logits(sequence.mean(axis=1))                       # (B, C)

    def backward(self, dlogits):
        embedding_trainable = self.embedding.embeddings.trainable
        dpooled = self.logits.backward(dlogits, input_grad=embedding_trainable)   # (B, H)
        if embedding_trainable:
            dsequence = dpooled[:, None, :] / self._length                  # (B, 1, H)
            self.embedding.backward(dsequence.repeat(self._length, axis=1))  # (B, T, H)

    def default_compile_arguments(self):
        return {"optimizer": optimizers.Adam(5e-5),
                "loss": losses.SparseCategoricalCrossentropy(from_logits=True),
                "metrics": [metrics.SparseCategoricalAccuracy()]}

    def save_to_preset(self, preset_dir):
        os.makedirs(preset_dir, exist_ok=True)
        np.savez(os.path.join(preset_dir, "weights.npz"), *self.get_weights())
        with open(os.path.join(preset_dir, "config.json"), "w") as file:
            json.dump({"class_name": type(self).__name__}, file)


class HashingPreprocessor:
    """Words -> ids in [1, vocabulary_size) by CRC32, padded with 0 to ``sequence_length``;
    each call replaces a fresh random 30% of the words by 0."""

    def __init__(self, vocabulary_size=50, sequence_length=6):
        self.vocabulary_size = vocabulary_size
        self.sequence_length = sequence_length
        self.outputs = []

    def __call__(self, x, y=None, sample_weight=None):
        ids = np.zeros((len(x), self.sequence_length), "int32")
        for row, text in enumerate(x):
            words = text.split()[:self.sequence_length]
            ids[row, :len(words)] = [zlib.crc32(w.encode()) % (self.vocabulary_size - 1) + 1
                                     for w in words]
        ids[utils.host_rng().random(ids.shape) < 0.3] = 0
        self.outputs.append(ids)
        features = {"token_ids": ids}
        if y is None and sample_weight is None:
            return features
        return features, y, sample_weight
