"""The Starlette application of ``gate serve``: routes, authentication, errors as HTTP.

Statuses (the verdict's decision is never an HTTP status; it is in the body and in the
``X-Gate-Decision`` header): 200 a recorded verdict; 400 a malformed request or a usage
error (gate's exit code 2); 401 a missing or wrong token; 404 no such decision; 408 a body
that did not arrive in time; 413 a body over ``--max-body``; 422 no verdict (exit code 3:
unreadable input, unknown format, policy or engine error, timeout); 503 not ready, busy,
or a verdict the decision log could not record (then no verdict is returned).
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import os
import re
import signal
import sys
import threading
import time
import traceback
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager, suppress
from typing import TYPE_CHECKING

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from gate.errors import GateError, UsageError
from gate.server.requests import parse_json_request, parse_multipart_request, read_body
from gate.server.service import (
    MIB,
    Decided,
    GateService,
    NotFound,
    ServeConfig,
    Unauthorised,
    http_status,
)

if TYPE_CHECKING:
    from gate.decisionlog.store import DecisionLog
    from gate.metrics import GateMetrics

Handler = Callable[[Request], Awaitable[Response]]

QUERY_PARAMS = ("image", "stage", "decision", "since", "until", "limit")
MAX_WEBHOOK_BODY = 1 * MIB
"""Harbor's event is a small JSON object; the report itself is fetched from Harbor."""
JSON_TYPE = "application/json"


def bearer_authorised(tokens: Sequence[str], authorization: str | None) -> bool:
    """Whether ``Authorization: Bearer <token>`` names one of ``tokens``: SHA-256 digests
    compared in constant time (so that not even a token's length leaks), all of them always
    (so that timing tells nothing of which matched)."""
    scheme, _, given = (authorization or "").partition(" ")
    if scheme.lower() != "bearer" or not given.strip():
        return False
    candidate = hashlib.sha256(given.strip().encode("utf-8", "replace")).digest()
    matched = False
    for token in tokens:
        matched |= hmac.compare_digest(candidate, hashlib.sha256(token.encode()).digest())
    return matched


# The core's hints name the command line's flags; a request sets the same things as fields.
_REQUEST_FIELDS = (
    ("--type FORMAT", '"type": FORMAT'),
    ("--type", '"type"'),
    ("--image", '"image"'),
    ("--stage", '"stage"'),
    ("--at", '"at"'),
)


def request_hint(hint: str | None) -> str | None:
    """``hint`` as it applies to a request rather than to the command line."""
    if hint is None:
        return None
    for flag, field in _REQUEST_FIELDS:
        hint = re.sub(rf"{re.escape(flag)}(?![\w-])", field, hint)
    return hint


def error_response(error: GateError) -> JSONResponse:
    """``{"error", "where", "hint", "exit_code"}`` with the error's documented status."""
    status = http_status(error)
    headers: dict[str, str] = {}
    if status == 401:
        headers["WWW-Authenticate"] = "Bearer"
    retry_after = getattr(error, "retry_after", None)
    if retry_after is not None:
        headers["Retry-After"] = str(retry_after)
    body = {
        "error": error.message,
        "where": error.where,
        "hint": request_hint(error.hint),
        "exit_code": int(error.exit_code),
    }
    return JSONResponse(body, status_code=status, headers=headers)


def verdict_response(decided: Decided) -> Response:
    """Exactly the JSON ``gate check -f json`` writes, the decision also in headers."""
    return Response(
        decided.verdict_json,
        media_type=JSON_TYPE,
        headers={
            "X-Gate-Decision": decided.decision,
            "X-Gate-Decision-Id": str(decided.decision_id),
        },
    )


