"""The built-in DistilBERT presets: the names KerasHub's ``DistilBertBackbone.presets`` lists.

Data only, laid out as ``bert_presets.py``. The parameter counts are KerasHub's;
``tests/presets/test_builtin_presets.py`` derives each one again from the config with the
formula ``V*H + P*H + 2H + L*(4(H*H + H) + 4H + H*I + I + I*H + H)`` (no segment table, no
pooler).
"""


def _distil_bert(vocabulary_size):
    return {
        "vocabulary_size": vocabulary_size,
        "num_layers": 6,
        "num_heads": 12,
        "hidden_dim": 768,
        "intermediate_dim": 3072,
        "dropout": 0.1,
        "max_sequence_length": 512,
    }


backbone_presets = {
    "distil_bert_base_en_uncased": {
        "metadata": {
            "description": ("DistilBERT, 6 layers, hidden size 768, lowercased input; distilled "
                            "from BERT-Base on English Wikipedia and BooksCorpus."),
            "params": 66362880,
            "path": "distil_bert",
            "lowercase": True,
        },
        "config": _distil_bert(30522),
        "kaggle_handle": "kaggle://keras/distil_bert/keras/distil_bert_base_en_uncased/3",
    },
    "distil_bert_base_en": {
        "metadata": {
            "description": ("DistilBERT, 6 layers, hidden size 768, case preserved; distilled "
                            "from BERT-Base on English Wikipedia and BooksCorpus."),
            "params": 65190912,
            "path": "distil_bert",
            "lowercase": False,
        },
        "config": _distil_bert(28996),
        "kaggle_handle": "kaggle://keras/distil_bert/keras/distil_bert_base_en/3",
    },
    "distil_bert_base_multi": {
        "metadata": {
            "description": ("DistilBERT, 6 layers, hidden size 768, case preserved; distilled "
                            "on the Wikipedias of 104 languages."),
            "params": 134734080,
            "path": "distil_bert",
            "lowercase": False,
        },
        "config": _distil_bert(119547),
        "kaggle_handle": "kaggle://keras/distil_bert/keras/distil_bert_base_multi/3",
    },
}
