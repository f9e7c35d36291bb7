"""``stancelib serve``: the real server in subprocesses on free 127.0.0.1 ports, spoken to over HTTP.

All servers start at once (module fixture) so that their start-up (importing torch) overlaps.
"""

import http.client
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.parse

import numpy as np
import pytest

pytest.importorskip("fastapi")
pytest.importorskip("uvicorn")

from stancelib import StanceClassifier  # noqa: E402

from .conftest import TINY, make_tiny_model  # noqa: E402

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TOKEN = "s3cret-token"
TEXTS = [s for texts in TINY.values() for s in texts[:3]] + ["", "Über 200 Menschen demonstrierten in Zürich."]
ARTICLE = ("The ministry said 40 people were hurt. Critics say the plan is doomed to fail.\n\n"
           "Rain fell across the north on Sunday. \"We will rebuild,\" Mayor Ana Ortiz told reporters.")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def call(port, method, path, body=None, headers=None, timeout=30):
    """(status, lower-cased headers, parsed JSON or bytes)."""
    headers = dict(headers or {})
    if isinstance(body, (dict, list)):
        body = json.dumps(body).encode()
        headers.setdefault("Content-Type", "application/json")
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request(method, path, body=body, headers=headers, encode_chunked=not isinstance(body, (bytes, type(None))))
        r = conn.getresponse()
        data = r.read()
    finally:
        conn.close()
    hdrs = {k.lower(): v for k, v in r.getheaders()}
    if hdrs.get("content-type", "").startswith("application/json"):
        data = json.loads(data)
    return r.status, hdrs, data


class Server:
    def __init__(self, model_dir, *args, env=None, log_dir):
        self.port = free_port()
        self.auth = {"Authorization": f"Bearer {TOKEN}"} if env else {}
        self.log_path = os.path.join(log_dir, f"serve-{self.port}.log")
        self.log = open(self.log_path, "w")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "stancelib", "serve", "--model", model_dir, "--port", str(self.port), *args],
            cwd=REPO, stdout=self.log, stderr=subprocess.STDOUT, env={**os.environ, **(env or {})})

    def wait_ready(self, timeout=90):
        t = time.monotonic()
        while time.monotonic() - t < timeout:
            if self.proc.poll() is not None:
                raise AssertionError(f"server exited {self.proc.returncode}:\n{self.output()}")
            try:
                if call(self.port, "GET", "/readyz", timeout=2)[0] == 200:
                    return self
            except OSError:
                pass
            time.sleep(0.2)
        raise AssertionError(f"server not ready in {timeout} s:\n{self.output()}")

    def output(self) -> str:
        self.log.flush()
        with open(self.log_path) as f:
            return f.read()

    def metric(self, name: str) -> float:
        text = call(self.port, "GET", "/metrics", headers=self.auth)[2].decode()
        m = re.search(rf"^{re.escape(name)} (\S+)$", text, re.M)
        return float(m.group(1)) if m else 0.0

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
        self.log.close()


@pytest.fixture(scope="module")
def model_dir(tokenizer, tmp_path_factory):
    """A tiny random model with a sharpened head, so labels differ between sentences."""
    import torch

    model = make_tiny_model(tokenizer, seed=1).eval()
    with torch.no_grad():
        model.classifier.weight.mul_(300)
    path = str(tmp_path_factory.mktemp("serve") / "model")
    StanceClassifier(model, tokenizer, max_length=64, metadata={"run_name": "tiny"}).save_pretrained(path, model_card="# tiny\n")
    return path


