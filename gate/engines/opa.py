"""A remote engine: an OPA server, through ``opa-python-client``.

Two modes. *push* (a dedicated OPA): upload the modules under a per-run prefix and the
data at its real paths, evaluate ``data.gate``, delete what was uploaded. *pinned* (a shared
fleet fed by bundles): upload nothing, and evaluate only when the loaded bundle's revision
is the local policy set's digest, so that a verdict always names the policy that made it.
"""

from __future__ import annotations

import json
import re
import secrets
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlsplit

from gate.engines.isolation import DEFAULT_TIMEOUT
from gate.errors import EngineError, PolicyError, UsageError
from gate.policy import PolicyModule

MAX_RESPONSE_BYTES = 64 * 1024 * 1024
"""The largest answer read from the server: a verdict over 50,000 findings is a few MB."""
CLEAN_UP_SECONDS = 10.0
"""How long removing the uploads may take, on top of the evaluation's time limit."""
_LOOPBACK = {"127.0.0.1", "::1", "localhost"}
_SAFE_ID = re.compile(r"[^A-Za-z0-9._-]+")


@dataclass(frozen=True)
class OpaOptions:
    """How to reach the OPA server (``--opa-url``, ``--opa-token``, ``--opa-ca``) and which
    mode to use: ``bundle`` None is push mode; a name (``""``: the only loaded bundle) is
    pinned mode."""

    url: str
    token: str | None = None
    ca_file: str | None = None
    bundle: str | None = None

    def __repr__(self) -> str:  # never show the token, even in a debug traceback
        return f"OpaOptions(url={self.url!r}, ca_file={self.ca_file!r}, bundle={self.bundle!r})"


@dataclass(frozen=True)
class Server:
    scheme: str
    host: str
    port: int

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{self.scheme}://{host}:{self.port}"


