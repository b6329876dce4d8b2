"""Parity reports: where do two implementations of the same model part ways?

``parity_report`` runs one batch through a minibert model and through a reference (KerasHub on
any Keras backend, or HF transformers) holding the same weights, and compares the tensors along
the way: the embeddings (after their layer norm), the output of every encoder block, the pooler
and the task's logits. Each row has the max abs and max relative error
(``max|a - b| / max|reference|``); the first row over the tolerance is where to look.

    report = parity_report(model, reference, x)       # reference: a keras_hub or HF model
    print(report)
    assert report.ok

Padded positions are compared too for KerasHub (which computes them like any other position);
for HF only real tokens are compared, since HF leaves padded rows unspecified.
"""
import contextlib

import numpy as np

from minibert import backend

__all__ = ["ParityReport", "compare_preset", "parity_report", "recording", "sample_batch"]


class ParityReport:
    """Rows of (tensor name, max abs error, max relative error) and a tolerance."""

    def __init__(self, rows, tolerance):
        self.rows = rows
        self.tolerance = tolerance

    @property
    def ok(self):
        """True when every tensor's max abs error is within the tolerance."""
        return all(absolute <= self.tolerance for _, absolute, _ in self.rows)

    @property
    def first_divergence(self):
        """The first tensor over the tolerance, in forward order, or None."""
        return next((name for name, absolute, _ in self.rows if absolute > self.tolerance), None)

    def __str__(self):
        width = max(len(name) for name, _, _ in self.rows)
        lines = [f"{'tensor':<{width}}  {'max abs err':>11}  {'max rel err':>11}"]
        for name, absolute, relative in self.rows:
            flag = "" if absolute <= self.tolerance else "  <-- over tolerance"
            lines.append(f"{name:<{width}}  {absolute:11.3e}  {relative:11.3e}{flag}")
        verdict = ("all within" if self.ok else f"first over tolerance: {self.first_divergence};"
                   " over")
        lines.append(f"{verdict} tolerance {self.tolerance:g} (max abs)")
        return "\n".join(lines)


@contextlib.contextmanager
def recording(layers):
    """Keep the output of each of ``layers`` while the block runs: yields a dict layer -> output.

    It wraps each layer's ``forward`` for the duration of the block and restores it after.
    Run the model outside ``no_grad()``: there a backbone takes its sequences through all of
    its encoder blocks at once (``fused_encoder.stack_forward``), not block by block.
    """
    outputs = {}
    for layer in layers:
        def forward(*args, _layer=layer, _forward=layer.forward, **kwargs):
            outputs[_layer] = _forward(*args, **kwargs)
            return outputs[_layer]
        layer.forward = forward
    try:
        yield outputs
    finally:
        for layer in layers:
            del layer.forward


def _minibert_tensors(model, x):
    """{name: array} of minibert's embeddings, blocks, pooler and logits for batch x."""
    backbone = getattr(model, "backbone", model)
    named = [("embeddings", backbone.embeddings_layer_norm)] + [
        (f"transformer_layer_{i}", layer) for i, layer in enumerate(backbone.transformer_layers)]
    if hasattr(backbone, "pooled_dense"):
        named.append(("pooled_output", backbone.pooled_dense))
    with recording([layer for _, layer in named]) as outputs:
        result = model(x)
    tensors = {name: backend.to_numpy(outputs[layer]) for name, layer in named
               if layer in outputs}
    if model is not backbone:
        tensors["logits"] = backend.to_numpy(result)
    return tensors


def _keras_hub_tensors(reference, x, names):
    """The same tensors from a keras_hub model, through a functional model on its layers."""
    import keras
    backbone = getattr(reference, "backbone", reference)
    layer_names = {"embeddings": "embeddings_layer_norm", "pooled_output": "pooled_dense"}
    wanted = [n for n in names if n != "logits"]
    probe = keras.Model(backbone.inputs,
                        [backbone.get_layer(layer_names.get(n, n)).output for n in wanted])
    values = probe({name: x[name] for name in backbone.input})   # the backbone's input dict
    tensors = {n: keras.ops.convert_to_numpy(v) for n, v in zip(wanted, values)}
    if "logits" in names:
        tensors["logits"] = keras.ops.convert_to_numpy(reference(x))
    return tensors


def _transformers_tensors(reference, x, names):
    """The same tensors from an HF transformers model (hidden states, pooler, logits)."""
    import torch
    feed = {"input_ids": torch.as_tensor(np.asarray(x["token_ids"])).long(),
            "attention_mask": torch.as_tensor(np.asarray(x["padding_mask"])).long()}
    if "segment_ids" in x:
        feed["token_type_ids"] = torch.as_tensor(np.asarray(x["segment_ids"])).long()
    with torch.no_grad():
        output = reference(**feed, output_hidden_states=True)
    hidden = [h.numpy() for h in output.hidden_states]
    tensors = {"embeddings": hidden[0]}
    tensors.update({f"transformer_layer_{i}": h for i, h in enumerate(hidden[1:])})
    if "pooled_output" in names and getattr(output, "pooler_output", None) is not None:
        tensors["pooled_output"] = output.pooler_output.numpy()
    if "logits" in names and hasattr(output, "logits"):
        logits = output.logits.numpy()
        if "mask_positions" in x:                               # (B, T, V) -> (B, M, V)
            logits = np.take_along_axis(logits, np.asarray(x["mask_positions"])[..., None], 1)
        tensors["logits"] = logits
    return tensors


