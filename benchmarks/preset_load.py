"""Preset load time against the time it takes to read the preset's bytes.

    python benchmarks/preset_load.py [--config bert_base|bert_tiny] [--repeats 5]

Writes a random-weight HF model directory (``transformers`` ``save_pretrained``: config.json +
model.safetensors) and the same weights as a KerasHub preset (minibert's ``save_to_preset``:
model.weights.h5) into a temporary directory, then times, as medians over the repeats with the
files in the page cache:

    read       reading the weights file into memory (``f.read()``: one fresh buffer of the
               file's size; the floor any loader pays, since the bytes must end up in memory)
    stream     streaming the file through one reused 16 MB buffer (the copy alone, without
               the cost of fresh memory: the kernel's zeroing of new pages)
    minibert   ``minibert.BertBackbone.from_preset(dir)`` (build the model, read, convert, assign)

and prints the load time as a multiple of each. Goal for the safetensors directory of a
bert-base-sized model: at most 2x the read. Before each timed call the garbage collector runs
(untimed), so a timing holds no part of freeing the model loaded before it.
"""
import argparse
import gc
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
        gc.collect()
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def _read_bytes(path):
    with open(path, "rb") as f:
        return f.read()


def _stream_bytes(path):
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
            stream = _median_seconds(lambda: _stream_bytes(path), args.repeats)
            load = _median_seconds(lambda: minibert.BertBackbone.from_preset(preset),
                                   args.repeats)
            rows.append((label, os.path.getsize(path) / 1e6, read, stream, load))
    print(f"{args.config}: median of {args.repeats}, files in the page cache")
    print(f"{'format':<16} {'MB':>7} {'read s':>7} {'stream s':>9} {'minibert s':>11} "
          f"{'/ read':>7} {'/ stream':>9}")
    for label, size, read, stream, load in rows:
        print(f"{label:<16} {size:7.1f} {read:7.3f} {stream:9.3f} {load:11.3f} "
              f"{load / read:6.2f}x {load / stream:8.2f}x")


if __name__ == "__main__":
    main()
