"""The ASGI application: MLflow's scoring protocol and the Open Inference Protocol (V2).

Endpoints (one server, both protocols):

- MLflow: ``GET /ping``, ``GET /health``, ``GET /version``, ``POST /invocations``
  (``application/json`` or ``text/csv``), errors as ``{"error_code", "message"}``;
- V2: ``GET /v2``, ``/v2/health/live``, ``/v2/health/ready``, ``/v2/models/{name}``,
  ``/v2/models/{name}/ready``, ``POST /v2/models/{name}/infer`` (also under
  ``/versions/{version}``), errors as ``{"error": message}``;
- ``GET /metrics`` (Prometheus).

Every prediction response names the version that answered in ``X-Model-Version``.

Example:
    >>> app = create_app("models:/churn@champion", registry="/srv/registry")  # doctest: +SKIP
    >>> import uvicorn
    ...
    ... uvicorn.run(app, port=8080)  # doctest: +SKIP
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from registry_gen import __version__

from ._errors import (
    BadRequest,
    NotReady,
    PayloadTooLarge,
    PredictionTimeout,
    ServingError,
    UnknownModel,
    UnsupportedMediaType,
)
from ._inputs import Table, conform, jsonable, parse_csv, parse_mlflow_json
from ._metrics import CONTENT_TYPE, Metrics
from ._model import ModelSlot, ServeConfig, Served, load_served
from ._v2 import output_tensor, parse_infer, tensor_metadata
from ._watch import Watcher

log = logging.getLogger(__name__)
access_log = logging.getLogger("registry_gen.serving.access")

CONFIG_ENV = "REGISTRY_GEN_SERVE_CONFIG"  # how `serve` hands its config to each worker
VERSION_HEADER = "X-Model-Version"
Handler = Callable[[Request], Awaitable[Response]]


class Server:
    """The state behind the routes: config, the served model, metrics, the watcher."""

    def __init__(self, config: ServeConfig, served: Served | None = None) -> None:
        self.config = config
        self.slot = ModelSlot(served)
        self.metrics = Metrics()
        self.watcher = Watcher(config, self.slot, self.metrics) if config.follows else None
        self.executor: ThreadPoolExecutor | None = None
        self._task: asyncio.Task[None] | None = None

    @contextlib.asynccontextmanager
    async def lifespan(self, _app: Starlette) -> AsyncIterator[None]:
        """Load the model (unless preloaded), start the promotion watcher; stop both at exit."""
        self.executor = ThreadPoolExecutor(
            self.config.prediction_threads, thread_name_prefix="registry-gen-predict"
        )
        if self.slot.current is None:
            self.slot.swap(await asyncio.to_thread(load_served, self.config, self.config.uri))
        served = self.current()
        self.metrics.model = (served.model.name, served.version, served.model.md5)
        log.info(
            "serving %s as %s (md5 %s…)", self.config.uri, served.model.uri, served.model.md5[:8]
        )
        if self.watcher is not None:
            self._task = asyncio.create_task(self.watcher.run())
        try:
            yield
        finally:
            if self._task is not None:
                self._task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await self._task
            self.executor.shutdown(wait=False, cancel_futures=True)

    def current(self) -> Served:
        """The model answering now.

        Raises:
            NotReady: the first load has not finished.
        """
        served = self.slot.current
        if served is None:
            raise NotReady("the model is still loading")
        return served

    async def read_body(self, request: Request) -> bytes:
        """The body, refused with 413 as soon as it passes ``max_body``."""
        limit = self.config.max_body
        declared = request.headers.get("content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            raise PayloadTooLarge(
                f"the request body ({declared} bytes) is over the limit of {limit} bytes"
            )
        chunks, size = [], 0
        async for chunk in request.stream():
            size += len(chunk)
            if size > limit:
                raise PayloadTooLarge(f"the request body is over the limit of {limit} bytes")
            chunks.append(chunk)
        return b"".join(chunks)

    async def predict(self, served: Served, table: Table) -> Any:
        """Check ``table`` against the signature and predict, within ``timeout``."""
        data = conform(table, served.signature)
        assert self.executor is not None, "predict() runs inside the app's lifespan"
        loop = asyncio.get_running_loop()
        future = loop.run_in_executor(self.executor, _predict, served, data)
        try:
            result = await asyncio.wait_for(future, self.config.timeout)
        except TimeoutError:
            raise PredictionTimeout(
                f"the prediction took longer than {self.config.timeout:g}"
                " s (the request time limit)"
            ) from None
        if len(data):
            self.slot.sample = data[:1].copy()  # not a view: the request's array can go
        return result


def _predict(served: Served, data: Any) -> Any:
    try:
        return served.model.predict(data)
    except Exception as error:  # the model's own error is the client's input problem
        raise BadRequest(
            "Encountered an unexpected error while evaluating the model. Verify that the "
            f"input is compatible with the model for inference. {type(error).__name__}: "
            f"{error}"
        ) from None


# ---------------------------------------------------------------------------
# MLflow's scoring protocol


def _mlflow_error(error: ServingError) -> Response:
    return JSONResponse({"error_code": error.code, "message": str(error)}, status_code=error.status)


def _v2_error(error: ServingError) -> Response:
    return JSONResponse({"error": str(error)}, status_code=error.status)


def _guarded(
    server: Server, shape: Callable[[ServingError], Response], handler: Handler
) -> Handler:
    async def endpoint(request: Request) -> Response:
        try:
            return await handler(request)
        except ServingError as error:
            server.metrics.error(_endpoint(request.url.path), error.code)
            return shape(error)

    return endpoint


def _version_headers(served: Served) -> dict[str, str]:
    return {VERSION_HEADER: str(served.version), "X-Model-Uri": str(served.model.uri)}


def _media_type(header: str | None) -> str:
    """The media type of an ``/invocations`` body (MLflow's rules: UTF-8, no other params)."""
    if not header:
        raise UnsupportedMediaType(
            "a Content-Type header is required: application/json or text/csv"
        )
    mime, *parameters = (part.strip() for part in header.split(";"))
    options = dict(p.partition("=")[::2] for p in parameters if p)
    if options.get("charset", "utf-8").lower() != "utf-8":
        raise UnsupportedMediaType("The scoring server only supports UTF-8")
    unknown = sorted(set(options) - {"charset"})
    if unknown:
        raise UnsupportedMediaType(f"Unrecognized content type parameters: {', '.join(unknown)}")
    if mime.lower() not in ("application/json", "text/csv"):
        raise UnsupportedMediaType(
            "This predictor only supports the following content "
            f"types: application/json, text/csv. Got {mime!r}."
        )
    return mime.lower()


def _mlflow_routes(server: Server) -> list[Route]:
    async def ping(_request: Request) -> Response:
        server.current()
        return Response("\n", media_type="application/json")

    async def version(_request: Request) -> Response:
        served = server.current()
        body = {**served.describe(), "requested": server.config.uri, "registry_gen": __version__}
        return JSONResponse(body, headers=_version_headers(served))

    async def invocations(request: Request) -> Response:
        mime = _media_type(request.headers.get("content-type"))
        body = await server.read_body(request)
        served = server.current()  # this request's version, whatever a swap does meanwhile
        table = parse_csv(body) if mime == "text/csv" else parse_mlflow_json(body)[0]
        predictions = await server.predict(served, table)
        return _json({"predictions": jsonable(predictions)}, _version_headers(served))

    guard = _mlflow_error
    return [
        Route("/ping", _guarded(server, guard, ping), methods=["GET"]),
        Route("/health", _guarded(server, guard, ping), methods=["GET"]),
        Route("/version", _guarded(server, guard, version), methods=["GET"]),
        Route("/invocations", _guarded(server, guard, invocations), methods=["POST"]),
    ]


def _json(body: Any, headers: dict[str, str]) -> Response:
    text = json.dumps(body, separators=(",", ":"), allow_nan=True)
    return Response(text, media_type="application/json", headers=headers)


# ---------------------------------------------------------------------------
# The Open Inference Protocol (V2)


def _v2_routes(server: Server) -> list[Route]:
    def model_for(request: Request) -> Served:
        served = server.current()
        name = request.path_params["name"]
        version = request.path_params.get("version")
        if name != served.model.name or (version is not None and version != str(served.version)):
            asked = f"{name} version {version}" if version is not None else name
            raise UnknownModel(
                f"model {asked} is not served here; this server serves "
                f"{served.model.name} version {served.version}"
            )
        return served

    async def server_metadata(_request: Request) -> Response:
        return JSONResponse({"name": "registry-gen", "version": __version__, "extensions": []})

    async def live(_request: Request) -> Response:
        return JSONResponse({"live": True})

    async def ready(_request: Request) -> Response:
        server.current()
        return JSONResponse({"ready": True})

    async def metadata(request: Request) -> Response:
        served = model_for(request)
        return JSONResponse(
            {
                "name": served.model.name,
                "versions": [str(served.version)],
                "platform": served.model.format,
                "inputs": tensor_metadata(served.signature, "inputs"),
                "outputs": tensor_metadata(served.signature, "outputs"),
            },
            headers=_version_headers(served),
        )

    async def model_ready(request: Request) -> Response:
        served = model_for(request)
        return JSONResponse({"name": served.model.name, "ready": True})

    async def infer(request: Request) -> Response:
        body = await server.read_body(request)
        served = model_for(request)
        request_id, table = parse_infer(body)
        predictions = await server.predict(served, table)
        response: dict[str, Any] = {
            "model_name": served.model.name,
            "model_version": str(served.version),
            "outputs": [output_tensor("predict", predictions)],
        }
        if request_id is not None:
            response["id"] = request_id
        return _json(response, _version_headers(served))

    guard = _v2_error
    routes = [
        Route("/v2", _guarded(server, guard, server_metadata), methods=["GET"]),
        Route("/v2/health/live", _guarded(server, guard, live), methods=["GET"]),
        Route("/v2/health/ready", _guarded(server, guard, ready), methods=["GET"]),
    ]
    for base in ("/v2/models/{name}", "/v2/models/{name}/versions/{version}"):
        routes += [
            Route(base, _guarded(server, guard, metadata), methods=["GET"]),
            Route(f"{base}/ready", _guarded(server, guard, model_ready), methods=["GET"]),
            Route(f"{base}/infer", _guarded(server, guard, infer), methods=["POST"]),
        ]
    return routes


# ---------------------------------------------------------------------------
# Metrics and access logs, around every request


def _endpoint(path: str) -> str:
    """A bounded label for a path (model names and versions folded into placeholders)."""
    if path.startswith("/v2/models/"):
        tail = path.rsplit("/", 1)[-1]
        return f"/v2/models/{{name}}/{tail}" if tail in ("ready", "infer") else "/v2/models/{name}"
    known = {
        "/ping",
        "/health",
        "/version",
        "/invocations",
        "/metrics",
        "/v2",
        "/v2/health/live",
        "/v2/health/ready",
    }
    return path if path in known else "other"


class Observe:
    """ASGI middleware: the latency histogram, request counts and one JSON log line each."""

    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Time and count the request, then log one JSON line for it."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        seen: dict[str, Any] = {"status": 500, "version": None}

        async def watch(message: Message) -> None:
            if message["type"] == "http.response.start":
                seen["status"] = message["status"]
                for key, value in message.get("headers", []):
                    if key == b"x-model-version":
                        seen["version"] = value.decode()
            await send(message)

        try:
            await self.app(scope, receive, watch)
        finally:
            elapsed = time.perf_counter() - start
            path = scope["path"]
            self.metrics.observe(_endpoint(path), scope["method"], seen["status"], elapsed)
            if access_log.isEnabledFor(logging.INFO):
                client = scope.get("client")
                access_log.info(
                    json.dumps(
                        {
                            "method": scope["method"],
                            "path": path,
                            "status": seen["status"],
                            "ms": round(elapsed * 1000, 3),
                            "model_version": seen["version"],
                            "client": client[0] if client else None,
                        }
                    )
                )


def create_app(
    config: ServeConfig | str, *, served: Served | None = None, **options: Any
) -> Starlette:
    """The ASGI app serving ``config.uri`` (a URI plus :class:`ServeConfig` options).

    The model loads when the app starts (its lifespan), unless ``served`` is
    given; a stage or alias URI is then watched every ``interval`` seconds.

    >>> app = create_app("models:/churn@champion", registry=".", interval=10)  # doctest: +SKIP

    Raises:
        TypeError: an option :class:`ServeConfig` does not have.
    """
    if isinstance(config, str):
        config = ServeConfig(config, **options)
    server = Server(config, served)

    async def metrics(_request: Request) -> Response:
        return Response(server.metrics.render(), media_type=CONTENT_TYPE)

    routes = [
        *_mlflow_routes(server),
        *_v2_routes(server),
        Route("/metrics", metrics, methods=["GET"]),
    ]
    app = Starlette(routes=routes, lifespan=server.lifespan)
    app.state.server = server
    app.add_middleware(Observe, metrics=server.metrics)
    return app


def app_from_env() -> Starlette:
    """The app factory each uvicorn worker calls (``serve(..., workers=N)``)."""
    text = os.environ.get(CONFIG_ENV)
    if not text:
        raise RuntimeError(
            f"{CONFIG_ENV} is not set: start workers with registry_gen.serving.serve()"
        )
    return create_app(ServeConfig.from_json(text))
