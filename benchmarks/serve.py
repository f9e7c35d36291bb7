"""Throughput and latency of ``stancelib serve`` against the in-process batch rate of the same model.

    python benchmarks/serve.py --model runs/default/model-onnx-int8 [--requests 600] [--concurrency 1,8,32]

(``stancelib export --model runs/default/model --format onnx --quantize int8`` makes the folder;
``--model`` may also be a PyTorch folder, which is then served as it is.)

1. In-process: ``StanceClassifier.predict_proba`` of ``--requests`` sentences in one call
   (length-sorted batches), best of 3 after a warm-up: the model's own batch rate.
2. Starts ``stancelib serve`` on a free 127.0.0.1 port, then for each concurrency level c
   runs c client threads, each with its own keep-alive connection, sending one sentence per
   ``POST /v1/predict`` until ``--requests`` requests are answered (a bounded number, never
   open-ended). Reports requests/s, sentences/s, p50/p99 latency and errors; level 1 is a
   lone client on an idle server: its p99 is the lone-sentence latency.
3. Prints the CPU (lscpu model name, AVX-512 VNNI and AVX2 flags) beside the figures, and
   checks the target: at 32 clients, throughput >= 0.5 x the in-process rate, 0 errors.

The sentences are the texts of data/corpus/test.jsonl (cycled). The client threads run
on the same machine and take CPU from the server: the figures are a floor.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, REPO)
TARGET = 0.5  # 32 clients vs the in-process batch rate


def cpu_info() -> str:
    try:
        out = subprocess.run(["lscpu"], capture_output=True, text=True, timeout=10).stdout
    except OSError:
        return "lscpu not available"
    model = next((line.split(":", 1)[1].strip() for line in out.splitlines() if line.startswith("Model name")), "?")
    flags = next((line.split(":", 1)[1].split() for line in out.splitlines() if line.startswith("Flags")), [])
    return (f"{model}, {os.cpu_count()} logical CPUs, AVX-512 VNNI: {'yes' if 'avx512_vnni' in flags else 'no'}, "
            f"AVX2: {'yes' if 'avx2' in flags else 'no'}")


def load_sentences(n: int) -> list[str]:
    with open(os.path.join(REPO, "data", "corpus", "test.jsonl"), encoding="utf-8") as f:
        texts = [json.loads(line)["text"] for line in f if line.strip()]
    return [texts[k % len(texts)] for k in range(n)]


def in_process_rate(model: str, texts: list[str], threads: int | None) -> float:
    from stancelib import StanceClassifier

    clf = StanceClassifier.from_pretrained(model, num_threads=threads)
    clf.predict_proba(texts[:64], show_progress=False)  # warm-up
    best = float("inf")
    for _ in range(3):
        t = time.perf_counter()
        clf.predict_proba(texts, show_progress=False)
        best = min(best, time.perf_counter() - t)
    return len(texts) / best


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(model: str, port: int, extra: list[str]) -> subprocess.Popen:
    # the server's log goes to a file: a pipe would need a reader thread here, on the clients' CPU
    log = tempfile.NamedTemporaryFile("w+", prefix="stancelib-serve-", suffix=".log", delete=False)
    proc = subprocess.Popen([sys.executable, "-m", "stancelib", "serve", "--model", model, "--port", str(port), *extra],
                            cwd=REPO, stdout=log, stderr=subprocess.STDOUT, text=True)
    t = time.monotonic()
    while time.monotonic() - t < 180:
        if proc.poll() is not None:
            log.seek(0)
            raise SystemExit(f"the server exited {proc.returncode}:\n{log.read()}")
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("GET", "/readyz")
            if conn.getresponse().status == 200:
                return proc
        except OSError:
            time.sleep(0.3)
    raise SystemExit("the server was not ready within 180 s")


def requests_per_batch(port: int, headers: dict) -> tuple[float, float]:
    """(model calls, requests merged) so far, from the server's /metrics."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    conn.request("GET", "/metrics", headers=headers)
    text = conn.getresponse().read().decode()
    values = {}
    for line in text.splitlines():
        if line.startswith('stancelib_batch_requests_count{kind="predict"}') or \
                line.startswith('stancelib_batch_requests_sum{kind="predict"}'):
            values[line.split("{")[0].rsplit("_", 1)[1]] = float(line.split()[-1])
    return values.get("count", 0.0), values.get("sum", 0.0)