def parse_server(url: str, *, with_token: bool) -> Server:
    """Check ``--opa-url`` (``http(s)://host:port``, nothing else); raise :class:`UsageError`."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise UsageError("--opa-url: not a URL", hint="write http(s)://HOST:PORT") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise UsageError("--opa-url: not an http(s) URL", hint="write http(s)://HOST:PORT")
    if parts.username or parts.password:
        # A secret in the URL would be shown in every message naming the server.
        raise UsageError("--opa-url: no credentials in the URL", hint="use --opa-token")
    if parts.path not in ("", "/") or parts.query or parts.fragment:
        raise UsageError("--opa-url: only scheme, host and port", hint="write http(s)://HOST:PORT")
    if with_token and parts.scheme == "http" and parts.hostname not in _LOOPBACK:
        raise UsageError(
            "--opa-token over http:// would send the token in clear",
            hint="use an https:// --opa-url (and --opa-ca for a private CA)",
        )
    default_port = 443 if parts.scheme == "https" else 8181
    return Server(parts.scheme, parts.hostname, port or default_port)


class OpaEngine:
    """Evaluate on an OPA server; see the module docstring for the two modes."""

    name = "opa"

    def __init__(self, options: OpaOptions, policy_digest: str | None = None) -> None:
        self.options = options
        self.server = parse_server(options.url, with_token=bool(options.token))
        self.policy_digest = policy_digest
        self._version = "unknown"

    def version(self) -> str:
        """The server's version as it reported it during the last evaluation."""
        return self._version

    def evaluate(
        self,
        modules: Sequence[PolicyModule],
        data: dict[str, Any],
        input_json: str,
        query: str,
        *,
        timeout: float = DEFAULT_TIMEOUT,
        required_rules: Sequence[str] = (),
    ) -> Any:
        """Evaluate ``query`` on the server; see :class:`gate.engines.base.PolicyEngine`."""
        deadline = time.monotonic() + timeout
        with self._client(timeout) as client:
            if self.options.bundle is not None:
                self._require_pinned_revision(client, deadline)
                value = self._query(client, query, input_json, deadline)
            else:
                with self._pushed(client, modules, data, deadline):
                    value = self._query(client, query, input_json, deadline)
            self._version = self._server_version(client, deadline)
        if required_rules:
            require_result_rules(value, query, required_rules)
        return value

    @contextmanager
    def _client(self, timeout: float) -> Iterator[Any]:
        from opa_client.opa import OpaClient

        client = OpaClient(
            host=self.server.host,
            port=self.server.port,
            # requests' ``verify``: True (system CAs) or the --opa-ca file.
            ssl=(self.options.ca_file or True) if self.server.scheme == "https" else False,
            token=self.options.token,
            # A retry would multiply the time limit and replay uploads.
            retries=0,
            timeout=timeout,
        )
        try:
            yield client
        finally:
            client.close_connection()

    # --- push mode -----------------------------------------------------------------------

    @contextmanager
    def _pushed(
        self,
        client: Any,
        modules: Sequence[PolicyModule],
        data: dict[str, Any],
        deadline: float,
    ) -> Iterator[None]:
        """Upload ``modules`` and ``data``; delete all of it on the way out, errors included."""
        prefix = f"gate-{secrets.token_hex(8)}"
        uploaded_policies: list[str] = []
        uploaded_data: list[str] = []
        try:
            for index, module in enumerate(modules):
                policy_id = f"{prefix}/{index}-{_SAFE_ID.sub('_', module.path)[-80:]}"
                with self._remote("uploading a policy", deadline, client):
                    uploaded_policies.append(policy_id)
                    self._upload_policy(client, module, policy_id, prefix, modules)
            for key, value in data.items():
                path = quote(str(key), safe="")
                with self._remote("uploading data", deadline, client):
                    uploaded_data.append(path)
                    _put_data(client, value, path)
            self._require_only_ours(client, prefix, deadline)
            yield
        finally:
            self._clean_up(
                client,
                [f"policies/{policy_id}" for policy_id in uploaded_policies]
                + [f"data/{path}" for path in uploaded_data],
            )

    def _require_only_ours(self, client: Any, prefix: str, deadline: float) -> None:
        """Refuse a server that holds policies besides this run's: they would add to (or
        clash with) ``data.gate``: another run's pushed policies, leftovers, a shared
        server's own. Push mode needs a dedicated OPA; a shared one is pinned mode's."""
        answer = self._request(client, "GET", "/v1/policies", None, deadline)
        policies = answer.get("result")
        ids = [str(p.get("id")) for p in policies or [] if isinstance(p, dict)]
        if not isinstance(policies, list) or not ids:
            raise EngineError(
                "the OPA server does not list the uploaded policies", where=self.server.url
            )
        foreign = sorted(i for i in ids if not i.startswith(prefix + "/"))
        if foreign:
            raise EngineError(
                f"the OPA server holds {len(foreign)} other policies "
                f"(e.g. {_clean(foreign[0])!r}); push mode evaluates only on a dedicated OPA",
                where=self.server.url,
                hint="use a dedicated OPA for push mode, or pinned mode (--opa-bundle) for a "
                "server fed by bundles",
            )

    def _upload_policy(
        self,
        client: Any,
        module: PolicyModule,
        policy_id: str,
        prefix: str,
        modules: Sequence[PolicyModule],
    ) -> None:
        from opa_client.errors import RegoParseError

        try:
            # rego_compat=False: the client's default rewrites v0 policies and uploads the
            # rewrite; what was reviewed must be what runs.
            client.update_policy_from_string(module.text, policy_id, rego_compat=False)
        except RegoParseError as exc:
            if not getattr(exc, "errors", None):  # 401, 403, …: not the policy's fault
                raise EngineError(
                    f"the OPA server refused the policy upload: {_clean(str(exc.message))}",
                    where=self.server.url,
                ) from None
            raise compile_error(exc, prefix, modules) from None

    def _clean_up(self, client: Any, paths: Sequence[str]) -> None:
        """Delete what was uploaded, best effort within :data:`CLEAN_UP_SECONDS` (after an
        error too): a failed clean-up must not hide the verdict or the error on its way out,
        but it is said, as the next push-mode run would refuse the leftovers."""
        import requests

        deadline = time.monotonic() + CLEAN_UP_SECONDS
        left = 0
        for path in paths:
            try:
                response = client._session.delete(
                    f"{self.server.url}/v1/{path}", timeout=max(deadline - time.monotonic(), 0.1)
                )
                left += response.status_code not in (200, 204, 404)
            except requests.RequestException:
                left += 1
        if left:
            sys.stderr.write(
                f"warning: {left} uploads could not be removed from the OPA server at "
                f"{self.server.url}\n"
            )

    # --- pinned mode ---------------------------------------------------------------------

    def _require_pinned_revision(self, client: Any, deadline: float) -> None:
        answer = self._request(client, "GET", "/v1/data/system/bundles", None, deadline)
        bundles = answer.get("result")
        if not isinstance(bundles, dict) or not bundles:
            raise EngineError(
                "the OPA server has no bundle loaded",
                where=self.server.url,
                hint="pinned mode (--opa-bundle) evaluates only a bundle of this policy set",
            )
        name = self.options.bundle
        if not name:
            if len(bundles) != 1:
                raise UsageError(
                    f"the OPA server has {len(bundles)} bundles loaded",
                    hint=f"name one: --opa-bundle NAME ({', '.join(sorted(map(str, bundles)))})",
                )
            name = next(iter(bundles))
        bundle = bundles.get(name)
        manifest = bundle.get("manifest") if isinstance(bundle, dict) else None
        revision = manifest.get("revision") if isinstance(manifest, dict) else None
        if bundle is None:
            raise EngineError(f"the OPA server has no bundle {name!r}", where=self.server.url)
        if revision != self.policy_digest:
            raise EngineError(
                f"bundle {name!r} on the OPA server is revision {str(revision)[:80]!r}, "
                f"not this policy set ({self.policy_digest})",
                where=self.server.url,
                hint="deploy the bundle built from these policies (its revision is their "
                "digest), or point --policy at the policies the server runs",
            )

    # --- requests ------------------------------------------------------------------------

    def _query(self, client: Any, query: str, input_json: str, deadline: float) -> Any:
        path = "/v1/data/" + "/".join(quote(part, safe="") for part in query.split(".")[1:])
        # The document is already JSON text: splice it in rather than re-serialise it.
        body = ('{"input":' + input_json + "}").encode()
        answer = self._request(client, "POST", path, body, deadline)
        if "result" not in answer:
            raise EngineError(
                f"the OPA server has no {query}: the query is undefined",
                where=self.server.url,
                hint="in pinned mode, the bundle must contain gate's policies",
            )
        return answer["result"]

    def _server_version(self, client: Any, deadline: float) -> str:
        try:
            answer = self._request(
                client,
                "POST",
                "/v1/query",
                json.dumps({"query": "version := opa.runtime().version"}).encode(),
                deadline,
            )
            version = answer["result"][0]["version"]
        except (EngineError, KeyError, IndexError, TypeError):
            return "unknown"
        return str(version)[:64] if isinstance(version, str) else "unknown"

    def _request(
        self, client: Any, method: str, path: str, body: bytes | None, deadline: float
    ) -> dict[str, Any]:
        """One request through the client's session, bounded in time and size."""
        with self._remote(f"{method} {path}", deadline, client):
            response = client._session.request(
                method,
                f"{self.server.url}{path}",
                data=body,
                headers={"Content-Type": "application/json"},
                timeout=_remaining(deadline),
                stream=True,
                allow_redirects=False,
            )
            try:
                raw = _read_bounded(response, deadline)
            finally:
                response.close()
            if response.status_code != 200:
                raise EngineError(
                    f"the OPA server answered {method} {path} with HTTP "
                    f"{response.status_code}: {_error_message(raw)}",
                    where=self.server.url,
                )
        try:
            answer = json.loads(raw)
        except ValueError:
            raise EngineError(
                f"the OPA server's answer to {path} is not JSON", where=self.server.url
            ) from None
        if not isinstance(answer, dict):
            raise EngineError(
                f"the OPA server's answer to {path} is not an object", where=self.server.url
            )
        return answer

    @contextmanager
    def _remote(self, what: str, deadline: float, client: Any) -> Iterator[None]:
        """Turn transport failures into one-line :class:`EngineError` s (never the token)."""
        import requests

        client.timeout = _remaining(deadline)
        try:
            yield
        except requests.RequestException as exc:
            if isinstance(exc, requests.Timeout) or _timed_out(exc):
                raise EngineError(
                    f"the OPA server did not answer in time ({what})",
                    where=self.server.url,
                    hint="raise --timeout, or check the server's load",
                ) from None
            raise self._transport_error(exc, what) from None
        except ValueError:  # the client's response.json() on a non-JSON error body
            raise EngineError(
                f"the OPA server answered with something other than JSON ({what})",
                where=self.server.url,
            ) from None

    def _transport_error(self, exc: Exception, what: str) -> EngineError:
        import requests

        if isinstance(exc, requests.ConnectionError):
            reason = (
                "TLS verification failed"
                if isinstance(exc, requests.exceptions.SSLError)
                else "cannot connect"
            )
            return EngineError(
                f"the OPA server cannot be reached: {reason} ({what})",
                where=self.server.url,
                hint="check --opa-url (and --opa-ca), and that the server is running",
            )
        return EngineError(
            f"request to the OPA server failed: {type(exc).__name__} ({what})",
            where=self.server.url,
        )


