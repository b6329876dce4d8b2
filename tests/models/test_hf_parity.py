"""Random-weight parity with HF transformers (BertModel, BertForMaskedLM, DistilBertModel,
DistilBertForMaskedLM): the weights are copied in memory through minibert's HF weight map, and
minibert is set to HF's numerics (exact GELU, head layer norm 1e-12). Hidden states on real
tokens and logits at the masked positions agree within 1e-5 (max abs, float32)."""
import numpy as np
import pytest
from reference_libraries import require

from minibert import backend
from minibert.presets.hf_format import (ArrayCheckpoint, backbone_kwargs, load_weights,
                                       masked_lm_kwargs)
from reference_models import MINIBERT_CLASSES, max_abs_error, padded_batch

TOLERANCE = 1e-5
SIZES = [dict(vocab=97, layers=2, heads=2, hidden=16, intermediate=32, positions=24),
         dict(vocab=61, layers=3, heads=3, hidden=21, intermediate=40, positions=16)]


def _hf_model(transformers, torch, model_type, head, size, seed=0):
    torch.manual_seed(seed)
    if model_type == "bert":
        config = transformers.BertConfig(
            vocab_size=size["vocab"], num_hidden_layers=size["layers"],
            num_attention_heads=size["heads"], hidden_size=size["hidden"],
            intermediate_size=size["intermediate"], max_position_embeddings=size["positions"],
            type_vocab_size=2, initializer_range=0.2, hidden_dropout_prob=0.0,
            attention_probs_dropout_prob=0.0)
        cls = transformers.BertForMaskedLM if head else transformers.BertModel
    else:
        config = transformers.DistilBertConfig(
            vocab_size=size["vocab"], n_layers=size["layers"], n_heads=size["heads"],
            dim=size["hidden"], hidden_dim=size["intermediate"],
            max_position_embeddings=size["positions"], initializer_range=0.2, dropout=0.0,
            attention_dropout=0.0)
        cls = transformers.DistilBertForMaskedLM if head else transformers.DistilBertModel
    model = cls(config).eval()
    with torch.no_grad():                       # LayerNorms and biases away from 1 and 0 too
        for name, parameter in model.named_parameters():
            if name.endswith(("bias", "LayerNorm.weight", "layer_norm.weight")):
                parameter.add_(0.1 * torch.randn_like(parameter))
    return model


def _minibert_model(hf_model, model_type, head, num_layers):
    config = hf_model.config.to_dict()
    kind = "bert" if model_type == "bert" else "distil_bert"
    prefix = "Bert" if model_type == "bert" else "DistilBert"
    backbone = MINIBERT_CLASSES[f"{prefix}Backbone"](**backbone_kwargs(config, "test"))
    model = (MINIBERT_CLASSES[f"{prefix}MaskedLM"](backbone, **masked_lm_kwargs(config))
             if head else backbone)
    tensors = {k: v.detach().numpy() for k, v in hf_model.state_dict().items()}
    load_weights(model.weights, ArrayCheckpoint(tensors), kind, num_layers,
                 "masked_lm" if head else None, "test")
    return model


def _batch(torch, model_type, size):
    """A padded batch for minibert and the same batch as HF keyword arguments."""
    x = padded_batch({"vocabulary_size": size["vocab"], "max_sequence_length": size["positions"]},
                     segments=model_type == "bert")
    feed = {"input_ids": torch.as_tensor(x["token_ids"]).long(),
            "attention_mask": torch.as_tensor(x["padding_mask"]).long()}
    if model_type == "bert":
        feed["token_type_ids"] = torch.as_tensor(x["segment_ids"]).long()
    return x, feed


@pytest.mark.parametrize("size", SIZES, ids=["even_heads", "odd_heads"])
@pytest.mark.parametrize("model_type", ["bert", "distilbert"])
def test_hidden_states_match(model_type, size):
    transformers, torch = require("transformers"), require("torch")
    hf_model = _hf_model(transformers, torch, model_type, False, size)
    model = _minibert_model(hf_model, model_type, False, size["layers"])
    x, feed = _batch(torch, model_type, size)
    with torch.no_grad():
        expected = hf_model(**feed)
    outputs = model(x)
    sequence = outputs["sequence_output"] if isinstance(outputs, dict) else outputs
    real = x["padding_mask"].astype(bool)
    error, message = max_abs_error("last_hidden_state (real tokens)",
                                   expected.last_hidden_state.numpy()[real],
                                   backend.to_numpy(sequence)[real])
    assert error <= TOLERANCE, message
    if model_type == "bert":
        error, message = max_abs_error("pooler_output", expected.pooler_output.numpy(),
                                       backend.to_numpy(outputs["pooled_output"]))
        assert error <= TOLERANCE, message


@pytest.mark.parametrize("size", SIZES, ids=["even_heads", "odd_heads"])
@pytest.mark.parametrize("model_type", ["bert", "distilbert"])
def test_masked_lm_logits_match(model_type, size):
    transformers, torch = require("transformers"), require("torch")
    hf_model = _hf_model(transformers, torch, model_type, True, size)
    model = _minibert_model(hf_model, model_type, True, size["layers"])
    x, feed = _batch(torch, model_type, size)
    with torch.no_grad():
        all_logits = hf_model(**feed).logits.numpy()                     # (B, T, V)
    positions = x["mask_positions"]
    expected = np.take_along_axis(all_logits, positions[..., None], axis=1)   # (B, M, V)
    error, message = max_abs_error("logits at mask_positions", expected,
                                   backend.to_numpy(model(x)))
    assert error <= TOLERANCE, message