def parity_report(model, reference, x, tolerance=1e-5):
    """Compare ``model`` (minibert) with ``reference`` (a keras_hub or transformers model with
    the same weights) on the integer batch ``x``; returns a ParityReport."""
    ours = _minibert_tensors(model, x)
    is_hf = type(reference).__module__.startswith("transformers")
    theirs = (_transformers_tensors if is_hf else _keras_hub_tensors)(reference, x, list(ours))
    real = np.asarray(x["padding_mask"]).astype(bool)
    rows = []
    for name, actual in ours.items():
        if name not in theirs:
            continue
        expected = np.asarray(theirs[name], np.float64)
        actual = np.asarray(actual, np.float64)
        if is_hf and expected.ndim == 3 and expected.shape[:2] == real.shape:
            expected, actual = expected[real], actual[real]      # HF: real tokens only
        absolute = float(np.max(np.abs(expected - actual)))
        relative = absolute / max(float(np.max(np.abs(expected))), 1e-30)
        rows.append((name, absolute, relative))
    return ParityReport(rows, tolerance)


def sample_batch(model, batch_size=2, sequence_length=16, num_masks=4, seed=0):
    """A padded integer batch for ``model`` (ids drawn from [1, V); the second row is padded
    after half its length), with ``mask_positions`` for a masked LM."""
    backbone = getattr(model, "backbone", model)
    rng = np.random.default_rng(seed)
    length = min(sequence_length, backbone.max_sequence_length)
    ids = rng.integers(1, backbone.vocabulary_size, (batch_size, length)).astype("int32")
    mask = np.ones_like(ids)
    mask[1:, max(1, length // 2):] = 0
    x = {"token_ids": ids * mask, "padding_mask": mask}
    if hasattr(backbone, "num_segments"):
        x["segment_ids"] = np.zeros_like(ids)
    if hasattr(model, "mlm_head"):
        x["mask_positions"] = rng.integers(0, length, (batch_size, num_masks)).astype("int32")
    return x


def _task_class_name(preset):
    """The task class a preset holds (KerasHub task.json or HF architectures), or None."""
    from minibert.presets import loader
    from minibert.presets.keras_format import TASK_CONFIG_FILE, read_json
    opened = loader.open_preset(preset)
    if isinstance(opened, loader.KerasPresetLoader):
        if not opened.source.exists(TASK_CONFIG_FILE):
            return None
        return read_json(opened.source.get_file(TASK_CONFIG_FILE), TASK_CONFIG_FILE)["class_name"]
    prefix = "Bert" if opened.config["model_type"] == "bert" else "DistilBert"
    for architecture in opened.config.get("architectures") or []:
        if architecture.endswith("ForMaskedLM"):
            return f"{prefix}MaskedLM"
        if architecture.endswith("ForSequenceClassification"):
            return f"{prefix}TextClassifier"
    return None


def compare_preset(preset, against="keras-hub", tolerance=1e-5, **batch_options):
    """Load ``preset`` with minibert and with a reference library and compare them.

    against: "keras-hub" (``keras_hub.models.<Class>.from_preset``) or "transformers"
    (``AutoModel*.from_pretrained`` of an HF directory). The model is the preset's task when it
    has one (task.json, or an HF ``*ForMaskedLM`` / ``*ForSequenceClassification``), else its
    backbone. Returns the ParityReport.
    """
    import minibert
    task_name = _task_class_name(preset)
    if against == "keras-hub":
        import keras_hub
        if task_name:
            model = getattr(minibert.models, task_name).from_preset(preset)
            reference = getattr(keras_hub.models, task_name).from_preset(preset)
        else:
            model = minibert.models.Backbone.from_preset(preset)
            reference = keras_hub.models.Backbone.from_preset(preset)
    elif against == "transformers":
        import transformers
        auto = {None: transformers.AutoModel}
        if task_name:
            auto[task_name] = (transformers.AutoModelForMaskedLM if task_name.endswith("MaskedLM")
                               else transformers.AutoModelForSequenceClassification)
            model = getattr(minibert.models, task_name).from_preset(preset)
        else:
            model = minibert.models.Backbone.from_preset(preset)
        reference = auto[task_name].from_pretrained(preset).eval()
    else:
        raise ValueError(f"against: expected 'keras-hub' or 'transformers', got {against!r}")
    return parity_report(model, reference, sample_batch(model, **batch_options), tolerance)
