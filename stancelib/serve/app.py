"""The HTTP routes of ``stancelib serve`` (FastAPI), around one ``StanceClassifier``.

The model is fixed when the process starts: no request names a path or a model.
"""

from __future__ import annotations

import asyncio
import hashlib
import math
import os
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, PlainTextResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from .batcher import MicroBatcher, QueueFull
from .guard import Guard, log
from .limits import RequestError, Settings, check_items, field_name
from .metrics import Metrics
from .page import render_page
from .schemas import (AnalyzeRequest, AnalyzeResponse, ErrorResponse, ModelInfo, PredictRequest, PredictResponse,
                      ReportRequest)

_ERRORS = {413: {"model": ErrorResponse}, 422: {"model": ErrorResponse}, 503: {"model": ErrorResponse}}


def load_classifier(settings: Settings):
    """The model of ``settings.model`` (torch or ONNX, as the folder holds); ``ModelLoadError`` if it cannot load."""
    from ..modeling import StanceClassifier

    if settings.threads:
        import torch

        torch.set_num_threads(settings.threads)
    return StanceClassifier.from_pretrained(settings.model, num_threads=settings.threads)


def model_info(clf, path: str) -> dict:
    meta = clf.metadata
    weights = next((os.path.join(path, f) for f in ("model.onnx", "model.safetensors")
                    if os.path.isfile(os.path.join(path, f))), None)
    digest = hashlib.sha256()
    if weights:
        with open(weights, "rb") as f:
            for block in iter(lambda: f.read(1 << 20), b""):
                digest.update(block)
    # the model version: run name plus a fingerprint of the weights, so two builds never look alike
    version = f"{meta.get('run_name', os.path.basename(os.path.normpath(path)))}+{digest.hexdigest()[:12]}"
    card = {k: meta[k] for k in ("run_name", "created", "stancelib_version", "n_train", "calibration", "metrics",
                                 "evaluations", "document_model") if k in meta}
    if "onnx" in meta:  # not source_model: a path on the server's disk is nobody's business
        card["onnx"] = {k: v for k, v in meta["onnx"].items() if k != "source_model"}
    if "training_args" in meta:
        card["training_args"] = {k: meta["training_args"][k] for k in ("backbone", "context", "context_window")
                                 if k in meta["training_args"]}
    return {"labels": list(clf.labels), "model_version": version, "backend": "torch" if clf.model is not None else "onnx",
            "max_length": clf.max_length, "span_head": _has_span_head(clf), "card": card}


def _has_span_head(clf) -> bool:
    return bool(clf.has_spans)


def _error_response(err: RequestError) -> JSONResponse:
    return JSONResponse(err.body(), status_code=err.status, headers=err.headers)