def _put_data(client: Any, value: Any, path: str) -> None:
    from opa_client.errors import RegoParseError

    try:
        # update_or_create_data accepts objects only: wrap anything else in a one-key PUT.
        if isinstance(value, dict):
            client.update_or_create_data(value, path)
        else:
            response = client._session.put(
                f"{client.root_url}/data/{path}", data=json.dumps(value), timeout=client.timeout
            )
            if response.status_code != 204:
                raise EngineError(
                    f"the OPA server refused data at {path}: HTTP {response.status_code}"
                )
    except RegoParseError as exc:
        raise EngineError(
            f"the OPA server refused data at {path}: {_clean(str(exc.message))}"
        ) from None


def _timed_out(exc: Exception) -> bool:
    """Whether a requests error is a read timeout: with retries off, urllib3 reports one as
    a ``MaxRetryError`` that requests turns into a ``ConnectionError``."""
    from urllib3.exceptions import MaxRetryError, NewConnectionError, TimeoutError

    reason = exc.args[0] if exc.args else None
    if isinstance(reason, MaxRetryError):
        reason = reason.reason
    # NewConnectionError derives from ConnectTimeoutError, yet means "refused".
    return isinstance(reason, TimeoutError) and not isinstance(reason, NewConnectionError)


def _remaining(deadline: float) -> float:
    left = deadline - time.monotonic()
    if left <= 0:
        import requests

        raise requests.Timeout("time limit reached")
    return left


