"""minibert against KerasHub (torch backend) and HF transformers (PyTorch eager), in one run.

    python benchmarks/run.py            # the full run (see docs/performance.md)
    python benchmarks/run.py --quick    # a few minutes (docs/performance.md)

What is timed (each framework in its own subprocess, benchmarks/_worker.py, on the same inputs):

- this machine's float32 GEMM throughput (one large square matmul in NumPy, and in torch);
- backbone forward (inference): bert_tiny 32x128, bert_base 8x128, DistilBERT base 8x128;
- one masked-LM training step (forward, loss, backward, Adam) for the same configs, 20 masked
  positions per row;
- attention cost as the sequence grows (64 to 512) at a fixed number of tokens per batch:
  time per token = a + b * T, the b * T part being the quadratic attention term;
- hooks: ``benchmarks/tokenizer_throughput.py`` and ``benchmarks/preset_load.py`` run after the
  rest when they exist (they print their own tables; in quick mode a hook whose source mentions
  ``--quick`` is called with it).

For each case the workers are started together, build their models and warm up, and then are
timed in turns, round after round, so that a change of load on the machine hits every framework
alike. A turn is a pause (threads still spinning after the previous worker's call go idle), then
two calls of which the second is timed (the first wakes the worker's own threads): each time is
that of a call in a steady loop, undisturbed by the other workers. A time is the median over the
rounds. In the forward cases a NumPy GEMM (2048^3) takes turns too, so minibert's FLOP/s is
compared with what the hardware gave in the same rounds. ``--baseline PATH`` adds another
minibert tree (an older commit) to every case. Peak memory is the peak resident set size of each
worker process (its whole footprint: interpreter, libraries, model), and the part of it above
the resident size right after the imports (the model, its steps and buffers).
"""
import argparse
import json
import os
import platform
import subprocess
import sys
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, HERE)
from _worker import CONFIGS  # noqa: E402

FRAMEWORKS = ("minibert", "keras_hub", "hf")
LABELS = {"minibert": "minibert", "keras_hub": "KerasHub-torch", "hf": "HF-torch",
          "baseline": "baseline", "numpy": "numpy", "torch": "torch"}
GEMM_IN_ROUNDS = 2048        # the GEMM timed in turns with every forward case
#: Pause before each turn. After a product, OpenBLAS's threads keep spinning for about 0.1 s
#: (waiting for the next one); without the pause they would slow the next worker's call. Each
#: turn then makes two calls and times the second, as in a loop of calls: the first one wakes
#: the worker's threads, asleep after the pause.
SETTLE_SECONDS = 0.3
HOOKS = (("tokenizer throughput", "tokenizer_throughput.py"),
         ("preset load time", "preset_load.py"))


# ------------------------------------------------------------------------------------ cases
def build_cases(quick):
    """(section, case) pairs, in the order they run."""
    cases = [("gemm", dict(kind="gemm", gemm_size=2048 if quick else 4096,
                           repeats=5 if quick else 9, warmup=1))]
    model_cases = [("bert_tiny", 32), ("bert_base", 8), ("distil_bert_base", 8)]
    if quick:                       # DistilBERT only in the full run
        model_cases = model_cases[:2]
    for config, batch in model_cases:
        cases.append(("forward", dict(kind="forward", config=config, batch=batch, seq=128,
                                      repeats=3 if quick else 9, warmup=1 if quick else 2)))
    for config, batch in model_cases:
        cases.append(("train", dict(kind="train", config=config, batch=batch, seq=128,
                                    masks=20, repeats=2 if quick else 7,
                                    warmup=1 if quick else 2)))
    tokens = 2048
    for seq in ((128, 512) if quick else (64, 128, 256, 512)):
        cases.append(("scaling", dict(kind="forward", config="bert_base_1l" if quick
                                      else "bert_base_2l", batch=tokens // seq, seq=seq,
                                      repeats=3 if quick else 7, warmup=1)))
    return cases


