"""A STAND-IN for an OPA server, for tests: NOT OPA.

No OPA binary can be installed on the machines these tests run on, so this loopback
``http.server`` implements exactly the subset of OPA's REST API that gate's opa engine uses
(GET /v1/policies, PUT/DELETE /v1/policies/{id}, PUT/DELETE /v1/data/{path}, POST /v1/data/{path},
GET /v1/data/system/bundles, POST /v1/query for ``opa.runtime().version``, GET /health)
and evaluates with the embedded regorus engine. Compile errors come back in OPA's error
shape (HTTP 400, ``errors[]`` with ``message`` and ``location{file,row,col}``). It proves
gate's client path (uploads, clean-up, errors, pinned revisions), not OPA's semantics: the
test against a real OPA (``GATE_TEST_OPA_URL``) does that.
"""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import unquote

from gate.engines.regorus import describe_error, import_regorus

STANDIN_VERSION = "standin-regorus"


class OpaStandIn:
    """Start with ``with OpaStandIn() as server:``; ``server.url`` is its address."""

    def __init__(self, *, token: str | None = None, delay: float = 0.0) -> None:
        self.policies: dict[str, str] = {}
        self.data: dict[str, Any] = {}
        self.bundles: dict[str, Any] = {}
        self.token = token
        self.delay = delay
        """Seconds each answer waits: the "slow server"."""
        self.fail_deletes = False
        """Answer every DELETE with HTTP 500: a server that keeps what was uploaded."""
        self.authorizations: list[str | None] = []
        self.requests: list[tuple[str, str]] = []
        self.lock = threading.Lock()
        self.httpd = _QuietServer(("127.0.0.1", 0), _handler(self))
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}"

    def __enter__(self) -> OpaStandIn:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def load_bundle(self, name: str, revision: str, modules: Any, data: dict[str, Any]) -> None:
        """What ``opa run --server --bundle`` would have loaded: modules, data, manifest."""
        for module in modules:
            self.policies[f"{name}/{module.path}"] = module.text
        self.data.update(data)
        self.bundles[name] = {"manifest": {"revision": revision, "roots": [""]}}

    def engine(self, policies: dict[str, str]) -> Any:
        engine = import_regorus().Engine()
        for policy_id, text in policies.items():
            engine.add_policy(policy_id, text)
        engine.add_data_json(json.dumps(self.data))
        engine.eval_query("true")
        return engine


class _QuietServer(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # a client that gave up (the timeout tests) is expected, not news


def _handler(server: OpaStandIn) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:
            pass

        def _body(self) -> bytes:
            return self.rfile.read(int(self.headers.get("Content-Length") or 0))

        def _send(self, status: int, answer: Any = None) -> None:
            raw = b"" if answer is None else json.dumps(answer).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(raw)))
            self.end_headers()
            self.wfile.write(raw)

        def _admitted(self) -> bool:
            server.authorizations.append(self.headers.get("Authorization"))
            server.requests.append((self.command, self.path))
            if server.delay:
                time.sleep(server.delay)
            if server.token and self.headers.get("Authorization") != f"Bearer {server.token}":
                self._send(401, {"code": "unauthorized", "message": "missing or invalid token"})
                return False
            return True

        def do_GET(self) -> None:
            if not self._admitted():
                return
            if self.path == "/health":
                self._send(200, {})
            elif self.path == "/v1/policies":
                with server.lock:
                    listed = [{"id": i, "raw": t} for i, t in server.policies.items()]
                self._send(200, {"result": listed})
            elif self.path == "/v1/data/system/bundles":
                self._send(200, {"result": server.bundles})
            else:
                self._send(404, {"code": "not_found", "message": "not in the stand-in"})

        def do_PUT(self) -> None:
            if not self._admitted():
                return
            body = self._body()
            if self.path.startswith("/v1/policies/"):
                policy_id = unquote(self.path[len("/v1/policies/") :])
                with server.lock:
                    candidate = {**server.policies, policy_id: body.decode()}
                    try:
                        server.engine(candidate)
                    except RuntimeError as exc:
                        self._send(400, _compile_error(exc))
                        return
                    server.policies = candidate
                self._send(200, {})
            elif self.path.startswith("/v1/data/"):
                key = unquote(self.path[len("/v1/data/") :])
                with server.lock:
                    server.data[key] = json.loads(body)
                self.send_response(204)
                self.end_headers()
            else:
                self._send(404, {"code": "not_found", "message": "not in the stand-in"})

        def do_DELETE(self) -> None:
            if not self._admitted():
                return
            if server.fail_deletes:
                self._send(500, {"code": "internal_error", "message": "stand-in: no deletes"})
                return
            with server.lock:
                if self.path.startswith("/v1/policies/"):
                    server.policies.pop(unquote(self.path[len("/v1/policies/") :]), None)
                    self._send(200, {})
                    return
                server.data.pop(unquote(self.path[len("/v1/data/") :]), None)
            self.send_response(204)
            self.end_headers()

        def do_POST(self) -> None:
            if not self._admitted():
                return
            body = json.loads(self._body() or b"{}")
            if self.path == "/v1/query":
                self._send(200, {"result": [{"version": STANDIN_VERSION}]})
                return
            query = "data." + ".".join(unquote(self.path[len("/v1/data/") :]).split("/"))
            with server.lock:
                engine = server.engine(server.policies)
            if "input" in body:
                engine.set_input_json(json.dumps(body["input"]))
            try:
                results = json.loads(engine.eval_query_as_json(query)).get("result") or []
                value = results[0]["expressions"][0]["value"] if results else None
            except RuntimeError as exc:
                self._send(500, {"code": "internal_error", "message": str(exc)[:500]})
                return
            self._send(200, {} if value is None else {"result": value})

    return Handler


def _compile_error(exc: RuntimeError) -> dict[str, Any]:
    message, where = describe_error(exc)
    location: dict[str, Any] = {}
    if where:
        file, row, col = where.rsplit(":", 2)
        location = {"file": file, "row": int(row), "col": int(col)}
    return {
        "code": "invalid_parameter",
        "message": "error(s) occurred while compiling module(s)",
        "errors": [{"code": "rego_parse_error", "message": message, "location": location}],
    }