def _read_bounded(response: Any, deadline: float) -> bytes:
    chunks: list[bytes] = []
    size = 0
    for chunk in response.iter_content(chunk_size=65536):
        size += len(chunk)
        if size > MAX_RESPONSE_BYTES:
            raise EngineError(f"the OPA server's answer is larger than {MAX_RESPONSE_BYTES} bytes")
        chunks.append(chunk)
        _remaining(deadline)  # a server that trickles bytes must not outlive the limit
    return b"".join(chunks)


def _error_message(raw: bytes) -> str:
    try:
        message = json.loads(raw).get("message")
    except (ValueError, AttributeError):
        message = None
    return _clean(str(message) if message else raw[:200].decode("utf-8", "replace"))


def _clean(text: str) -> str:
    """A server's words, fit for one line of a terminal."""
    return re.sub(r"[\x00-\x1f\x7f-\x9f]", " ", text)[:200]


def compile_error(exc: Any, prefix: str, modules: Sequence[PolicyModule]) -> PolicyError:
    """A :class:`PolicyError` naming ``file:line:col`` (the local path) from OPA's errors[]."""
    errors = getattr(exc, "errors", None) or []
    first: dict[str, Any] = errors[0] if errors and isinstance(errors[0], dict) else {}
    message = str(first.get("message") or getattr(exc, "message", None) or "rejected")
    found = first.get("location")
    location: dict[str, Any] = found if isinstance(found, dict) else {}
    where = None
    remote_file = str(location.get("file") or "")
    if remote_file.startswith(prefix + "/"):
        index = remote_file[len(prefix) + 1 :].split("-", 1)[0]
        if index.isdigit() and int(index) < len(modules):
            remote_file = modules[int(index)].path
    if remote_file:
        where = f"{remote_file}:{location.get('row', '?')}:{location.get('col', '?')}"
    return PolicyError(f"policy does not compile: {_clean(message)}", where=where)


def require_result_rules(value: Any, query: str, names: Sequence[str]) -> None:
    """Raise :class:`PolicyError` unless the evaluated tree holds a rule called one of
    ``names``: OPA shows every defined partial set (an empty one as ``[]``), so a missing
    key means no such rule, and a policy set without one would pass every image."""

    def found(node: Any) -> bool:
        if not isinstance(node, dict):
            return False
        return any(
            (key in names) or (not str(key).startswith("test_") and found(child))
            for key, child in node.items()
        )

    if not found(value):
        raise PolicyError(f"no rules to evaluate: no {' or '.join(names)} rule under {query}")
