"""Test helpers around registries: a real Distribution registry, test images, a fake registry.

Other test modules import these: ``start_registry`` (a ``docker-registry serve`` process on a
free loopback port), ``push_test_image`` (an image built in-process and pushed through
:class:`gate.registry.RegistryClient`), and ``FakeRegistry`` (an ``http.server`` on 127.0.0.1
that answers what a test tells it to, for hostile registries).
"""

from __future__ import annotations

import datetime
import gzip
import io
import json
import shutil
import socket
import ssl
import subprocess
import tarfile
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from gate.registry.client import OCI_INDEX, OCI_MANIFEST, RegistryClient, sha256_digest

REGISTRY_BINARY = "docker-registry"
TEST_USERNAME = "gate-test"
TEST_PASSWORD = "s3cret-pass"
# htpasswd line for TEST_USERNAME/TEST_PASSWORD (bcrypt, cost 5 to keep tests quick), made
# once with Python's crypt module: Distribution accepts only bcrypt.
TEST_HTPASSWD = "gate-test:$2b$05$Lkw0amY07kYHKkPn9Q3PHu7ZSlmg3V.UG8AtEVNln7t2t0TgaIqMG\n"
OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
OCI_LAYER = "application/vnd.oci.image.layer.v1.tar+gzip"
EMPTY_CONFIG = "application/vnd.oci.empty.v1+json"
STARTUP_SECONDS = 20.0


@dataclass
class RunningRegistry:
    """A ``docker-registry serve`` process listening on 127.0.0.1."""

    host: str
    url: str
    process: subprocess.Popen[bytes]
    root: Path
    ca_file: str | None = None

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def registry_available() -> bool:
    return shutil.which(REGISTRY_BINARY) is not None


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def start_registry(
    root: Path, *, htpasswd: bool = False, tls: tuple[Path, Path, Path] | None = None
) -> RunningRegistry:
    """Start a registry storing under ``root``; ``tls`` is (certificate, key, CA file)."""
    root.mkdir(parents=True, exist_ok=True)
    port = free_port()
    http: dict[str, Any] = {"addr": f"127.0.0.1:{port}", "secret": "gate-tests-only"}
    config: dict[str, Any] = {
        "version": 0.1,
        "log": {"level": "error", "accesslog": {"disabled": True}},
        "storage": {
            "filesystem": {"rootdirectory": str(root / "data")},
            "delete": {"enabled": True},
        },
        "http": http,
    }
    if htpasswd:
        (root / "htpasswd").write_text(TEST_HTPASSWD)
        config["auth"] = {"htpasswd": {"realm": "gate-test", "path": str(root / "htpasswd")}}
    if tls is not None:
        http["tls"] = {"certificate": str(tls[0]), "key": str(tls[1])}
    config_file = root / "config.yml"
    config_file.write_text(json.dumps(config))  # JSON is YAML
    log = (root / "registry.log").open("wb")
    process = subprocess.Popen(
        [REGISTRY_BINARY, "serve", str(config_file)], stdout=log, stderr=subprocess.STDOUT
    )
    scheme = "https" if tls else "http"
    running = RunningRegistry(
        host=f"127.0.0.1:{port}",
        url=f"{scheme}://127.0.0.1:{port}",
        process=process,
        root=root,
        ca_file=str(tls[2]) if tls else None,
    )
    _wait_until_serving(running)
    return running


def _wait_until_serving(running: RunningRegistry) -> None:
    context = ssl.create_default_context(cafile=running.ca_file) if running.ca_file else None
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        if running.process.poll() is not None:
            log = (running.root / "registry.log").read_text(errors="replace")
            raise RuntimeError(f"docker-registry exited: {log[-2000:]}")
        try:
            with urllib.request.urlopen(f"{running.url}/v2/", timeout=2, context=context):
                return
        except urllib.error.HTTPError:
            return  # 401 from an authenticating registry: it is serving
        except OSError:
            time.sleep(0.05)
    running.stop()
    raise RuntimeError(f"docker-registry did not serve {running.url} in {STARTUP_SECONDS}s")


