"""``stancelib serve``: the model as an HTTP service (FastAPI + uvicorn, the ``serve`` extra).

Modules: ``app`` (routes), ``batcher`` (micro-batching across requests), ``guard`` (auth,
body limits, metrics and the log line of every request), ``limits`` (settings, item checks),
``metrics`` (Prometheus text), ``schemas`` (request/response bodies), ``page`` (the page at /).
docs/serve.md documents the endpoints, limits and flags.
"""

from __future__ import annotations

import logging
import os
import sys

from .limits import Settings

_D = Settings(model="")


def register_cli(subparsers) -> None:
    """Add ``stancelib serve --model DIR [--host] [--port] [--workers] [limits ...]``."""
    p = subparsers.add_parser("serve", help="serve a model over HTTP (needs the serve extra: stancelib[serve])")
    p.add_argument("--model", required=True, help="model folder, PyTorch or ONNX (fixed for the process's life)")
    p.add_argument("--host", default=_D.host, help="address to bind (default 127.0.0.1: this machine only)")
    p.add_argument("--port", type=int, default=_D.port, help=f"default {_D.port}")
    p.add_argument("--workers", type=int, default=_D.workers, help="processes, each with its own copy of the model")
    p.add_argument("--threads", type=int, help="inference threads per worker (default: the backend's own)")
    p.add_argument("--max-body-bytes", type=int, default=_D.max_body_bytes, help=f"default {_D.max_body_bytes} (413 over it)")
    p.add_argument("--max-items", type=int, default=_D.max_items, help=f"texts or documents per request (default {_D.max_items})")
    p.add_argument("--max-chars", type=int, default=_D.max_chars, help=f"characters per text or document (default {_D.max_chars})")
    p.add_argument("--request-timeout", type=float, default=_D.request_timeout,
                   help=f"seconds per request, body reading included (default {_D.request_timeout:g})")
    p.add_argument("--max-queue", type=int, default=_D.max_queue,
                   help=f"items waiting for the model before requests get 503 (default {_D.max_queue})")
    p.add_argument("--max-batch-tokens", type=int, default=_D.max_batch_tokens,
                   help=f"estimated tokens per merged model call (default {_D.max_batch_tokens})")
    p.add_argument("--max-wait-ms", type=float, default=_D.max_wait_ms,
                   help=f"how long a request waits for others to batch with (default {_D.max_wait_ms:g})")
    p.add_argument("--token-env", default=_D.token_env,
                   help=f"environment variable holding the bearer token; auth is on when it is set (default {_D.token_env})")
    p.add_argument("--cors-origin", action="append", default=[], help="allow this browser origin (repeatable; default: CORS off)")
    p.set_defaults(func=_cmd_serve)


def _cmd_serve(ns) -> int:
    settings = Settings(model=ns.model, host=ns.host, port=ns.port, workers=ns.workers, threads=ns.threads,
                        max_body_bytes=ns.max_body_bytes, max_items=ns.max_items, max_chars=ns.max_chars,
                        request_timeout=ns.request_timeout, max_queue=ns.max_queue,
                        max_batch_tokens=ns.max_batch_tokens, max_wait_ms=ns.max_wait_ms, token_env=ns.token_env,
                        cors_origins=tuple(ns.cors_origin))
    return serve(settings)


def serve(settings: Settings) -> int:
    """Load the model, then serve until SIGTERM/SIGINT (graceful: in-flight requests are answered)."""
    try:
        import uvicorn

        from .app import app_from_env, create_app, load_classifier  # noqa: F401 (fastapi import check)
    except ImportError as e:
        print(f"stancelib serve: error: {e.name} is missing; install the extra: pip install 'stancelib[serve]'",
              file=sys.stderr)
        return 1
    settings.check()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s", stream=sys.stderr)
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")  # the tokenizer's pool fights the model's threads
    try:
        clf = load_classifier(settings)  # with --workers N too: a bad folder stops us here, once, clearly
    except Exception as e:
        print(f"stancelib serve: error: cannot load the model {settings.model!r}: {e}", file=sys.stderr)
        return 1
    if settings.host not in ("127.0.0.1", "localhost", "::1"):
        logging.getLogger("stancelib.serve").warning("listening on %s: reachable from other machines", settings.host)
    common = dict(host=settings.host, port=settings.port, log_config=None, access_log=False, lifespan="on",
                  # SIGTERM: stop accepting, answer what is in flight (each within its deadline), exit
                  timeout_graceful_shutdown=int(settings.request_timeout) + 5)
    if settings.workers == 1:
        server = _server_class(uvicorn)(uvicorn.Config(create_app(clf, settings), **common))
        server.run()
        return 0 if server.started else 1
    del clf
    os.environ["STANCELIB_SERVE_SETTINGS"] = settings.to_json()
    uvicorn.run("stancelib.serve.app:app_from_env", factory=True, workers=settings.workers, **common)
    return 0


def _server_class(uvicorn):
    import contextlib
    import signal

    class Server(uvicorn.Server):
        @contextlib.contextmanager
        def capture_signals(self):
            # uvicorn re-raises the stop signal once it has drained; a graceful stop on SIGTERM
            # is a clean exit for us (status 0). Ctrl-C still ends as an interrupt.
            with super().capture_signals():
                yield
                self._captured_signals = [s for s in self._captured_signals if s != signal.SIGTERM]

    return Server
