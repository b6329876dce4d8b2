"""One framework, one benchmark case, in its own process (driven by benchmarks/run.py).

    python benchmarks/_worker.py FRAMEWORK CASE_JSON

FRAMEWORK is one of ``minibert``, ``keras_hub`` (KerasHub on the torch backend), ``hf``
(transformers, PyTorch eager), ``numpy`` / ``torch`` (the GEMM case only). CASE_JSON describes the
case (see ``run.py``: kind, config, batch, seq, masks, seed, ...).

The worker imports its framework, builds the model and the inputs, runs the warm-up, and then
answers the driver one line at a time on stdin/stdout:

    (after setup)  -> {"ready": true, "rss_import_mb": ..., "info": {...}}
    "run N"        -> {"times": [t1, ..., tN]}       seconds per call, each call timed alone
    "stats"        -> {"peak_rss_mb": ..., "rss_import_mb": ...}
    "quit"         -> exits

Library output that goes to stdout is redirected to stderr, so the protocol stays clean.
Memory is read from /proc/self/status: VmHWM is the peak resident set size of the process.
Right after the imports the peak is reset (``/proc/self/clear_refs``, where the kernel allows
it), so ``peak_rss_mb - rss_import_mb`` is what the model, its inputs and its steps added.
"""
import contextlib
import json
import os
import sys
import time

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# ------------------------------------------------------------------------------------ configs
CONFIGS = {
    "bert_tiny": dict(model="bert", vocabulary_size=30522, num_layers=2, num_heads=2,
                      hidden_dim=128, intermediate_dim=512),
    "bert_base": dict(model="bert", vocabulary_size=30522, num_layers=12, num_heads=12,
                      hidden_dim=768, intermediate_dim=3072),
    "distil_bert_base": dict(model="distil_bert", vocabulary_size=30522, num_layers=6,
                             num_heads=12, hidden_dim=768, intermediate_dim=3072),
    # Attention scaling: bert_base's width with few layers, so long sequences stay affordable.
    "bert_base_2l": dict(model="bert", vocabulary_size=30522, num_layers=2, num_heads=12,
                         hidden_dim=768, intermediate_dim=3072),
    "bert_base_1l": dict(model="bert", vocabulary_size=30522, num_layers=1, num_heads=12,
                         hidden_dim=768, intermediate_dim=3072),
}
MAX_SEQUENCE_LENGTH = 512


def _proc_status_mb(field):
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1]) / 1024.0
    except OSError:
        pass
    if field == "VmHWM":
        import resource
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
    return float("nan")


def _reset_peak_rss():
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