def make_tls_files(directory: Path) -> tuple[Path, Path, Path]:
    """A self-signed CA and a server certificate for 127.0.0.1: (certificate, key, CA file)."""
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    directory.mkdir(parents=True, exist_ok=True)
    now = datetime.datetime.now(datetime.UTC)
    validity = (now - datetime.timedelta(days=1), now + datetime.timedelta(days=30))

    def certificate(
        subject: str, key: ec.EllipticCurvePrivateKey, issuer: str, signer: Any, ca: bool
    ) -> x509.Certificate:
        builder = (
            x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)]))
            .issuer_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, issuer)]))
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(validity[0])
            .not_valid_after(validity[1])
            .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
        )
        if not ca:
            builder = builder.add_extension(
                x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                critical=False,
            )
        return builder.sign(signer, hashes.SHA256())

    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_cert = certificate("gate test CA", ca_key, "gate test CA", ca_key, ca=True)
    server_key = ec.generate_private_key(ec.SECP256R1())
    server_cert = certificate("127.0.0.1", server_key, "gate test CA", ca_key, ca=False)
    paths = (directory / "server.crt", directory / "server.key", directory / "ca.crt")
    paths[0].write_bytes(server_cert.public_bytes(serialization.Encoding.PEM))
    paths[1].write_bytes(
        server_key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    paths[2].write_bytes(ca_cert.public_bytes(serialization.Encoding.PEM))
    return paths


# --- test images ---------------------------------------------------------------------------


def make_layer(content: bytes, name: str = "layer.txt") -> tuple[bytes, str]:
    """A gzip tar holding one file ``name`` with ``content``: (blob, diff_id). Reproducible."""
    tar_bytes = io.BytesIO()
    with tarfile.open(fileobj=tar_bytes, mode="w", format=tarfile.USTAR_FORMAT) as archive:
        info = tarfile.TarInfo(name)
        info.size = len(content)
        info.mtime = 0
        archive.addfile(info, io.BytesIO(content))
    uncompressed = tar_bytes.getvalue()
    return gzip.compress(uncompressed, mtime=0), sha256_digest(uncompressed)


def image_config(platform: str = "linux/amd64", **overrides: Any) -> dict[str, Any]:
    """An OCI image config with the fields gate reads; top-level ``overrides`` replace them."""
    os_name, _, architecture = platform.partition("/")
    architecture, _, variant = architecture.partition("/")
    config: dict[str, Any] = {
        "created": "2024-10-14T10:00:00Z",
        "os": os_name,
        "architecture": architecture,
        "config": {
            "User": "1000",
            "Env": ["PATH=/usr/local/bin:/usr/bin:/bin"],
            "Labels": {"org.opencontainers.image.source": "https://example.test/acme/api"},
        },
        "rootfs": {"type": "layers", "diff_ids": []},
        "history": [{"created": "2024-10-14T10:00:00Z", "created_by": "gate test image"}],
    }
    if variant:
        config["variant"] = variant
    config.update(overrides)
    return config


def canonical(document: dict[str, Any]) -> bytes:
    return json.dumps(document, separators=(",", ":"), sort_keys=True).encode()


def push_test_image(
    client_or_host: RegistryClient | str,
    repo: str,
    tag: str,
    *,
    config: dict[str, Any] | None = None,
    layers: list[bytes] | None = None,
    platforms: list[str] | None = None,
) -> tuple[str, bytes]:
    """Build and push an image; (manifest digest, manifest bytes) of what ``tag`` points at.

    ``config`` holds top-level overrides of :func:`image_config` (``rootfs`` is always
    computed); each of ``layers`` is the content of a file in its own gzip tar layer (one
    layer by default). With ``platforms`` (``["linux/amd64", "linux/arm64"]``) one image
    per platform is pushed by digest and ``tag`` names an OCI index of them.
    """
    client = RegistryClient(client_or_host) if isinstance(client_or_host, str) else client_or_host
    if not platforms:
        return _push_image(client, repo, tag, "linux/amd64", config, layers)
    entries = []
    for platform in platforms:
        digest, raw = _push_image(client, repo, None, platform, config, layers)
        os_name, _, architecture = platform.partition("/")
        entries.append(
            {
                "mediaType": OCI_MANIFEST,
                "digest": digest,
                "size": len(raw),
                "platform": {"os": os_name, "architecture": architecture.partition("/")[0]},
            }
        )
    index = canonical({"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": entries})
    return client.put_manifest(repo, tag, index, OCI_INDEX).digest, index


def _push_image(
    client: RegistryClient,
    repo: str,
    tag: str | None,
    platform: str,
    config: dict[str, Any] | None,
    layers: list[bytes] | None,
) -> tuple[str, bytes]:
    built = [make_layer(content) for content in (layers or [b"hello from a gate test\n"])]
    image = image_config(platform, **(config or {}))
    image["rootfs"] = {"type": "layers", "diff_ids": [diff_id for _, diff_id in built]}
    config_raw = canonical(image)
    manifest = {
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST,
        "config": _descriptor(client.push_blob(repo, config_raw), config_raw, OCI_CONFIG),
        "layers": [_descriptor(client.push_blob(repo, blob), blob, OCI_LAYER) for blob, _ in built],
    }
    raw = canonical(manifest)
    digest = sha256_digest(raw)
    return client.put_manifest(repo, tag or digest, raw, OCI_MANIFEST).digest, raw


def _descriptor(digest: str, data: bytes, media_type: str) -> dict[str, Any]:
    return {"mediaType": media_type, "digest": digest, "size": len(data)}


def artifact_manifest(
    subject_digest: str,
    subject_size: int,
    artifact_type: str,
    payload_digest: str,
    payload_size: int,
    annotations: dict[str, str] | None = None,
) -> bytes:
    """An OCI 1.1 artifact manifest (empty config) whose ``subject`` is the given manifest."""
    document: dict[str, Any] = {
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST,
        "artifactType": artifact_type,
        "config": {"mediaType": EMPTY_CONFIG, "digest": sha256_digest(b"{}"), "size": 2},
        "layers": [
            {"mediaType": "application/json", "digest": payload_digest, "size": payload_size}
        ],
        "subject": {"mediaType": OCI_MANIFEST, "digest": subject_digest, "size": subject_size},
    }
    if annotations:
        document["annotations"] = annotations
    return canonical(document)


def attach_artifact(
    client: RegistryClient, repo: str, subject: str, payload: bytes, artifact_type: str
) -> str:
    """Push ``payload`` as a one-layer OCI artifact referring to ``subject``; its digest."""
    manifest = client.get_manifest(repo, subject)
    client.push_blob(repo, b"{}")
    payload_digest = client.push_blob(repo, payload)
    raw = artifact_manifest(subject, len(manifest.raw), artifact_type, payload_digest, len(payload))
    return client.attach(repo, raw, OCI_MANIFEST, subject)


# --- a fake registry for hostile cases ------------------------------------------------------


@dataclass(frozen=True)
class Reply:
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""


@dataclass(frozen=True)
class SeenRequest:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes


Handler = Callable[[SeenRequest], Reply]


class FakeRegistry:
    """An HTTP server on 127.0.0.1 that answers each (METHOD, path) as told.

    ``routes[(method, path)]`` is a Reply or a function of the request; the path is matched
    without its query. Unrouted requests get 404; ``GET /v2/`` answers 200 unless routed.
    Every request is recorded in ``requests`` (header names lower-cased).
    """

    def __init__(self) -> None:
        self.routes: dict[tuple[str, str], Reply | Handler] = {}
        self.requests: list[SeenRequest] = []
        fake = self

        class RequestHandler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            # One buffered write per answer: headers and body in separate small writes meet
            # the client's delayed ACK and cost ~40 ms each.
            wbufsize = 64 * 1024

            def log_message(self, format: str, *args: Any) -> None:
                pass

            def _answer(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                seen = SeenRequest(
                    method=self.command,
                    path=self.path,
                    headers={k.lower(): v for k, v in self.headers.items()},
                    body=body,
                )
                fake.requests.append(seen)
                route = fake.routes.get((self.command, self.path.split("?", 1)[0]))
                if route is None and (self.command, self.path) == ("GET", "/v2/"):
                    route = Reply(200, {}, b"{}")
                if route is None:
                    route = Reply(404, {"Content-Type": "application/json"}, b'{"errors":[]}')
                reply = route(seen) if callable(route) else route
                self.send_response(reply.status)
                for name, value in reply.headers.items():
                    if value:
                        self.send_header(name, value)
                # A Content-Length of "" means: send none, end the body by closing.
                if reply.headers.get("Content-Length") == "":
                    self.close_connection = True
                elif "Content-Length" not in reply.headers:
                    self.send_header("Content-Length", str(len(reply.body)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(reply.body)

            do_GET = do_HEAD = do_PUT = do_POST = do_DELETE = _answer

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), RequestHandler)
        self._server.daemon_threads = True
        self.host = f"127.0.0.1:{self._server.server_address[1]}"
        self.url = f"http://{self.host}"
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )
        self._thread.start()

    def manifest(self, repository: str, reference: str, raw: bytes, **headers: str) -> None:
        """Serve ``raw`` as an OCI manifest under ``reference`` (GET and HEAD)."""
        reply = Reply(200, {"Content-Type": OCI_MANIFEST, **headers}, raw)
        for method in ("GET", "HEAD"):
            self.routes[(method, f"/v2/{repository}/manifests/{reference}")] = reply

    def seen(self, method: str, path_start: str) -> list[SeenRequest]:
        return [r for r in self.requests if r.method == method and r.path.startswith(path_start)]

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()


@contextmanager
def fake_registry() -> Iterator[FakeRegistry]:
    fake = FakeRegistry()
    try:
        yield fake
    finally:
        fake.close()