def create_app(
    config: ServeConfig,
    *,
    metrics: GateMetrics | None = None,
    open_log: Callable[[str], DecisionLog] | None = None,
) -> Starlette:
    """The ASGI app of one worker. ``metrics`` and ``open_log`` default to gate's own
    (prometheus-client, shared across workers through ``PROMETHEUS_MULTIPROC_DIR`` when the
    supervisor set it; the decision log at ``config.log_url``)."""
    if metrics is None:
        from gate.metrics import GateMetrics

        metrics = GateMetrics(multiprocess_dir=os.environ.get("PROMETHEUS_MULTIPROC_DIR"))
    service = GateService(config, metrics, open_log=open_log)
    observed = metrics

    def route(path: str, handler: Handler, method: str, *, authenticated: bool = True) -> Route:
        async def endpoint(request: Request) -> Response:
            started = time.perf_counter()
            try:
                if authenticated and config.tokens:
                    if not bearer_authorised(config.tokens, request.headers.get("authorization")):
                        raise Unauthorised("missing or wrong bearer token", where="request")
                response = await handler(request)
            except GateError as exc:
                response = error_response(exc)
            except Exception as exc:  # fail closed: a crash is no verdict, never a 200
                traceback.print_exc(file=sys.stderr)
                response = error_response(
                    GateError(f"internal error: {type(exc).__name__}", where="server")
                )
            observed.observe_request(
                path, request.method, response.status_code, time.perf_counter() - started
            )
            return response

        return Route(path, endpoint, methods=[method])

    async def check(request: Request) -> Response:
        body = await read_body(request, config.max_body, config.read_timeout)
        from python_multipart.multipart import parse_options_header

        media_type, _ = parse_options_header(request.headers.get("content-type", ""))
        kind = media_type.decode("latin-1")
        if kind == "multipart/form-data":
            settings = await parse_multipart_request(request, body, config)
        elif kind == JSON_TYPE:
            settings = await asyncio.to_thread(parse_json_request, body, config)
        else:
            raise UsageError(
                f"unsupported Content-Type {kind or '(none)'!r}",
                where="request",
                hint="send application/json or multipart/form-data",
            )
        return verdict_response(await service.decide(settings, source="server"))

    async def decisions(request: Request) -> Response:
        from gate.decisionlog import parse_query

        params = request.query_params
        unknown = sorted(set(params) - set(QUERY_PARAMS))
        if unknown:
            raise UsageError(
                f"unknown query parameter(s) {', '.join(map(repr, unknown))}; "
                f"expected {', '.join(QUERY_PARAMS)}",
                where="request",
            )
        repeated = sorted(k for k in set(params) if len(params.getlist(k)) > 1)
        if repeated:
            raise UsageError(f"query parameter {repeated[0]!r} is given twice", where="request")
        query = parse_query(
            image=params.get("image"),
            stage=params.get("stage"),
            decision=params.get("decision"),
            since=params.get("since"),
            until=params.get("until"),
            limit=params.get("limit"),
        )
        log = service.decision_log()
        records = await asyncio.to_thread(log.list, query)
        return Response(
            json.dumps([r.summary() for r in records], indent=2) + "\n", media_type=JSON_TYPE
        )

    async def decision(request: Request) -> Response:
        decision_id: int = request.path_params["decision_id"]
        log = service.decision_log()
        record = await asyncio.to_thread(log.get, decision_id)
        if record is None or record.verdict_json is None:
            raise NotFound(f"no decision {decision_id}", where="request")
        return verdict_response(Decided(record.verdict_json, record.decision, record.id))

    async def healthz(request: Request) -> Response:
        return JSONResponse({"status": "alive"})

    async def readyz(request: Request) -> Response:
        ready, state = await asyncio.to_thread(service.readiness)
        return JSONResponse(state, status_code=200 if ready else 503)

    async def metrics_route(request: Request) -> Response:
        body, content_type = await asyncio.to_thread(observed.exposition)
        return Response(body, headers={"Content-Type": content_type})

    async def harbor_webhook(request: Request) -> Response:
        from gate.harbor import parse_webhook, webhook_authorised

        harbor = config.harbor
        assert harbor is not None  # the route exists only with --harbor-url
        if not webhook_authorised(
            harbor,
            request.headers.get("authorization"),
            allow_without_secret=config.harbor_insecure_no_auth,
        ):
            raise Unauthorised("missing or wrong Harbor webhook secret", where="request")
        body = await read_body(request, min(MAX_WEBHOOK_BODY, config.max_body), config.read_timeout)
        decided = [await service.harbor_scan(event) for event in parse_webhook(body)]
        return JSONResponse(
            {
                "decisions": [
                    {"image": d.image, "decision": d.decision, "decision_id": d.decision_id}
                    for d in decided
                ]
            }
        )

    routes = [
        route("/v1/check", check, "POST"),
        route("/v1/decisions", decisions, "GET"),
        route("/v1/decisions/{decision_id:int}", decision, "GET"),
        route("/metrics", metrics_route, "GET"),
        route("/healthz", healthz, "GET", authenticated=False),
        route("/readyz", readyz, "GET", authenticated=False),
    ]
    if config.harbor is not None:
        # Harbor authenticates with the webhook secret, not an API token.
        routes.append(route("/v1/webhooks/harbor", harbor_webhook, "POST", authenticated=False))

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        await asyncio.to_thread(service.start)
        wake = asyncio.Event()
        app.state.reload_now = wake
        loop = asyncio.get_running_loop()
        # Signals reach the main thread only (a test client runs the app in another).
        on_sighup = threading.current_thread() is threading.main_thread()
        if on_sighup:
            loop.add_signal_handler(signal.SIGHUP, wake.set)
        watcher = asyncio.create_task(service.watch_policies(wake))
        try:
            yield
        finally:
            watcher.cancel()
            with suppress(asyncio.CancelledError):
                await watcher
            if on_sighup:
                loop.remove_signal_handler(signal.SIGHUP)
            await asyncio.to_thread(service.close)

    app = Starlette(routes=routes, lifespan=lifespan)
    app.state.service = service
    return app