def create_app(clf, settings: Settings) -> FastAPI:
    metrics = Metrics()
    token = os.environ.get(settings.token_env) or None
    info = model_info(clf, settings.model)
    executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="stancelib-model")

    def predict(texts):
        return list(clf.predict_proba(texts, show_progress=False))

    def tokens(text: str) -> int:  # about 4 characters a token; predict truncates at max_length
        return min(len(text) // 4 + 2, clf.max_length)

    batch_args = dict(max_batch_tokens=settings.max_batch_tokens, max_wait_ms=settings.max_wait_ms,
                      max_queue=settings.max_queue)
    batchers = {
        "predict": MicroBatcher(predict, executor, cost=tokens, **batch_args,
                                on_batch=lambda i, r: metrics.observe_batch("predict", i, r)),
        "analyze": MicroBatcher(clf.analyze, executor, cost=lambda doc: len(doc) // 4 + 2, **batch_args,
                                on_batch=lambda i, r: metrics.observe_batch("analyze", i, r)),
    }
    for kind, b in batchers.items():
        metrics.queue_depth[kind] = lambda b=b: b.queued_items

    @asynccontextmanager
    async def lifespan(app):
        for b in batchers.values():
            b.start()
        await asyncio.get_running_loop().run_in_executor(executor, predict, ["Warm-up."])  # first call is slow
        app.state.ready = True
        log.info("ready: %s (%s), auth %s", info["model_version"], info["backend"],
                 f"on (${settings.token_env})" if token else "off")
        yield
        # uvicorn gets here after the last in-flight request was answered (SIGTERM: graceful)
        app.state.ready = False
        for b in batchers.values():
            await b.stop()
        executor.shutdown(wait=True)

    app = FastAPI(title="stancelib", version=info["model_version"], lifespan=lifespan,
                  description="Labels each sentence of a news text as neutral_report, attributed_statement or "
                              "unattributed_claim (calibrated probabilities). See docs/serve.md.")
    app.state.ready = False

    async def run(request: Request, kind: str, items: list):
        request.state.items = len(items)
        remaining = request.state.deadline - time.monotonic()
        try:
            return await batchers[kind].submit(items, remaining)
        except QueueFull as e:
            metrics.rejected["queue_full"] += 1
            raise RequestError(503, "queue_full", str(e), limit="max_queue", headers={"Retry-After": "1"})
        except TimeoutError:
            metrics.rejected["deadline"] += 1
            raise RequestError(503, "deadline_exceeded", f"no answer within {settings.request_timeout:g} s "
                               "(--request-timeout)", limit="request_timeout", headers={"Retry-After": "1"})

    @app.post("/v1/predict", response_model=PredictResponse, responses=_ERRORS)
    async def predict_route(body: PredictRequest, request: Request):
        """Label sentences, each read on its own: calibrated probabilities in `labels` order.
        A blank text gets `label` and `probabilities` null."""
        check_items(body.texts, "texts", settings)
        rows = await run(request, "predict", body.texts)
        out = []
        for row in rows:
            if any(math.isnan(p) for p in row):
                out.append({"label": None, "probabilities": None})
            else:
                out.append({"label": clf.labels[int(row.argmax())],
                            "probabilities": {n: float(p) for n, p in zip(clf.labels, row)}})
        return JSONResponse({"predictions": out})  # built by hand: re-validating our own output costs time

    @app.post("/v1/analyze", response_model=AnalyzeResponse, responses=_ERRORS)
    async def analyze_route(body: AnalyzeRequest, request: Request):
        """Split each document into sentences and label each, with source and cue of attributed
        statements (character offsets into the document) and the document's sourcing profile."""
        check_items(body.documents, "documents", settings)
        analyses = await run(request, "analyze", body.documents)
        return JSONResponse({"analyses": [a.to_dict() for a in analyses]})

    @app.post("/v1/report", response_class=HTMLResponse, responses=_ERRORS)
    async def report_route(body: ReportRequest, request: Request):
        """The HTML report of one document, as `stancelib predict --html` writes it (the page at `/` uses it)."""
        from ..report import render_html

        check_items([body.document], "document", settings)
        (analysis,) = await run(request, "analyze", [body.document])
        return HTMLResponse(render_html(body.document, analysis, model=info["model_version"]))

    @app.get("/v1/model", response_model=ModelInfo)
    async def model_route():
        """Labels (column order of every probability), model version and model-card metadata."""
        return JSONResponse(info)

    @app.get("/healthz")
    async def healthz():
        """The process is alive."""
        return {"status": "ok"}

    @app.get("/readyz")
    async def readyz():
        """The model is loaded and warm (503 before that and while shutting down)."""
        if not app.state.ready:
            return JSONResponse({"status": "not ready"}, status_code=503)
        return {"status": "ready", "model_version": info["model_version"]}

    @app.get("/metrics", response_class=PlainTextResponse)
    async def metrics_route():
        """Prometheus text format: requests, errors, latency, batch sizes, queue depth."""
        return PlainTextResponse(metrics.render(), media_type="text/plain; version=0.0.4")

    @app.get("/", response_class=HTMLResponse, include_in_schema=False)
    async def page():
        return HTMLResponse(render_page(info["model_version"], auth=token is not None))

    @app.exception_handler(RequestError)
    async def on_request_error(request, exc: RequestError):
        return _error_response(exc)

    @app.exception_handler(RequestValidationError)
    async def on_validation_error(request, exc: RequestValidationError):
        first = exc.errors()[0] if exc.errors() else {"loc": ("body",), "msg": "invalid request", "type": ""}
        if first.get("type") == "json_invalid":
            err = RequestError(422, "invalid_json", f"the body is not valid JSON ({first.get('ctx', {}).get('error', first['msg'])})",
                               field="body")
        else:
            field = field_name(first.get("loc", ("body",)))
            err = RequestError(422, "invalid_request", f"{field}: {first['msg']}", field=field)
        return _error_response(err)

    @app.exception_handler(StarletteHTTPException)
    async def on_http_error(request, exc: StarletteHTTPException):
        if exc.status_code == 400:  # FastAPI's own parse failure (e.g. JSON nested too deep to decode)
            return _error_response(RequestError(422, "invalid_json", f"the body could not be parsed as JSON "
                                                f"({exc.detail})", field="body"))
        codes = {404: "not_found", 405: "method_not_allowed"}
        return _error_response(RequestError(exc.status_code, codes.get(exc.status_code, "http_error"), str(exc.detail),
                                            headers=dict(exc.headers or {})))

    app.add_middleware(Guard, settings=settings, metrics=metrics, token=token)
    if settings.cors_origins:  # added after Guard, so outside it: its 401s and 413s carry CORS headers too
        from fastapi.middleware.cors import CORSMiddleware

        app.add_middleware(CORSMiddleware, allow_origins=list(settings.cors_origins), allow_methods=["GET", "POST"],
                           allow_headers=["Authorization", "Content-Type"])
    return app


def app_from_env() -> FastAPI:
    """The app of one ``--workers N`` worker process: settings come from the parent in an environment variable."""
    settings = Settings.from_json(os.environ["STANCELIB_SERVE_SETTINGS"])
    return create_app(load_classifier(settings), settings)
