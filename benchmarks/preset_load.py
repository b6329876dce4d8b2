"""Preset load time against the time it takes to read the preset's bytes.

    python benchmarks/preset_load.py [--config bert_base|bert_tiny] [--repeats 5]

Writes a random-weight HF model directory (``transformers`` ``save_pretrained``: config.json +
model.safetensors) and the same weights as a KerasHub preset (minibert's ``save_to_preset``:
model.weights.h5) into a temporary directory, then times, as medians over the repeats with the
files in the page cache:

    read       reading every byte of the weights file (the floor any loader pays)
    minibert   ``minibert.BertBackbone.from_preset(dir)`` (build the model, read, convert, assign)

and prints each load time as a multiple of the read time. Goal for the safetensors directory of
a bert-base-sized model: at most 2x.
"""
import argparse
import os
import statistics
import tempfile
import time

CONFIGS = {
    "bert_base": dict(vocab_size=30522, hidden_size=768, num_hidden_layers=12,
                      num_attention_heads=12, intermediate_size=3072),
    "bert_tiny": dict(vocab_size=30522, hidden_size=128, num_hidden_layers=2,
                      num_attention_heads=2, intermediate_size=512),
}


def _median_seconds(function, repeats):
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def _read_bytes(path):
    with open(path, "rb") as f:
        while f.read(1 << 24):
            pass


def _write_presets(directory, config_name):
    """An HF directory (hf/) and a KerasHub preset (keras/) holding the same random weights."""
    import transformers

    import minibert
    hf_dir, keras_dir = os.path.join(directory, "hf"), os.path.join(directory, "keras")
    transformers.BertModel(transformers.BertConfig(**CONFIGS[config_name])).save_pretrained(hf_dir)
    minibert.BertBackbone.from_preset(hf_dir).save_to_preset(keras_dir)
    return hf_dir, keras_dir


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--config", choices=sorted(CONFIGS), default="bert_base")
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args(argv)

    import minibert
    with tempfile.TemporaryDirectory() as directory:
        hf_dir, keras_dir = _write_presets(directory, args.config)
        rows = []
        for label, preset, weights_file in (
                ("HF safetensors", hf_dir, "model.safetensors"),
                ("KerasHub .h5", keras_dir, "model.weights.h5")):
            path = os.path.join(preset, weights_file)
            minibert.BertBackbone.from_preset(preset)                 # warm-up: page cache
            read = _median_seconds(lambda: _read_bytes(path), args.repeats)
            load = _median_seconds(lambda: minibert.BertBackbone.from_preset(preset),
                                   args.repeats)
            rows.append((label, os.path.getsize(path) / 1e6, read, load))
    print(f"{args.config}: median of {args.repeats}, files in the page cache")
    print(f"{'format':<16} {'MB':>8} {'read s':>8} {'minibert s':>11} {'ratio':>7}")
    for label, size, read, load in rows:
        print(f"{label:<16} {size:8.1f} {read:8.3f} {load:11.3f} {load / read:6.2f}x")


if __name__ == "__main__":
    main()
