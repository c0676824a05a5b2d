"""A STAND-IN for Harbor's API, for tests: NOT Harbor.

No Harbor can run where these tests run (it is a dozen containers), so this loopback
``http.server`` answers the one call gate makes, as Harbor v2.x does: ``GET /api/v2.0/
projects/{project}/repositories/{repository}/artifacts/{reference}/additions/vulnerabilities``,
with the repository URL-encoded twice (a repository sent with a single encoding of its
``/`` is another path, and 404s), HTTP basic authentication of a robot account (401
otherwise), and the report served only when its MIME type is among those the client lists
in ``X-Accept-Vulnerabilities`` (``{}`` otherwise, as Harbor answers). ``mode`` turns it
hostile: a redirect, an oversized or trickling body, an error status, a slow answer.
Every request is recorded, so that a test can prove which host was (never) contacted.
"""

from __future__ import annotations

import base64
import json
import ssl
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import unquote

ROBOT_USERNAME = "robot$acme+gate"
ROBOT_PASSWORD = "Rob0t-s3cret-never-printed"
WEBHOOK_SECRET = "Bearer 9f2c4e61b8d7a3f05e1c9b2d4a6f8e10"

MODES = (
    "unauthorised",  # 401 whatever the credentials
    "forbidden",  # 403
    "error",  # 500
    "redirect",  # 302 to redirect_to
    "huge",  # 200 streaming huge_bytes with no Content-Length
    "huge-declared",  # 200 declaring huge_bytes in Content-Length
    "slow",  # waits delay seconds before answering
    "trickle",  # 200, then one byte every trickle_interval seconds, trickle_bytes of them
    "gzip",  # 200 with Content-Encoding: gzip
)


@dataclass(frozen=True)
class SeenRequest:
    path: str
    """As sent, not decoded."""
    headers: dict[str, str]


class HarborStandIn:
    """Start with ``with HarborStandIn() as harbor:``; ``harbor.url`` is its address."""

    def __init__(
        self,
        *,
        username: str = ROBOT_USERNAME,
        password: str = ROBOT_PASSWORD,
        tls: tuple[Path, Path] | None = None,
    ) -> None:
        self.credentials = (username, password)
        self.reports: dict[tuple[str, str, str], bytes] = {}
        self.project_ids: dict[str, str] = {}
        """Project id -> name: as in Harbor, a numeric project in the path is an id unless
        the request says ``X-Is-Resource-Name: true``."""
        self.mode: str | None = None
        self.delay = 0.0
        self.huge_bytes = 0
        self.trickle_bytes = 0
        self.trickle_interval = 0.05
        self.redirect_to = "https://elsewhere.example/api/v2.0/"
        self.requests: list[SeenRequest] = []
        self.lock = threading.Lock()
        self.httpd = _QuietServer(("127.0.0.1", 0), _handler(self))
        self.scheme = "http"
        if tls is not None:
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.load_cert_chain(str(tls[0]), str(tls[1]))
            self.httpd.socket = context.wrap_socket(self.httpd.socket, server_side=True)
            self.scheme = "https"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"{self.scheme}://127.0.0.1:{self.httpd.server_address[1]}"

    @property
    def host(self) -> str:
        return f"127.0.0.1:{self.httpd.server_address[1]}"

    def serve(self, project: str, repository: str, digest: str, body: bytes) -> None:
        """Answer the vulnerabilities of ``project/repository@digest`` with ``body``."""
        self.reports[(project, repository, digest)] = body

    def __enter__(self) -> HarborStandIn:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


