"""The built-in BERT presets: the names KerasHub's ``BertBackbone.presets`` lists, and the one
minibert pretrained itself and ships inside the package.

Data only. Each entry holds the backbone config (the constructor arguments), whether the
tokenizer lowercases, the parameter count, a description and the ``kaggle://`` handle the
files are downloaded from (none for the shipped preset: its files are in the package).
``minibert.presets.registry.presets_for(cls)`` serves them to ``cls.presets``;
``from_preset("bert_base_en_uncased")`` resolves the name to its handle.

The parameter counts are KerasHub's (the shipped preset's, its backbone's count);
``tests/presets/test_builtin_presets.py`` derives each
one again from the config with the formula
``V*H + P*H + S*H + 2H + L*(4(H*H + H) + 4H + H*I + I + I*H + H) + (H*H + H)``.
"""


def _bert(vocabulary_size, num_layers, num_heads, hidden_dim, intermediate_dim):
    return {
        "vocabulary_size": vocabulary_size,
        "num_layers": num_layers,
        "num_heads": num_heads,
        "hidden_dim": hidden_dim,
        "intermediate_dim": intermediate_dim,
        "dropout": 0.1,
        "max_sequence_length": 512,
        "num_segments": 2,
    }


_ENGLISH = "English Wikipedia and BooksCorpus"

backbone_presets = {
    "bert_tiny_en_uncased": {
        "metadata": {
            "description": f"BERT, 2 layers, hidden size 128, lowercased input; trained on {_ENGLISH}.",
            "params": 4385920,
            "path": "bert",
            "lowercase": True,
        },
        "config": _bert(30522, 2, 2, 128, 512),
        "kaggle_handle": "kaggle://keras/bert/keras/bert_tiny_en_uncased/3",
    },
    "bert_small_en_uncased": {
        "metadata": {
            "description": f"BERT, 4 layers, hidden size 512, lowercased input; trained on {_ENGLISH}.",
            "params": 28763648,
            "path": "bert",
            "lowercase": True,
        },
        "config": _bert(30522, 4, 8, 512, 2048),
        "kaggle_handle": "kaggle://keras/bert/keras/bert_small_en_uncased/3",
    },
    "bert_medium_en_uncased": {
        "metadata": {
            "description": f"BERT, 8 layers, hidden size 512, lowercased input; trained on {_ENGLISH}.",
            "params": 41373184,
            "path": "bert",
            "lowercase": True,
        },
        "config": _bert(30522, 8, 8, 512, 2048),
        "kaggle_handle": "kaggle://keras/bert/keras/bert_medium_en_uncased/3",
    },
    "bert_base_en_uncased": {
        "metadata": {
            "description": f"BERT-Base, 12 layers, hidden size 768, lowercased input; trained on {_ENGLISH}.",
            "params": 109482240,
            "path": "bert",
            "lowercase": True,
        },
        "config": _bert(30522, 12, 12, 768, 3072),
        "kaggle_handle": "kaggle://keras/bert/keras/bert_base_en_uncased/3",
    },
    "bert_base_en": {
        "metadata": {
            "description": f"BERT-Base, 12 layers, hidden size 768, case preserved; trained on {_ENGLISH}.",
            "params": 108310272,
            "path": "bert",
            "lowercase": False,
        },
        "config": _bert(28996, 12, 12, 768, 3072),
        "kaggle_handle": "kaggle://keras/bert/keras/bert_base_en/3",
    },
    "bert_base_zh": {
        "metadata": {
            "description": "BERT-Base, 12 layers, hidden size 768; trained on Chinese Wikipedia.",
            "params": 102267648,
            "path": "bert",
            "lowercase": False,
        },
        "config": _bert(21128, 12, 12, 768, 3072),
        "kaggle_handle": "kaggle://keras/bert/keras/bert_base_zh/3",
    },
    "bert_base_multi": {
        "metadata": {
            "description": ("BERT-Base, 12 layers, hidden size 768, case preserved; trained on "
                            "the Wikipedias of 104 languages."),
            "params": 177853440,
            "path": "bert",
            "lowercase": False,
        },
        "config": _bert(119547, 12, 12, 768, 3072),
        "kaggle_handle": "kaggle://keras/bert/keras/bert_base_multi/3",
    },
    "bert_large_en_uncased": {
        "metadata": {
            "description": f"BERT-Large, 24 layers, hidden size 1024, lowercased input; trained on {_ENGLISH}.",
            "params": 335141888,
            "path": "bert",
            "lowercase": True,
        },
        "config": _bert(30522, 24, 16, 1024, 4096),
        "kaggle_handle": "kaggle://keras/bert/keras/bert_large_en_uncased/3",
    },
    "bert_large_en": {
        "metadata": {
            "description": f"BERT-Large, 24 layers, hidden size 1024, case preserved; trained on {_ENGLISH}.",
            "params": 333579264,
            "path": "bert",
            "lowercase": False,
        },
        "config": _bert(28996, 24, 16, 1024, 4096),
        "kaggle_handle": "kaggle://keras/bert/keras/bert_large_en/3",
    },
    "bert_tiny_en_uncased_sst2": {
        "metadata": {
            "description": ("bert_tiny_en_uncased fine-tuned for binary sentiment classification "
                            "on SST-2 (a BertTextClassifier with 2 classes)."),
            "params": 4385920,
            "path": "bert",
            "lowercase": True,
            "task": {"class_name": "BertTextClassifier", "num_classes": 2, "dropout": 0.1},
        },
        "config": _bert(30522, 2, 2, 128, 512),
        "kaggle_handle": "kaggle://keras/bert/keras/bert_tiny_en_uncased_sst2/5",
    },
    # minibert's own: pretrained by minibert.pretraining (docs/pretraining.md); the files ship
    # inside the package (registry.builtin_directory), so the entry has no kaggle_handle.
    "bert_tiny_en_uncased_python_docs": {
        "metadata": {
            "description": ("BERT, 2 layers, hidden size 128, lowercased input, 3043 WordPiece "
                            "tokens; a BertMaskedLM pretrained from scratch by minibert on the "
                            "documentation of CPython 3.11's standard library. Ships inside "
                            "the package."),
            "params": 819456,
            "path": "bert",
            "lowercase": True,
        },
        "config": {**_bert(3043, 2, 2, 128, 512), "dropout": 0.0, "max_sequence_length": 128},
    },
}
