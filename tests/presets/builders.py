"""Small presets written with NumPy alone: an HF BERT / DistilBERT directory in the layout
``transformers``' ``save_pretrained`` produces (names, (out, in) Linear weights), so the
format and download tests need no reference library."""
import json
import os

import numpy as np
from safetensors.numpy import save_file

VOCAB = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "the", "quick", "brown", "fox",
         "jump", "##s", "over", "lazy", "dog", ".", ",", "a", "cat", "sat", "on"]

BERT_CONFIG = {"model_type": "bert", "architectures": ["BertForMaskedLM"], "vocab_size": 20,
               "hidden_size": 8, "num_hidden_layers": 2, "num_attention_heads": 2,
               "intermediate_size": 16, "max_position_embeddings": 16, "type_vocab_size": 2,
               "hidden_act": "gelu", "layer_norm_eps": 1e-12, "hidden_dropout_prob": 0.1,
               "attention_probs_dropout_prob": 0.1}


def bert_tensors(config, rng, prefix="bert.", mlm_head=True, pooler=True, nsp=False):
    """{HF name: array} of a random BERT in HF layout."""
    V, H, I = config["vocab_size"], config["hidden_size"], config["intermediate_size"]
    P, S = config["max_position_embeddings"], config["type_vocab_size"]

    def r(*shape):
        return (0.2 * rng.standard_normal(shape)).astype("float32")

    t = {"embeddings.word_embeddings.weight": r(V, H),
         "embeddings.position_embeddings.weight": r(P, H),
         "embeddings.token_type_embeddings.weight": r(S, H),
         "embeddings.LayerNorm.weight": 1 + r(H), "embeddings.LayerNorm.bias": r(H)}
    for i in range(config["num_hidden_layers"]):
        p = f"encoder.layer.{i}."
        for name in ("query", "key", "value"):
            t[p + f"attention.self.{name}.weight"] = r(H, H)
            t[p + f"attention.self.{name}.bias"] = r(H)
        t[p + "attention.output.dense.weight"] = r(H, H)
        t[p + "attention.output.dense.bias"] = r(H)
        t[p + "attention.output.LayerNorm.weight"] = 1 + r(H)
        t[p + "attention.output.LayerNorm.bias"] = r(H)
        t[p + "intermediate.dense.weight"] = r(I, H)
        t[p + "intermediate.dense.bias"] = r(I)
        t[p + "output.dense.weight"] = r(H, I)
        t[p + "output.dense.bias"] = r(H)
        t[p + "output.LayerNorm.weight"] = 1 + r(H)
        t[p + "output.LayerNorm.bias"] = r(H)
    if pooler:
        t["pooler.dense.weight"], t["pooler.dense.bias"] = r(H, H), r(H)
    t = {prefix + k: v for k, v in t.items()}
    if mlm_head:
        t["cls.predictions.transform.dense.weight"] = r(H, H)
        t["cls.predictions.transform.dense.bias"] = r(H)
        t["cls.predictions.transform.LayerNorm.weight"] = 1 + r(H)
        t["cls.predictions.transform.LayerNorm.bias"] = r(H)
        t["cls.predictions.bias"] = r(V)
    if nsp:
        t["cls.seq_relationship.weight"], t["cls.seq_relationship.bias"] = r(2, H), r(2)
    return t


def write_hf_dir(path, config=None, tensors=None, seed=0, vocab=VOCAB, do_lower_case=True,
                 **tensor_options):
    """An HF model directory; returns its tensors."""
    config = dict(config or BERT_CONFIG)
    os.makedirs(path, exist_ok=True)
    if tensors is None:
        tensors = bert_tensors(config, np.random.default_rng(seed), **tensor_options)
    with open(os.path.join(path, "config.json"), "w") as f:
        json.dump(config, f)
    save_file(tensors, os.path.join(path, "model.safetensors"), metadata={"format": "pt"})
    with open(os.path.join(path, "vocab.txt"), "w") as f:
        f.write("\n".join(vocab) + "\n")
    with open(os.path.join(path, "tokenizer_config.json"), "w") as f:
        json.dump({"do_lower_case": do_lower_case, "tokenizer_class": "BertTokenizer"}, f)
    return tensors


def read_dir(path):
    """{relative name: bytes} of every file under ``path``."""
    files = {}
    for root, _, names in os.walk(path):
        for name in names:
            full = os.path.join(root, name)
            with open(full, "rb") as f:
                files[os.path.relpath(full, path).replace(os.sep, "/")] = f.read()
    return files


def publish_sharded_keras_preset(hub, directory):
    """Save a tiny random BertBackbone as a KerasHub preset sharded into several weight files
    under ``directory``, and publish it on the test hub as ``keras/tiny`` (the shards stored as
    LFS files). Returns (the model, {file name: bytes}, the shard names)."""
    from minibert.models.bert.bert_backbone import BertBackbone
    from minibert.presets import saver
    model = BertBackbone(vocabulary_size=20, num_layers=2, num_heads=2, hidden_dim=8,
                         intermediate_dim=16, max_sequence_length=16)
    saver.save_backbone(model, directory, max_shard_size=2e-6)
    files = read_dir(directory)
    shards = [name for name in files if name.startswith("model_")]
    assert len(shards) >= 2
    hub.add_repo("keras/tiny", files, lfs=set(shards))
    return model, files, shards