@pytest.fixture(scope="module")
def servers(model_dir, tmp_path_factory):
    from stancelib.export import default_out_dir, export_onnx

    logs = str(tmp_path_factory.mktemp("serve-logs"))
    onnx_dir = export_onnx(model_dir, default_out_dir(model_dir, "int8"), quantize="int8")
    started = {
        # small limits so the battery can cross each one cheaply; a long batching wait so
        # concurrent requests surely meet
        "main": Server(model_dir, "--max-items", "16", "--max-chars", "2000", "--max-body-bytes", "20000",
                       "--max-wait-ms", "40", "--request-timeout", "4", log_dir=logs),
        # the ONNX folder, with auth; requests wait 1.5 s for company, so a burst is surely
        # in flight when SIGTERM comes (the last test to use it)
        "onnx": Server(onnx_dir, "--token-env", "TEST_SERVE_TOKEN", "--max-wait-ms", "1500", "--max-queue", "16",
                       env={"TEST_SERVE_TOKEN": TOKEN}, log_dir=logs),
    }
    try:
        for s in started.values():
            s.wait_ready()
        started["onnx_dir"] = onnx_dir
        yield started
    finally:
        for s in started.values():
            if isinstance(s, Server):
                s.stop()


@pytest.fixture(scope="module")
def clf(model_dir):
    return StanceClassifier.from_pretrained(model_dir)


def test_predict_matches_the_library(servers, clf):
    status, _, body = call(servers["main"].port, "POST", "/v1/predict", {"texts": TEXTS})
    assert status == 200
    expected = clf.predict_proba(TEXTS, show_progress=False)
    assert len(body["predictions"]) == len(TEXTS)
    for row, got, text in zip(expected, body["predictions"], TEXTS):
        if not text.strip():
            assert got == {"label": None, "probabilities": None}
            continue
        assert list(got["probabilities"]) == list(clf.labels)
        np.testing.assert_allclose([got["probabilities"][n] for n in clf.labels], row, atol=1e-5)
        assert got["label"] == clf.labels[int(row.argmax())]
    assert np.ptp(expected[[k for k, t in enumerate(TEXTS) if t.strip()]], axis=0).max() > 1e-6  # rows differ


def test_analyze_matches_the_library(servers, clf):
    docs = [ARTICLE, "Police closed the road for two hours."]
    status, _, body = call(servers["main"].port, "POST", "/v1/analyze", {"documents": docs})
    assert status == 200
    for got, want in zip(body["analyses"], (a.to_dict() for a in clf.analyze(docs))):
        assert got["counts"] == want["counts"] and got["sources"] == want["sources"]
        assert [(s["start"], s["end"], s["label"], s["source"], s["cue"]) for s in got["sentences"]] == \
               [(s["start"], s["end"], s["label"], s["source"], s["cue"]) for s in want["sentences"]]
        for g, w in zip(got["sentences"], want["sentences"]):
            assert g["probabilities"] == pytest.approx(w["probabilities"], abs=2e-4)


def test_model_health_ready_metrics_docs(servers, clf):
    port = servers["main"].port
    status, _, info = call(port, "GET", "/v1/model")
    assert status == 200 and info["labels"] == list(clf.labels) and info["backend"] == "torch"
    assert info["model_version"].startswith("tiny+") and info["card"]["run_name"] == "tiny"
    assert call(port, "GET", "/healthz")[:3:2] == (200, {"status": "ok"})
    assert call(port, "GET", "/readyz")[0] == 200
    status, headers, text = call(port, "GET", "/metrics")
    assert status == 200 and headers["content-type"].startswith("text/plain")
    for name in ("stancelib_requests_total", "stancelib_request_seconds_bucket", "stancelib_batch_items_bucket",
                 "stancelib_queue_items", "stancelib_errors_total"):
        assert name in text.decode()
    status, _, spec = call(port, "GET", "/openapi.json")
    assert status == 200 and {"/v1/predict", "/v1/analyze", "/v1/model", "/healthz", "/readyz", "/metrics"} <= set(spec["paths"])
    assert re.search(r"GET /v1/model 200 items=- \d+\.\dms", servers["main"].output())  # one log line per request
    status, hdrs, _ = call(port, "OPTIONS", "/v1/predict", headers={"Origin": "https://elsewhere.example",
                                                                    "Access-Control-Request-Method": "POST"})
    assert status == 405 and not any(h.startswith("access-control-") for h in hdrs)  # CORS is off by default