def forward_flops(case):
    """Multiply-add FLOPs (2 per MAC) of a backbone forward: the projections, the feed-forward,
    the two attention products, and BERT's pooler."""
    cfg = CONFIGS[case["config"]]
    batch, seq = case["batch"], case["seq"]
    hidden, inter, layers = cfg["hidden_dim"], cfg["intermediate_dim"], cfg["num_layers"]
    tokens = batch * seq
    dense = 2 * tokens * (4 * hidden * hidden + 2 * hidden * inter)
    attention = 2 * 2 * batch * seq * seq * hidden
    pooler = 2 * batch * hidden * hidden if cfg["model"] == "bert" else 0
    return layers * (dense + attention) + pooler, layers * attention


# ----------------------------------------------------------------------------------- workers
class Worker:
    """A running _worker.py process: one framework, one case (``key`` names its results)."""

    def __init__(self, framework, case, env, key=None):
        self.framework = key or framework
        self.process = subprocess.Popen(
            [sys.executable, os.path.join(HERE, "_worker.py"), framework, json.dumps(case)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
            env=env, cwd=ROOT)
        self.ready = None

    def _read(self):
        line = self.process.stdout.readline()
        if not line:
            error = self.process.stderr.read()
            raise RuntimeError(f"{self.framework} worker died:\n{error[-3000:]}")
        return json.loads(line)

    def _ask(self, command):
        self.process.stdin.write(command + "\n")
        self.process.stdin.flush()
        return self._read()

    def wait_ready(self):
        self.ready = self._read()
        return self.ready

    def run(self, n=1):
        return self._ask(f"run {n}")["times"]

    def stats(self):
        return self._ask("stats")

    def close(self):
        try:
            self.process.stdin.write("quit\n")
            self.process.stdin.close()
        except (BrokenPipeError, OSError):
            pass
        self.process.wait(timeout=60)
        self.process.stderr.close()
        self.process.stdout.close()


def run_case(case, frameworks, env, log, gemm_size=None, baseline=None):
    """Start one worker per framework, time them in turns; {framework: result}.

    With ``gemm_size``, a NumPy GEMM worker takes its turns too (results key "gemm"), so the
    forward's FLOP/s is compared with what the hardware gave in the same rounds."""
    workers = [Worker("minibert", dict(case, minibert_path=baseline), env, key="baseline")
               if f == "baseline" else Worker(f, case, env) for f in frameworks]
    if gemm_size:
        workers.append(Worker("numpy", dict(kind="gemm", gemm_size=gemm_size, warmup=1), env,
                              key="gemm"))
    results = {}
    try:
        for w in workers:
            ready = w.wait_ready()
            results[w.framework] = {"info": ready["info"], "times": []}
        rng = np.random.default_rng(0)
        for _ in range(case["repeats"]):
            for i in rng.permutation(len(workers)):   # turns in a shuffled order each round
                time.sleep(SETTLE_SECONDS)
                # Two calls, the second one timed: the first wakes the worker's threads.
                results[workers[i].framework]["times"] += workers[i].run(2)[1:]
        for w in workers:
            stats = w.stats()
            r = results[w.framework]
            r["median"] = float(np.median(r["times"]))
            r["min"] = float(np.min(r["times"]))
            r["peak_rss_mb"] = stats["peak_rss_mb"]
            r["rss_import_mb"] = stats["rss_import_mb"]
            r["peak_above_import_mb"] = stats["peak_rss_mb"] - stats["rss_import_mb"]
    finally:
        for w in workers:
            try:
                w.close()
            except Exception as error:   # a dead worker must not hide the first error
                log(f"  (closing {w.framework}: {error})")
    return results


# ----------------------------------------------------------------------------------- output
def fmt_time(seconds):
    return f"{seconds * 1e3:8.1f} ms" if seconds < 10 else f"{seconds:8.2f} s "


def case_name(case):
    return f"{case['config']} {case['batch']}x{case['seq']}"


def print_table(title, header, rows, out):
    widths = [max(len(str(x)) for x in col) for col in zip(header, *rows)]
    out(f"\n{title}")
    out("  ".join(str(h).ljust(w) for h, w in zip(header, widths)))
    out("  ".join("-" * w for w in widths))
    for row in rows:
        out("  ".join(str(c).ljust(w) for c, w in zip(row, widths)))


def report(all_results, frameworks, out):
    others = [f for f in frameworks if f != "minibert"]
    gemm = [r for s, c, r in all_results if s == "gemm"]
    if gemm:
        (case, res), = [(c, r) for s, c, r in all_results if s == "gemm"]
        n = case["gemm_size"]
        parts = []
        for lib, r in res.items():
            rate = 2 * n ** 3 / r["median"]
            parts.append(f"{LABELS[lib]} {rate / 1e9:.1f} GFLOP/s")
        out(f"\nfloat32 GEMM {n}x{n}x{n} (median): " + ", ".join(parts))

    for section, title in (("forward", "Backbone forward (inference), median time per call"),
                           ("train", "Masked-LM training step (forward, loss, backward, Adam), "
                                     "median time per step")):
        rows = []
        for s, case, res in all_results:
            if s != section:
                continue
            row = [case_name(case)] + [fmt_time(res[f]["median"]) if f in res else "-"
                                       for f in frameworks]
            if "minibert" in res:
                row += [f"{res['minibert']['median'] / res[f]['median']:.2f}x"
                        if f in res else "-" for f in others]
                if section == "forward":
                    flops, _ = forward_flops(case)
                    rate = flops / res["minibert"]["median"]
                    same_round = None
                    if "gemm" in res:
                        n = GEMM_IN_ROUNDS
                        same_round = 2 * n ** 3 / res["gemm"]["median"]
                    share = f" = {100 * rate / same_round:.0f}% of {same_round / 1e9:.0f} " \
                        if same_round else ""
                    row.append(f"{rate / 1e9:.1f}{share}")
            rows.append(row)
        header = ["case"] + [LABELS[f] for f in frameworks] + \
            [f"minibert/{LABELS[f]}" for f in others] + \
            ([f"minibert GFLOP/s (of numpy GEMM {GEMM_IN_ROUNDS}^3 in the same rounds)"]
             if section == "forward" else [])
        if rows:
            print_table(title, header, rows, out)

    rows = []
    for s, case, res in all_results:
        if s in ("forward", "train"):
            rows.append([f"{s} {case_name(case)}"] + [
                f"{res[f]['peak_rss_mb']:.0f} / {res[f]['peak_above_import_mb']:.0f}"
                if f in res else "-" for f in frameworks])
    if rows:
        print_table("Peak resident memory, MB: whole process / above the post-import baseline",
                    ["case"] + [LABELS[f] for f in frameworks], rows, out)

    scaling = [(c, r) for s, c, r in all_results if s == "scaling"]
    if scaling:
        rows = []
        seqs = np.array([c["seq"] for c, _ in scaling], float)
        for case, res in scaling:
            flops, attention = forward_flops(case)
            tokens = case["batch"] * case["seq"]
            rows.append([f"T={case['seq']} (batch {case['batch']})"] +
                        [f"{1e6 * res[f]['median'] / tokens:.1f}" if f in res else "-"
                         for f in frameworks] + [f"{100 * attention / flops:.0f}%"])
        fit = []
        for f in frameworks:
            per_token = np.array([r[f]["median"] / (c["batch"] * c["seq"])
                                  for c, r in scaling if f in r])
            if len(per_token) >= 2:
                b, a = np.polyfit(seqs, per_token, 1)
                fit.append(f"{LABELS[f]}: {1e6 * a:.1f} + {1e9 * b:.2f}e-3 * T us")
        config = scaling[0][0]["config"]
        print_table(f"Attention scaling ({config}, {scaling[0][0]['batch'] * scaling[0][0]['seq']}"
                    " tokens per batch): microseconds per token",
                    ["sequence"] + [LABELS[f] for f in frameworks] + ["attention FLOP share"],
                    rows, out)
        out("fit, time per token = a + b*T:  " + ";  ".join(fit))


def machine_header(env, out):
    out(f"minibert benchmarks  {time.strftime('%Y-%m-%d %H:%M')}  "
        f"python {platform.python_version()}  {os.cpu_count()} CPUs  "
        f"load average {os.getloadavg()[0]:.2f}")
    model = ""
    try:
        with open("/proc/cpuinfo") as f:
            model = next((l.split(":", 1)[1].strip() for l in f if l.startswith("model name")), "")
    except OSError:
        pass
    if model:
        out(f"cpu: {model}")
    for var in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE", "OPENBLAS_NUM_THREADS",
                "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        if env.get(var):
            out(f"note: {var}={env[var]} is set for this run")
    if env.get("OPENBLAS_CORETYPE"):
        out("      (it can force an older OpenBLAS kernel; see docs/performance.md)")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer cases and repeats (~2 min)")
    parser.add_argument("--frameworks", default=",".join(FRAMEWORKS),
                        help="comma-separated subset of minibert,keras_hub,hf")
    parser.add_argument("--only", default=None,
                        help="comma-separated sections: gemm,forward,train,scaling")
    parser.add_argument("--threads", type=int, default=None,
                        help="threads for every framework (BLAS, OpenMP, torch); default: "
                             "each library's own default")
    parser.add_argument("--repeats", type=int, default=None, help="override timed rounds")
    parser.add_argument("--hf-attention", default="eager", choices=("eager", "sdpa"),
                        help="HF attention implementation (default eager)")
    parser.add_argument("--baseline", default=None, metavar="PATH",
                        help="also time the minibert package found in PATH (e.g. an export of "
                             "an older commit), as the framework 'baseline'")
    parser.add_argument("--json", default=None, help="also write every timing to this file")
    parser.add_argument("--no-hooks", action="store_true",
                        help="skip the tokenizer / preset-load hooks")
    args = parser.parse_args(argv)
    frameworks = tuple(f for f in args.frameworks.split(",") if f)
    if args.baseline:
        args.baseline = os.path.abspath(args.baseline)
        frameworks += ("baseline",)
    sections = set(args.only.split(",")) if args.only else None
    env = dict(os.environ)
    env.setdefault("KERAS_BACKEND", "torch")
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    if args.threads:
        for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
            env[var] = str(args.threads)

    def out(line=""):
        print(line, flush=True)

    def log(line):
        print(line, file=sys.stderr, flush=True)

    machine_header(env, out)
    started = time.perf_counter()
    all_results = []
    for section, case in build_cases(args.quick):
        if sections and section not in sections:
            continue
        case = dict(case, seed=0, hf_attention=args.hf_attention, threads=args.threads)
        if args.repeats:
            case["repeats"] = args.repeats
        libs = ("numpy", "torch") if section == "gemm" else frameworks
        log(f"[{time.perf_counter() - started:6.0f} s] {section}: "
            f"{case.get('config', case.get('gemm_size'))} ...")
        results = run_case(case, libs, env, log,
                           gemm_size=GEMM_IN_ROUNDS if section == "forward" else None,
                           baseline=args.baseline)
        all_results.append((section, case, results))
        if section == "gemm":
            blas = results.get("numpy", {}).get("info", {}).get("blas")
            if blas:
                out(f"numpy BLAS: {blas}")
            out(f"torch threads: {results.get('torch', {}).get('info', {}).get('torch_threads')}")
    report(all_results, frameworks, out)
    out(f"\ntotal {time.perf_counter() - started:.0f} s")
    if args.json:
        with open(args.json, "w") as f:
            json.dump([{"section": s, "case": c, "results": r} for s, c, r in all_results], f,
                      indent=1)
    if not args.no_hooks:
        for title, script in HOOKS:
            path = os.path.join(HERE, script)
            if os.path.exists(path):
                out(f"\n== {title} ({script}) ==")
                with open(path) as f:
                    takes_quick = "--quick" in f.read()
                subprocess.run([sys.executable, path] + (["--quick"] if args.quick and takes_quick
                                                         else []),
                               cwd=ROOT, env=env, check=False)


if __name__ == "__main__":
    main()
