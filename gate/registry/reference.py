"""References to images in a registry: ``registry://HOST[:PORT]/REPO[:TAG][@DIGEST]``.

Stricter than Docker's image names on purpose: the host is always explicit (no Docker Hub
``library/`` magic, so the text names exactly what is fetched), and credentials never go in a
reference (``user:pw@host`` is refused without echoing it).
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass, replace

from gate.errors import UsageError

SCHEME = "registry://"

_HOST_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?"
_HOST = re.compile(
    rf"^(?:{_HOST_LABEL}(?:\.{_HOST_LABEL})*|\[[0-9A-Fa-f:.]+\])(?::([0-9]{{1,5}}))?\Z"
)
_REPOSITORY_COMPONENT = re.compile(r"^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*\Z")
_TAG = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9._-]{0,127}\Z")
_DIGEST_HEX_LENGTH = {"sha256": 64, "sha512": 128}
MAX_REPOSITORY_LENGTH = 255


def is_registry_input(text: str) -> bool:
    """True when ``text`` names an image in a registry rather than a file."""
    return text.startswith(SCHEME)


def is_digest(text: str) -> bool:
    """True for ``sha256:<64 lower hex>`` or ``sha512:<128 lower hex>``."""
    algorithm, sep, hex_part = text.partition(":")
    length = _DIGEST_HEX_LENGTH.get(algorithm)
    return (
        bool(sep)
        and length is not None
        and len(hex_part) == length
        and all(c in "0123456789abcdef" for c in hex_part)
    )


def is_tag(text: str) -> bool:
    """True when ``text`` is a valid tag (``[A-Za-z0-9_][A-Za-z0-9._-]{0,127}``)."""
    return bool(_TAG.match(text))


def is_repository(text: str) -> bool:
    """True when ``text`` follows the OCI repository name grammar (lower case, no ``..``)."""
    return len(text) <= MAX_REPOSITORY_LENGTH and all(
        _REPOSITORY_COMPONENT.match(part) for part in text.split("/")
    )


def is_loopback_host(host: str) -> bool:
    """True for ``localhost``, ``127.0.0.0/8`` and ``::1``, with or without a port."""
    name = _host_without_port(host).strip("[]").lower()
    if name == "localhost":
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def _host_without_port(host: str) -> str:
    if host.startswith("["):
        return host[: host.find("]") + 1]
    return host.rsplit(":", 1)[0] if ":" in host else host


@dataclass(frozen=True)
class RegistryRef:
    """One image in one registry; ``tag`` and ``digest`` are both optional."""

    host: str
    repository: str
    tag: str | None = None
    digest: str | None = None

    def with_digest(self, digest: str | None) -> RegistryRef:
        if digest is not None and not is_digest(digest):
            raise UsageError(f"not a digest: {digest!r}", where=str(self))
        return replace(self, digest=digest)

    def with_tag(self, tag: str | None) -> RegistryRef:
        if tag is not None and not is_tag(tag):
            raise UsageError(f"not a valid tag: {tag!r}", where=str(self))
        return replace(self, tag=tag)

    def reference(self) -> str:
        """What to put in a manifest URL: the digest when known (it pins the content)."""
        return self.digest or self.tag or "latest"

    def image_name(self) -> str:
        tag = f":{self.tag}" if self.tag else ""
        digest = f"@{self.digest}" if self.digest else ""
        return f"{self.host}/{self.repository}{tag}{digest}"

    def __str__(self) -> str:
        return SCHEME + self.image_name()


def parse_registry_ref(text: str) -> RegistryRef:
    """Parse ``registry://HOST[:PORT]/REPO[:TAG][@DIGEST]``; UsageError on anything else."""
    if not is_registry_input(text):
        raise _malformed(text, f"expected {SCHEME}HOST/REPOSITORY[:TAG][@DIGEST]")
    host, slash, path = text[len(SCHEME) :].partition("/")
    if "@" in host:
        raise UsageError(
            "credentials never go in an image reference",
            where=SCHEME + "…@" + host.rpartition("@")[2] + slash + path,
            hint="give them with GATE_REGISTRY_USERNAME/GATE_REGISTRY_PASSWORD or docker login",
        )
    host_match = _HOST.match(host)
    if not host or not host_match:
        raise _malformed(text, "no valid registry host")
    port = host_match.group(1)
    if port is not None and not 0 < int(port) < 65536:
        raise _malformed(text, f"port {port} is out of range")
    if not slash or not path:
        raise _malformed(text, "no repository")
    name, at, digest = path.partition("@")
    if at and not is_digest(digest):
        raise _malformed(text, "the digest must be sha256:<64 hex> or sha512:<128 hex>, lower case")
    repository, tag = name, None
    if ":" in name.rpartition("/")[2]:
        repository, _, tag = name.rpartition(":")
        if not is_tag(tag):
            raise _malformed(text, f"not a valid tag: {tag!r}")
    if not repository or not is_repository(repository):
        raise _malformed(
            text,
            "the repository must be lower-case components ([a-z0-9] joined by . _ __ -) "
            "separated by /",
        )
    return RegistryRef(host=host.lower(), repository=repository, tag=tag, digest=digest or None)


def _malformed(text: str, problem: str) -> UsageError:
    return UsageError(f"not a registry reference: {problem}", where=text)