def test_concurrent_requests_are_merged_into_batches(servers, clf):
    server, n = servers["main"], 16
    before = (server.metric('stancelib_batch_requests_count{kind="predict"}'),
              server.metric('stancelib_batch_requests_sum{kind="predict"}'))
    texts = [TEXTS[k % 9] + f" ({k})" for k in range(n)]
    results = [None] * n

    def one(k):
        results[k] = call(server.port, "POST", "/v1/predict", {"texts": [texts[k]]})

    threads = [threading.Thread(target=one, args=(k,)) for k in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    batches = server.metric('stancelib_batch_requests_count{kind="predict"}') - before[0]
    merged = server.metric('stancelib_batch_requests_sum{kind="predict"}') - before[1]
    assert merged == n and batches < n / 2, (batches, merged)
    expected = clf.predict_proba(texts, show_progress=False)
    for (status, _, body), row in zip(results, expected):  # each answer is its own text's, not a neighbour's
        assert status == 200
        got = body["predictions"][0]["probabilities"]
        np.testing.assert_allclose([got[n] for n in clf.labels], row, atol=1e-5)


def _battery():
    ok_json = {"Content-Type": "application/json"}
    big = json.dumps({"texts": ["x" * 1000] * 30}).encode()
    return [  # (name, method, path, body, headers, status, field, limit)
        ("oversized body", "POST", "/v1/predict", big, ok_json, 413, "body", "max_body_bytes"),
        ("oversized chunked body", "POST", "/v1/predict", iter([big[:15000], big[15000:]]), ok_json, 413, "body", "max_body_bytes"),
        ("too many items", "POST", "/v1/predict", {"texts": ["a"] * 17}, None, 422, "texts", "max_items"),
        ("huge document", "POST", "/v1/analyze", {"documents": ["ok", "word " * 500]}, None, 422, "documents[1]", "max_chars"),
        ("number for a text", "POST", "/v1/predict", {"texts": ["a", 3]}, None, 422, "texts[1]", None),
        ("string for the list", "POST", "/v1/predict", {"texts": "a sentence"}, None, 422, "texts", None),
        ("null documents", "POST", "/v1/analyze", {"documents": None}, None, 422, "documents", None),
        ("missing field", "POST", "/v1/predict", {"text": ["a"]}, None, 422, None, None),
        ("array body", "POST", "/v1/predict", ["a"], None, 422, "body", None),
        ("bad JSON", "POST", "/v1/predict", b'{"texts": [', ok_json, 422, "body", None),
        ("JSON nested too deep", "POST", "/v1/predict", b"[" * 9000 + b"]" * 9000, ok_json, 422, "body", None),
        ("empty body", "POST", "/v1/predict", b"", ok_json, 422, "body", None),
        ("empty list", "POST", "/v1/predict", {"texts": []}, None, 422, "texts", None),
        ("non-UTF-8 body", "POST", "/v1/predict", b'{"texts": ["caf\xe9"]}', ok_json, 422, "body", None),
        ("lone surrogate", "POST", "/v1/predict", b'{"texts": ["ok", "a\\ud800b"]}', ok_json, 422, "texts[1]", None),
        ("control character", "POST", "/v1/analyze", {"documents": ["a\x00b"]}, None, 422, "documents[0]", None),
        ("form body", "POST", "/v1/predict", b"texts=a", {"Content-Type": "application/x-www-form-urlencoded"}, 415, "content-type", None),
        ("unknown route", "GET", "/v1/nothing", None, None, 404, None, None),
        ("path from a client", "POST", "/v1/predict/../../etc/passwd", {"texts": ["a"]}, None, 404, None, None),
        ("wrong method", "GET", "/v1/predict", None, None, 405, None, None),
        ("wrong method on a probe", "DELETE", "/healthz", None, None, 405, None, None),
        ("newline in the path", "GET", "/x%0AGET%20/forged%20200", None, None, 404, None, None),
    ]


@pytest.mark.parametrize("case", _battery(), ids=lambda c: c[0])
def test_bad_request_gets_a_json_4xx(servers, case):
    name, method, path, body, headers, status, field, limit = case
    got, hdrs, data = call(servers["main"].port, method, path, body, headers)
    assert got == status, data
    assert hdrs["content-type"].startswith("application/json") and data["error"]["code"] and data["error"]["message"]
    if field is not None:
        assert data["error"].get("field") == field, data
    if limit is not None:
        assert data["error"]["limit"] == limit and f"--{limit.replace('_', '-')}" in data["error"]["message"]


def test_server_keeps_serving_after_the_battery(servers):
    server = servers["main"]
    for case in _battery():
        call(server.port, *case[1:5])
    assert call(server.port, "POST", "/v1/predict", {"texts": ["Rain fell on Monday."]})[0] == 200
    assert server.proc.poll() is None
    assert server.metric('stancelib_errors_total{route="/v1/predict",status="500"}') == 0
    assert "Traceback" not in server.output()
    assert "/x\\nGET /forged 200" in server.output() and "\nGET /forged" not in server.output()  # no forged log line


def test_auth_and_onnx_backend(servers, tmp_path):
    port = servers["onnx"].port
    onnx = StanceClassifier.from_pretrained(servers["onnx_dir"])
    for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": TOKEN}, {"Authorization": f"Basic {TOKEN}"}):
        status, hdrs, body = call(port, "POST", "/v1/predict", {"texts": ["a"]}, headers)
        assert status == 401 and body["error"]["code"] == "unauthorized" and hdrs["www-authenticate"] == "Bearer"
    assert call(port, "GET", "/metrics")[0] == 401
    assert call(port, "GET", "/healthz")[0] == 200 and call(port, "GET", "/readyz")[0] == 200  # probes stay open
    status, _, body = call(port, "POST", "/v1/predict", {"texts": TEXTS[:5]}, {"Authorization": f"Bearer {TOKEN}"})
    assert status == 200
    expected = onnx.predict_proba(TEXTS[:5], show_progress=False)
    np.testing.assert_allclose([[p["probabilities"][n] for n in onnx.labels] for p in body["predictions"]], expected, atol=1e-5)
    info = call(port, "GET", "/v1/model", headers={"Authorization": f"Bearer {TOKEN}"})[2]
    assert info["backend"] == "onnx" and "source_model" not in info["card"]["onnx"]


def test_a_body_slower_than_the_deadline_gets_408_and_the_server_goes_on(servers):
    port = servers["main"].port
    with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
        sock.sendall(b"POST /v1/predict HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                     b"Content-Length: 100\r\n\r\n{\"texts\": [")  # and then nothing more
        t = time.monotonic()
        reply = b""
        while b"request_timeout" not in reply and b'"}}' not in reply:  # head and body may come apart
            chunk = sock.recv(4096)
            if not chunk:
                break
            reply += chunk
    head, _, body = reply.decode().partition("\r\n\r\n")
    assert head.startswith("HTTP/1.1 408") and json.loads(body)["error"]["limit"] == "request_timeout"
    assert 3 < time.monotonic() - t < 15
    assert call(port, "GET", "/healthz")[0] == 200


def test_batcher_drops_a_job_whose_deadline_passed_and_merges_the_rest():
    import asyncio
    from concurrent.futures import ThreadPoolExecutor

    from stancelib.serve.batcher import MicroBatcher

    calls = []

    def run(items):
        calls.append(list(items))
        time.sleep(0.3)  # the model is busy: what arrives meanwhile queues up
        return [x.upper() for x in items]

    async def scenario():
        b = MicroBatcher(run, ThreadPoolExecutor(1), cost=len, max_batch_tokens=100, max_wait_ms=0, max_queue=10)
        b.start()
        first = asyncio.ensure_future(b.submit(["a"], 5))
        await asyncio.sleep(0.05)  # "a" is running now
        late = asyncio.ensure_future(b.submit(["late"], 0.1))  # its deadline passes while it waits
        rest = [asyncio.ensure_future(b.submit([x], 5)) for x in "bcd"]
        out = await asyncio.gather(first, *rest)
        with pytest.raises(TimeoutError):
            await late
        await b.stop()
        return out

    assert asyncio.run(scenario()) == [["A"], ["B"], ["C"], ["D"]]
    assert calls == [["a"], ["b", "c", "d"]]  # "late" never ran; b, c, d went in one call


def test_full_queue_then_sigterm_answers_every_accepted_request(servers):
    server, n, clf = servers["onnx"], 12, StanceClassifier.from_pretrained(servers["onnx_dir"])
    texts = [f"{TEXTS[k % 9]} #{k}" for k in range(n)]
    results = [None] * n

    def one(k):
        try:
            results[k] = call(server.port, "POST", "/v1/predict", {"texts": [texts[k]]}, server.auth)
        except OSError as e:
            results[k] = e

    threads = [threading.Thread(target=one, args=(k,)) for k in range(n)]
    for t in threads:
        t.start()
    t0 = time.monotonic()
    while server.metric('stancelib_queue_items{kind="predict"}') < n:  # all accepted and waiting for company
        assert time.monotonic() - t0 < 10
        time.sleep(0.02)
    # 12 queued + 8 more is over --max-queue 16: refused at once, with Retry-After
    status, hdrs, body = call(server.port, "POST", "/v1/predict", {"texts": ["x"] * 8}, server.auth)
    assert status == 503 and body["error"]["limit"] == "max_queue" and hdrs["retry-after"] == "1"
    server.proc.send_signal(signal.SIGTERM)
    for t in threads:
        t.join(30)
    expected = clf.predict_proba(texts, show_progress=False)
    for k, r in enumerate(results):
        assert not isinstance(r, Exception), f"request {k}: {r!r}"
        assert r[0] == 200, r
        got = r[2]["predictions"][0]["probabilities"]
        np.testing.assert_allclose([got[n] for n in clf.labels], expected[k], atol=1e-5)
    assert server.proc.wait(30) == 0
    with pytest.raises(OSError):  # and no longer accepting
        call(server.port, "GET", "/healthz", timeout=2)


def test_a_model_folder_that_fails_to_load_stops_at_start(tmp_path, model_dir):
    broken = str(tmp_path / "broken")
    shutil.copytree(model_dir, broken)
    with open(os.path.join(broken, "model.safetensors"), "wb") as f:
        f.write(b"not weights")
    procs = [subprocess.Popen([sys.executable, "-m", "stancelib", "serve", "--model", path, "--port", str(free_port())],
                              cwd=REPO, stderr=subprocess.PIPE, text=True) for path in (str(tmp_path / "missing"), broken)]
    for p in procs:
        _, err = p.communicate(timeout=90)
        assert p.returncode == 1 and "cannot load the model" in err, err


CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
HIGHLIGHT = {"neutral_report": (0xEE, 0xF0, 0xF2), "attributed_statement": (0xD6, 0xE9, 0xFF),
             "unattributed_claim": (0xFF, 0xE1, 0xC2)}  # the backgrounds of stancelib/report.py


@pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed")
def test_page_renders_the_report_in_headless_chromium(servers, tmp_path):
    from PIL import Image

    port = servers["main"].port
    status, hdrs, page = call(port, "GET", "/")
    assert status == 200 and b"v1/report" in page
    labels = {s["label"] for s in call(port, "POST", "/v1/analyze", {"documents": [ARTICLE]})[2]["analyses"][0]["sentences"]}
    url = f"http://127.0.0.1:{port}/#doc=" + urllib.parse.quote(ARTICLE)
    for attempt in range(3):  # on a loaded machine the page's fetch can outlast the time budget: try again
        shot = str(tmp_path / f"page{attempt}.png")
        subprocess.run([CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                        "--disable-component-update", "--disable-sync", "--no-first-run",
                        f"--user-data-dir={tmp_path / f'profile{attempt}'}", "--window-size=1000,1100",
                        f"--virtual-time-budget={10000 * (attempt + 1)}", f"--screenshot={shot}", url],
                       capture_output=True, timeout=120)
        image = Image.open(shot).convert("RGB")
        colours = set(image.getdata())
        if all(HIGHLIGHT[label] in colours for label in labels):
            break
    if os.environ.get("STANCELIB_SCREENSHOT"):  # keep a copy to look at
        shutil.copy(shot, os.environ["STANCELIB_SCREENSHOT"])
    assert image.size == (1000, 1100)
    for label in labels:  # each label the model gave is highlighted in the report inside the page
        assert HIGHLIGHT[label] in colours, label