def make_inputs(case):
    """The same integer batch for every framework: ids, segments, a padding mask with rows of
    different lengths (3/4 to all of the sequence), ``masks`` sorted masked positions per row
    among the real tokens, and their labels."""
    rng = np.random.default_rng(case["seed"])
    batch, seq, masks = case["batch"], case["seq"], case.get("masks", 20)
    vocab = CONFIGS[case["config"]]["vocabulary_size"]
    lengths = rng.integers(seq * 3 // 4, seq + 1, batch)
    lengths[0] = seq                                        # one full row
    padding_mask = (np.arange(seq)[None, :] < lengths[:, None]).astype("int32")
    token_ids = rng.integers(1000, vocab, (batch, seq)).astype("int32") * padding_mask
    segment_ids = ((np.arange(seq)[None, :] >= (lengths[:, None] // 2)) * padding_mask)
    segment_ids = segment_ids.astype("int32")
    positions = np.stack([np.sort(rng.choice(np.arange(1, n - 1), masks, replace=False))
                          for n in lengths]).astype("int32")
    labels = rng.integers(1000, vocab, (batch, masks)).astype("int32")
    return dict(token_ids=token_ids, segment_ids=segment_ids, padding_mask=padding_mask,
                mask_positions=positions, labels=labels)


# --------------------------------------------------------------------------------- minibert
def setup_minibert(case):
    # --baseline runs another minibert tree (say, an older commit) beside this one.
    sys.path.insert(0, case.get("minibert_path") or ROOT)
    import minibert
    from minibert.models import (BertBackbone, BertMaskedLM, DistilBertBackbone,
                                 DistilBertMaskedLM)
    from minibert.training.losses import SparseCategoricalCrossentropy
    from minibert.training.optimizers import Adam
    yield {"numpy": np.__version__, "blas": _blas_info(), "path": minibert.__file__}
    cfg = dict(CONFIGS[case["config"]])
    model_type = cfg.pop("model")
    data = make_inputs(case)
    if model_type == "bert":
        backbone = BertBackbone(**cfg, dropout=0.1, max_sequence_length=MAX_SEQUENCE_LENGTH)
        x = {k: data[k] for k in ("token_ids", "segment_ids", "padding_mask")}
        masked_lm_cls = BertMaskedLM
    else:
        backbone = DistilBertBackbone(**cfg, dropout=0.1, max_sequence_length=MAX_SEQUENCE_LENGTH)
        x = {k: data[k] for k in ("token_ids", "padding_mask")}
        masked_lm_cls = DistilBertMaskedLM
    if case["kind"] == "forward":
        # Inference keeps nothing for a backward, as KerasHub's predict_on_batch and HF under
        # torch.no_grad (an older tree given by --baseline may not have no_grad).
        no_grad = getattr(minibert, "no_grad", contextlib.nullcontext)

        def forward():
            with no_grad():
                return backbone(x, training=False)
        yield forward
        return
    model = masked_lm_cls(backbone)
    xm = dict(x, mask_positions=data["mask_positions"])
    labels = data["labels"]
    optimizer = Adam(5e-5)
    loss_fn = SparseCategoricalCrossentropy(from_logits=True)           # as KerasHub's compile

    def train_step():
        model.zero_grad()
        logits = model(xm, training=True)                               # (B, M, V)
        loss, cache = loss_fn.forward(labels, logits)
        model.backward(loss_fn.backward(1.0, cache))
        # pooled_dense takes no part in the masked-LM loss: no gradient, not updated (as Keras).
        pairs = [(v.grad, v) for v in model.trainable_weights if v.grad is not None]
        optimizer.apply([g for g, _ in pairs], [v for _, v in pairs])
        return float(loss)
    yield train_step


def _blas_info():
    try:
        import threadpoolctl
        return [{k: i.get(k) for k in ("internal_api", "architecture", "num_threads", "version")}
                for i in threadpoolctl.threadpool_info() if i.get("user_api") == "blas"]
    except ImportError:
        return "install threadpoolctl to see the BLAS kernel"


# --------------------------------------------------------------------------------- keras_hub
def setup_keras_hub(case):
    os.environ["KERAS_BACKEND"] = "torch"
    import keras
    import keras_hub
    import torch
    yield {"keras": keras.__version__, "keras_hub": keras_hub.__version__,
           "torch": torch.__version__, "torch_threads": torch.get_num_threads()}
    cfg = dict(CONFIGS[case["config"]])
    model_type = cfg.pop("model")
    data = make_inputs(case)
    if model_type == "bert":
        backbone = keras_hub.models.BertBackbone(**cfg, dropout=0.1,
                                                 max_sequence_length=MAX_SEQUENCE_LENGTH)
        x = {k: data[k] for k in ("token_ids", "segment_ids", "padding_mask")}
        masked_lm_cls = keras_hub.models.BertMaskedLM
    else:
        backbone = keras_hub.models.DistilBertBackbone(**cfg, dropout=0.1,
                                                       max_sequence_length=MAX_SEQUENCE_LENGTH)
        x = {k: data[k] for k in ("token_ids", "padding_mask")}
        masked_lm_cls = keras_hub.models.DistilBertMaskedLM
    if case["kind"] == "forward":
        # predict_on_batch: Keras's own inference call (no autograd graph, numpy out).
        yield lambda: backbone.predict_on_batch(x)
        return
    model = masked_lm_cls(backbone)
    model.compile(optimizer=keras.optimizers.Adam(5e-5),
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    xm = dict(x, mask_positions=data["mask_positions"])
    labels = data["labels"]
    yield lambda: model.train_on_batch(xm, labels)


# ---------------------------------------------------------------------------------------- hf
def setup_hf(case):
    import torch
    import transformers
    transformers.logging.set_verbosity_error()
    yield {"transformers": transformers.__version__, "torch": torch.__version__,
           "torch_threads": torch.get_num_threads(),
           "attention": case.get("hf_attention", "eager")}
    cfg = dict(CONFIGS[case["config"]])
    model_type = cfg.pop("model")
    data = make_inputs(case)
    attention = case.get("hf_attention", "eager")
    torch.manual_seed(0)
    ids = torch.from_numpy(data["token_ids"].astype(np.int64))
    mask = torch.from_numpy(data["padding_mask"].astype(np.int64))
    if model_type == "bert":
        config = transformers.BertConfig(
            vocab_size=cfg["vocabulary_size"], hidden_size=cfg["hidden_dim"],
            num_hidden_layers=cfg["num_layers"], num_attention_heads=cfg["num_heads"],
            intermediate_size=cfg["intermediate_dim"], max_position_embeddings=MAX_SEQUENCE_LENGTH,
            attn_implementation=attention)
        inputs = dict(input_ids=ids, attention_mask=mask,
                      token_type_ids=torch.from_numpy(data["segment_ids"].astype(np.int64)))
        base_cls, masked_lm_cls = transformers.BertModel, transformers.BertForMaskedLM
    else:
        config = transformers.DistilBertConfig(
            vocab_size=cfg["vocabulary_size"], dim=cfg["hidden_dim"], n_layers=cfg["num_layers"],
            n_heads=cfg["num_heads"], hidden_dim=cfg["intermediate_dim"],
            max_position_embeddings=MAX_SEQUENCE_LENGTH, attn_implementation=attention)
        inputs = dict(input_ids=ids, attention_mask=mask)
        base_cls, masked_lm_cls = transformers.DistilBertModel, transformers.DistilBertForMaskedLM
    if case["kind"] == "forward":
        model = base_cls(config).eval()

        def forward():
            with torch.no_grad():
                return model(**inputs)
        yield forward
        return
    model = masked_lm_cls(config).train()
    # HF's masked LM scores every position; labels are -100 (ignored) except at the masks.
    labels = torch.full(ids.shape, -100, dtype=torch.int64)
    rows = torch.arange(ids.shape[0])[:, None]
    labels[rows, torch.from_numpy(data["mask_positions"].astype(np.int64))] = \
        torch.from_numpy(data["labels"].astype(np.int64))
    optimizer = torch.optim.Adam(model.parameters(), lr=5e-5)

    def train_step():
        optimizer.zero_grad(set_to_none=True)
        loss = model(**inputs, labels=labels).loss
        loss.backward()
        optimizer.step()
        return float(loss)
    yield train_step


# -------------------------------------------------------------------------------------- GEMM
def setup_gemm(case, library):
    n = case["gemm_size"]
    rng = np.random.default_rng(0)
    a = rng.standard_normal((n, n), dtype=np.float32)
    b = rng.standard_normal((n, n), dtype=np.float32)
    if library == "numpy":
        yield {"numpy": np.__version__, "blas": _blas_info()}
        out = np.empty((n, n), np.float32)
        yield lambda: np.matmul(a, b, out=out)
    else:
        import torch
        yield {"torch": torch.__version__, "torch_threads": torch.get_num_threads()}
        ta, tb = torch.from_numpy(a), torch.from_numpy(b)
        out = torch.empty((n, n))
        yield lambda: torch.matmul(ta, tb, out=out)


SETUPS = {"minibert": setup_minibert, "keras_hub": setup_keras_hub, "hf": setup_hf,
          "numpy": lambda case: setup_gemm(case, "numpy"),
          "torch": lambda case: setup_gemm(case, "torch")}


def main():
    framework, case = sys.argv[1], json.loads(sys.argv[2])
    protocol = os.fdopen(os.dup(1), "w", buffering=1)
    os.dup2(2, 1)                        # anything a library prints goes to stderr
    sys.stdout = sys.stderr
    threads = case.get("threads")
    if threads:
        try:
            import torch
            torch.set_num_threads(threads)
        except ImportError:
            pass

    def reply(message):
        protocol.write(json.dumps(message) + "\n")

    steps = SETUPS[framework](case)
    info = next(steps)                   # imports done
    rss_import = _proc_status_mb("VmRSS")
    peak_reset = _reset_peak_rss()
    call = next(steps)                   # model and inputs built
    for _ in range(case.get("warmup", 2)):
        call()
    reply({"ready": True, "rss_import_mb": rss_import, "peak_reset": peak_reset, "info": info})
    for line in sys.stdin:
        command = line.split()
        if not command:
            continue
        if command[0] == "run":
            times = []
            for _ in range(int(command[1])):
                start = time.perf_counter()
                call()
                times.append(time.perf_counter() - start)
            reply({"times": times})
        elif command[0] == "stats":
            reply({"peak_rss_mb": _proc_status_mb("VmHWM"), "rss_import_mb": rss_import,
                   "rss_mb": _proc_status_mb("VmRSS")})
        elif command[0] == "quit":
            break


if __name__ == "__main__":
    main()