class _QuietServer(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # a client that gave up (the timeout and size tests) is expected, not news


def _handler(harbor: HarborStandIn) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            pass

        def do_GET(self) -> None:  # noqa: N802 - http.server's name
            with harbor.lock:
                harbor.requests.append(SeenRequest(self.path, dict(self.headers.items())))
            if harbor.mode == "slow":
                time.sleep(harbor.delay)
            if harbor.mode == "redirect":
                self._answer(302, b"", {"Location": harbor.redirect_to})
                return
            if harbor.mode in ("unauthorised", "forbidden", "error"):
                status = {"unauthorised": 401, "forbidden": 403, "error": 500}[harbor.mode]
                self._errors(status, "hostile stand-in")
                return
            if not self._authorised():
                self._errors(401, "unauthorized", {"WWW-Authenticate": 'Basic realm="harbor"'})
                return
            found = self._report()
            if found is None:
                self._errors(404, "artifact not found")
                return
            self._body(found)

        def _authorised(self) -> bool:
            pair = ":".join(harbor.credentials).encode()
            expected = "Basic " + base64.b64encode(pair).decode("ascii")
            return self.headers.get("Authorization") == expected

        def _report(self) -> bytes | None:
            parts = self.path.split("?", 1)[0].split("/")
            shape = ["", "api", "v2.0", "projects", "*", "repositories", "*", "artifacts", "*"]
            if len(parts) != 11 or parts[9:] != ["additions", "vulnerabilities"]:
                return None
            if any(want not in ("*", got) for want, got in zip(shape, parts, strict=False)):
                return None
            # The router decodes the path once; Harbor decodes the repository name again.
            project = unquote(parts[4])
            if project.isdigit() and self.headers.get("X-Is-Resource-Name") != "true":
                project = harbor.project_ids.get(project, "")
            key = (project, unquote(unquote(parts[6])), unquote(parts[8]))
            body = harbor.reports.get(key)
            if body is None:
                return None
            return body if self._accepted(body) else b"{}"

        def _accepted(self, body: bytes) -> bool:
            """Harbor serves only the report types the client lists; other bodies as they are."""
            try:
                document = json.loads(body)
            except ValueError:
                return True
            if not isinstance(document, dict) or len(document) != 1:
                return True
            (key,) = document
            if not key.startswith("application/vnd."):
                return True
            listed = self.headers.get("X-Accept-Vulnerabilities", "")
            accepted = [item.strip() for item in listed.split(",")]
            default = "application/vnd.scanner.adapter.vuln.report.harbor+json; version=1.0"
            return key in (accepted if listed else [default])

        def _body(self, body: bytes) -> None:
            if harbor.mode == "huge":
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                chunk = b" " * 65536
                sent = 0
                while sent < harbor.huge_bytes:
                    self.wfile.write(chunk)
                    sent += len(chunk)
                return
            if harbor.mode == "huge-declared":
                self._answer(200, body, {"Content-Length": str(harbor.huge_bytes)})
                return
            if harbor.mode == "trickle":
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                for _ in range(harbor.trickle_bytes):
                    self.wfile.write(b" ")
                    self.wfile.flush()
                    time.sleep(harbor.trickle_interval)
                return
            extra = {"Content-Encoding": "gzip"} if harbor.mode == "gzip" else {}
            self._answer(200, body, extra)

        def _errors(self, status: int, message: str, extra: dict[str, str] | None = None) -> None:
            body = json.dumps({"errors": [{"code": str(status), "message": message}]}).encode()
            self._answer(status, body, extra or {})

        def _answer(self, status: int, body: bytes, extra: dict[str, str]) -> None:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            if "Content-Length" not in extra:
                self.send_header("Content-Length", str(len(body)))
            for name, value in extra.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(body)

    return Handler


def harbor_settings(harbor: HarborStandIn, **changes: Any) -> Any:
    """gate's HarborSettings for this stand-in: its robot account and WEBHOOK_SECRET."""
    from gate.harbor import HarborSettings

    given: dict[str, Any] = {
        "url": harbor.url,
        "stage": "dev",
        "username": ROBOT_USERNAME,
        "password": ROBOT_PASSWORD,
        "webhook_secret": WEBHOOK_SECRET,
        "timeout": 10.0,
        **changes,
    }
    return HarborSettings(**given)
