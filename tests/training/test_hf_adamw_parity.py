"""Ten AdamW steps with weight decay and a linear warmup schedule, on an HF-convention model,
against HF transformers' BertForMaskedLM trained by torch.optim.AdamW with
get_linear_schedule_with_warmup: per-step losses within 1e-5 relative, final weights within
1e-5 (max abs).

Conventions lined up: the HF checkpoint's numerics (exact GELU, head layer norm 1e-12) through
minibert's HF weight map; HF's loss (mean over the labelled positions) is minibert's
``mean_with_sample_weight`` with weight 1 at each masked position; weight decay on every
weight in both. Keras's Adam adds epsilon before the bias correction and torch's after; with
epsilon 1e-12 both are below float32 resolution of the update. The key projection's bias is
left out of the weight comparison (see the comment there); the losses show it changes
nothing."""
import numpy as np
from reference_libraries import require

import minibert
from minibert.presets.hf_format import (ArrayCheckpoint, backbone_kwargs, load_weights,
                                       masked_lm_kwargs)

STEPS, WARMUP, PEAK, DECAY, EPSILON = 10, 3, 1e-3, 0.01, 1e-12


def test_ten_adamw_steps_with_warmup_match_torch():
    torch, transformers = require("torch"), require("transformers")
    torch.manual_seed(0)
    config = transformers.BertConfig(
        vocab_size=53, hidden_size=16, num_hidden_layers=2, num_attention_heads=2,
        intermediate_size=32, max_position_embeddings=16, hidden_dropout_prob=0.0,
        attention_probs_dropout_prob=0.0, initializer_range=0.2)
    reference = transformers.BertForMaskedLM(config).train()
    state = {k: v.detach().numpy().copy() for k, v in reference.state_dict().items()}
    hf = config.to_dict()
    model = minibert.BertMaskedLM(minibert.BertBackbone(**backbone_kwargs(hf, "test")),
                                  **masked_lm_kwargs(hf))
    load_weights(model.weights, ArrayCheckpoint(state), "bert", 2, "masked_lm", "test")
    schedule = minibert.optimizers.schedules.PolynomialDecay(
        0.0, decay_steps=STEPS - WARMUP, end_learning_rate=0.0, warmup_target=PEAK,
        warmup_steps=WARMUP)
    model.compile(optimizer=minibert.optimizers.AdamW(schedule, weight_decay=DECAY,
                                                      epsilon=EPSILON),
                  loss=minibert.losses.SparseCategoricalCrossentropy(
                      from_logits=True, reduction="mean_with_sample_weight"))

    optimizer = torch.optim.AdamW(reference.parameters(), lr=PEAK, weight_decay=DECAY,
                                  eps=EPSILON)
    scheduler = transformers.get_linear_schedule_with_warmup(optimizer, WARMUP, STEPS)
    rng = np.random.default_rng(0)
    for step in range(STEPS):
        ids = rng.integers(1, 53, (2, 12)).astype("int32")
        positions = np.stack([rng.choice(12, 3, replace=False) for _ in range(2)]).astype("int32")
        labels = np.take_along_axis(ids, positions, axis=1)
        masked = ids.copy()
        np.put_along_axis(masked, positions, 4, axis=1)
        segments, padding = np.zeros_like(ids), np.ones_like(ids)
        x = {"token_ids": masked, "segment_ids": segments, "padding_mask": padding,
             "mask_positions": positions}
        loss = model.train_on_batch(x, labels, np.ones(labels.shape, "float32"),
                                    return_dict=True)["loss"]

        hf_labels = np.full(ids.shape, -100)
        np.put_along_axis(hf_labels, positions, labels, axis=1)
        output = reference(input_ids=torch.as_tensor(masked).long(),
                           token_type_ids=torch.as_tensor(segments).long(),
                           attention_mask=torch.as_tensor(padding).long(),
                           labels=torch.as_tensor(hf_labels).long())
        optimizer.zero_grad()
        output.loss.backward()
        optimizer.step()
        scheduler.step()
        expected = float(output.loss)
        assert abs(loss - expected) <= 1e-5 * abs(expected), (step, loss, expected)

    final = {k: v.detach().numpy() for k, v in reference.state_dict().items()}
    trained = minibert.BertMaskedLM(minibert.BertBackbone(**backbone_kwargs(hf, "test")),
                                    **masked_lm_kwargs(hf))
    load_weights(trained.weights, ArrayCheckpoint(final), "bert", 2, "masked_lm", "test")
    for ours, theirs in zip(model.weights, trained.weights):
        if ours.path.startswith("pooled_dense"):
            continue                 # BertForMaskedLM has no pooler
        if ours.path.endswith("key/bias"):
            # Its exact gradient is zero (q.b shifts a whole softmax row), so both sides hold
            # rounding noise, which Adam divides by its own size into steps of about the
            # learning rate in arbitrary directions. It cannot change any output.
            continue
        error = np.max(np.abs(ours.numpy() - theirs.numpy()))
        assert error <= 1e-5, f"{ours.path}: max abs error {error:.3e}"