def load_level(port: int, texts: list[str], clients: int, headers: dict) -> dict:
    """``len(texts)`` requests of one sentence each from ``clients`` threads."""
    latencies, errors, lock = [], [0], threading.Lock()
    next_item = [0]

    def client():
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        while True:
            with lock:
                k = next_item[0]
                next_item[0] += 1
            if k >= len(texts):
                break
            body = json.dumps({"texts": [texts[k]]})
            t = time.perf_counter()
            try:
                conn.request("POST", "/v1/predict", body=body, headers=headers)
                r = conn.getresponse()
                data = r.read()
                ok = r.status == 200 and len(json.loads(data)["predictions"]) == 1
            except (OSError, http.client.HTTPException, ValueError):
                ok = False
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
            with lock:
                latencies.append(time.perf_counter() - t)
                errors[0] += not ok
        conn.close()

    threads = [threading.Thread(target=client) for _ in range(clients)]
    t = time.perf_counter()
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    wall = time.perf_counter() - t
    latencies.sort()
    pick = lambda q: latencies[min(len(latencies) - 1, int(q * len(latencies)))] * 1000  # noqa: E731
    return {"clients": clients, "requests": len(texts), "seconds": wall, "requests_per_s": len(texts) / wall,
            "sentences_per_s": len(texts) / wall, "p50_ms": pick(0.50), "p99_ms": pick(0.99), "errors": errors[0]}


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--model", required=True, help="model folder to serve (an ONNX int8 export for the target)")
    p.add_argument("--requests", type=int, default=600, help="requests per concurrency level (one sentence each)")
    p.add_argument("--concurrency", default="1,8,32", help="client counts, comma-separated")
    p.add_argument("--threads", type=int, help="inference threads, for the server and the in-process run alike")
    p.add_argument("--server-arg", action="append", default=[], help="extra flag for stancelib serve (repeatable)")
    p.add_argument("--json-out", help="also write the figures here")
    args = p.parse_args(argv)

    texts = load_sentences(args.requests)
    print(f"CPU: {cpu_info()}", flush=True)
    rate = in_process_rate(args.model, texts, args.threads)
    print(f"in-process batch rate: {rate:.0f} sentences/s ({len(texts)} sentences, predict_proba, best of 3)", flush=True)

    extra = list(args.server_arg) + (["--threads", str(args.threads)] if args.threads else [])
    token = os.environ.get("STANCELIB_SERVE_TOKEN")
    headers = {"Content-Type": "application/json", **({"Authorization": f"Bearer {token}"} if token else {})}
    port = free_port()
    proc = start_server(args.model, port, extra)
    try:
        load_level(port, texts[:50], 4, headers)  # warm-up: connections, first batches
        levels = []
        print(f"{'clients':>7} {'req/s':>8} {'sent/s':>8} {'p50 ms':>8} {'p99 ms':>8} {'errors':>6} {'vs batch':>8} {'req/call':>8}")
        for c in (int(x) for x in args.concurrency.split(",")):
            before = requests_per_batch(port, headers)
            r = load_level(port, texts, c, headers)
            after = requests_per_batch(port, headers)
            r["vs_in_process"] = r["sentences_per_s"] / rate
            r["requests_per_model_call"] = (after[1] - before[1]) / max(after[0] - before[0], 1)
            levels.append(r)
            print(f"{c:>7} {r['requests_per_s']:>8.0f} {r['sentences_per_s']:>8.0f} {r['p50_ms']:>8.1f} "
                  f"{r['p99_ms']:>8.1f} {r['errors']:>6} {r['vs_in_process']:>8.2f} {r['requests_per_model_call']:>8.1f}",
                  flush=True)
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(60)

    lone = next((r for r in levels if r["clients"] == 1), None)
    if lone:
        print(f"lone sentence on an idle server: p50 {lone['p50_ms']:.1f} ms, p99 {lone['p99_ms']:.1f} ms")
    top = next((r for r in levels if r["clients"] == 32), None)
    passed = None
    if top:
        passed = top["vs_in_process"] >= TARGET and top["errors"] == 0
        print(f"target (32 clients >= {TARGET} x in-process, 0 errors): {'met' if passed else 'NOT met'} "
              f"({top['vs_in_process']:.2f} x, {top['errors']} errors)")
    if args.json_out:
        with open(args.json_out, "w", encoding="utf-8") as f:
            json.dump({"cpu": cpu_info(), "model": args.model, "in_process_sentences_per_s": rate, "levels": levels,
                       "target_met": passed}, f, indent=2)
    return 0 if passed in (None, True) else 1


if __name__ == "__main__":
    sys.exit(main())
