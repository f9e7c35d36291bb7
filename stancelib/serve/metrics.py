"""Prometheus text-format metrics, written by hand (no extra dependency).

Counters and histograms live in one process; with ``--workers N`` each worker has its own,
and a scrape sees the worker that answered it.
"""

from __future__ import annotations

import bisect
import threading
from collections import defaultdict

LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
BATCH_BUCKETS = (1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024)
# Routes are labelled by name; any other path counts as "other" so that scanners cannot
# grow the label set without bound.
ROUTES = ("/", "/v1/predict", "/v1/analyze", "/v1/report", "/v1/model", "/healthz", "/readyz", "/metrics",
          "/docs", "/openapi.json")


def _labels(**kv) -> str:
    return "{" + ",".join(f'{k}="{v}"' for k, v in kv.items()) + "}" if kv else ""


class Histogram:
    def __init__(self, buckets):
        self.buckets = tuple(buckets)
        self.counts = [0] * (len(self.buckets) + 1)  # the last slot is +Inf
        self.sum = 0.0
        self.count = 0

    def observe(self, value: float) -> None:
        self.counts[bisect.bisect_left(self.buckets, value)] += 1
        self.sum += value
        self.count += 1

    def lines(self, name: str, **kv) -> list[str]:
        out, cumulative = [], 0
        for bound, n in zip(self.buckets + ("+Inf",), self.counts):
            cumulative += n
            out.append(f"{name}_bucket{_labels(**kv, le=bound)} {cumulative}")
        out += [f"{name}_sum{_labels(**kv)} {self.sum:.6f}", f"{name}_count{_labels(**kv)} {self.count}"]
        return out


class Metrics:
    def __init__(self):
        self._lock = threading.Lock()  # the batcher's executor thread never writes; this is cheap insurance
        self.requests = defaultdict(int)  # (method, route, status) -> n
        self.latency = defaultdict(lambda: Histogram(LATENCY_BUCKETS))  # route -> seconds
        self.batch_items = defaultdict(lambda: Histogram(BATCH_BUCKETS))  # kind -> items per model call
        self.batch_requests = defaultdict(lambda: Histogram(BATCH_BUCKETS))  # kind -> requests per model call
        self.rejected = defaultdict(int)  # reason -> n (queue_full, deadline)
        self.inflight = 0
        self.queue_depth = {}  # kind -> callable giving the items waiting

    def observe_request(self, method: str, path: str, status: int, seconds: float) -> None:
        route = path if path in ROUTES else "other"
        with self._lock:
            self.requests[(method, route, status)] += 1
            self.latency[route].observe(seconds)

    def observe_batch(self, kind: str, items: int, requests: int) -> None:
        with self._lock:
            self.batch_items[kind].observe(items)
            self.batch_requests[kind].observe(requests)

    def render(self) -> str:
        with self._lock:
            lines = ["# HELP stancelib_requests_total HTTP requests answered, by method, route and status.",
                     "# TYPE stancelib_requests_total counter"]
            lines += [f"stancelib_requests_total{_labels(method=m, route=r, status=s)} {n}"
                      for (m, r, s), n in sorted(self.requests.items())]
            lines += ["# HELP stancelib_errors_total HTTP requests answered with a status of 400 or more.",
                      "# TYPE stancelib_errors_total counter"]
            errors = defaultdict(int)
            for (_, r, s), n in self.requests.items():
                if s >= 400:
                    errors[(r, s)] += n
            lines += [f"stancelib_errors_total{_labels(route=r, status=s)} {n}" for (r, s), n in sorted(errors.items())]
            lines += ["# HELP stancelib_request_seconds Time from request start to response end.",
                      "# TYPE stancelib_request_seconds histogram"]
            for route, h in sorted(self.latency.items()):
                lines += h.lines("stancelib_request_seconds", route=route)
            lines += ["# HELP stancelib_batch_items Items (texts or documents) per model call.",
                      "# TYPE stancelib_batch_items histogram"]
            for kind, h in sorted(self.batch_items.items()):
                lines += h.lines("stancelib_batch_items", kind=kind)
            lines += ["# HELP stancelib_batch_requests Requests merged into one model call.",
                      "# TYPE stancelib_batch_requests histogram"]
            for kind, h in sorted(self.batch_requests.items()):
                lines += h.lines("stancelib_batch_requests", kind=kind)
            lines += ["# HELP stancelib_rejected_total Requests turned away: full queue or deadline passed.",
                      "# TYPE stancelib_rejected_total counter"]
            lines += [f"stancelib_rejected_total{_labels(reason=k)} {n}" for k, n in sorted(self.rejected.items())]
            lines += ["# HELP stancelib_queue_items Items waiting for the model.", "# TYPE stancelib_queue_items gauge"]
            lines += [f"stancelib_queue_items{_labels(kind=k)} {f()}" for k, f in sorted(self.queue_depth.items())]
            lines += ["# HELP stancelib_inflight_requests Requests being handled now.",
                      "# TYPE stancelib_inflight_requests gauge", f"stancelib_inflight_requests {self.inflight}"]
        return "\n".join(lines) + "\n"
