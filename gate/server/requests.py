"""Read and parse a ``POST /v1/check`` request into :class:`gate.run.Settings`.

The body is read in full, bounded by ``--max-body`` (the declared Content-Length first, then
the bytes actually received) and by a read timeout, before anything is parsed or queued.
Inputs arrive in memory and are never opened as paths: an input name is a plain file name
(no path separators), shown in the verdict as the file's name would be.

JSON::

    {"inputs": [{"name": "trivy.json", "content": <the report's text, or its JSON value>,
                 "type": <optional forced format>}, ...],
     "stage": "prod", "image": "registry/repo:tag", "at": "2024-10-14T12:00:00Z",
     "waivers": <a waivers document>}

A ``content`` given as text is hashed as those bytes (the same ``sha256`` as the file);
a JSON value is hashed as its compact serialisation. multipart/form-data: every file part is
an input (named by its filename), the fields ``stage``, ``image`` and ``at``, and a part
named ``waivers`` (YAML or JSON).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any, cast

from gate.errors import GateError, UsageError
from gate.server.service import (
    MIB,
    BodyTimeout,
    BodyTooLarge,
    ServeConfig,
    refuse_request_waivers,
)

if TYPE_CHECKING:
    from starlette.requests import Request

    from gate.run import Settings

MAX_INPUTS = 64
MAX_NAME_CHARS = 255
REQUEST_KEYS = frozenset({"inputs", "stage", "image", "at", "waivers"})
INPUT_KEYS = frozenset({"name", "content", "type"})
FORM_FIELDS = frozenset({"stage", "image", "at"})
WAIVERS_PART = "waivers"
WHERE = "request"


async def read_body(request: Request, limit: int, timeout: float) -> bytes:
    """The whole body, at most ``limit`` bytes, within ``timeout`` seconds.

    Raises :class:`BodyTooLarge` on a declared or actual excess (before parsing anything)
    and :class:`BodyTimeout` for a client that sends too slowly.
    """
    declared = request.headers.get("content-length")
    if declared is not None:
        if not declared.isdigit():
            raise UsageError("Content-Length is not a number", where=WHERE)
        if int(declared) > limit:
            raise _too_large(limit)
    try:
        async with asyncio.timeout(timeout):
            return await _bounded(request.stream(), limit)
    except TimeoutError:
        raise BodyTimeout(
            f"the request body did not arrive within {timeout:g} s", where=WHERE
        ) from None


async def _bounded(stream: AsyncIterator[bytes], limit: int) -> bytes:
    chunks: list[bytes] = []
    size = 0
    async for chunk in stream:
        size += len(chunk)
        if size > limit:
            raise _too_large(limit)
        chunks.append(chunk)
    return b"".join(chunks)


def _too_large(limit: int) -> BodyTooLarge:
    return BodyTooLarge(
        f"the request body is larger than the {limit / MIB:g} MiB limit",
        where=WHERE,
        hint="the server's --max-body sets it",
    )


def parse_json_request(body: bytes, config: ServeConfig) -> Settings:
    """A JSON check request as Settings; :class:`UsageError` (400) for a malformed one."""
    from gate.inputs import ParseProblem, decode_text, load_strict_json

    try:
        request = load_strict_json(decode_text(body, WHERE))
    except ParseProblem as exc:
        raise UsageError(f"not valid JSON: {exc}", where=WHERE) from exc
    except GateError as exc:  # not UTF-8: a malformed request, whatever the input's name
        raise UsageError(exc.message, where=WHERE) from exc
    if not isinstance(request, dict):
        raise UsageError("the request must be a JSON object", where=WHERE)
    _refuse_unknown(request, REQUEST_KEYS, WHERE)
    given = request.get("inputs")
    if not isinstance(given, list) or not given:
        raise UsageError(
            "'inputs' must be a non-empty list of {name, content}",
            where=WHERE,
            hint='{"inputs": [{"name": "trivy.json", "content": "<report text>"}]}',
        )
    contents: dict[str, bytes] = {}
    types: dict[str, str] = {}
    for index, entry in enumerate(given):
        place = f"{WHERE}: inputs[{index}]"
        if not isinstance(entry, dict):
            raise UsageError("an input must be an object {name, content}", where=place)
        _refuse_unknown(entry, INPUT_KEYS, place)
        name = _input_name(entry.get("name"), place, contents)
        if "content" not in entry:
            raise UsageError("'content' is required", where=place)
        contents[name] = _content_bytes(entry["content"])
        if "type" in entry:
            types[name] = _input_type(entry["type"], f"{place}.type")
    _refuse_too_many(contents)
    waivers = request.get("waivers")
    if "waivers" in request and not config.allow_request_waivers:
        raise refuse_request_waivers()
    return _settings(config, contents, request, types=types, waivers=waivers)


async def parse_multipart_request(request: Request, body: bytes, config: ServeConfig) -> Settings:
    """A multipart/form-data check request (already read as ``body``) as Settings."""
    from starlette.datastructures import UploadFile
    from starlette.requests import Request as StarletteRequest

    replayed = False

    async def receive() -> dict[str, Any]:
        nonlocal replayed
        if replayed:
            return {"type": "http.disconnect"}
        replayed = True
        return {"type": "http.request", "body": body, "more_body": False}

    again = StarletteRequest(request.scope, receive)
    try:
        form = await again.form(
            max_files=MAX_INPUTS + 1, max_fields=len(FORM_FIELDS) + 1, max_part_size=len(body) + 1
        )
    except Exception as exc:  # starlette's MultiPartException / HTTPException: malformed
        detail = getattr(exc, "detail", None) or getattr(exc, "message", None) or str(exc)
        raise UsageError(f"malformed multipart body: {detail}", where=WHERE) from exc
    contents: dict[str, bytes] = {}
    fields: dict[str, Any] = {}
    waivers_raw: bytes | None = None
    try:
        for key, value in form.multi_items():
            if key == WAIVERS_PART:
                if waivers_raw is not None:
                    raise UsageError("more than one 'waivers' part", where=WHERE)
                waivers_raw = (
                    await value.read() if isinstance(value, UploadFile) else value.encode()
                )
            elif isinstance(value, UploadFile):
                name = _input_name(value.filename, f"{WHERE}: part {key!r}", contents)
                contents[name] = await value.read()
            elif key in FORM_FIELDS:
                if key in fields:
                    raise UsageError(f"the field {key!r} is given twice", where=WHERE)
                fields[key] = value
            else:
                raise UsageError(
                    f"unknown field {key!r}; expected file parts, {', '.join(sorted(FORM_FIELDS))}"
                    f" or {WAIVERS_PART!r}",
                    where=WHERE,
                )
    finally:
        await form.close()
    if not contents:
        raise UsageError("no input files: send each report as a file part", where=WHERE)
    _refuse_too_many(contents)
    waivers = None
    if waivers_raw is not None:
        if not config.allow_request_waivers:
            raise refuse_request_waivers()
        from gate.waivers import parse_waivers_text

        waivers = parse_waivers_text(waivers_raw, WHERE)
    return _settings(config, contents, fields, types={}, waivers=waivers)


def _settings(
    config: ServeConfig,
    contents: dict[str, bytes],
    given: dict[str, Any],
    *,
    types: dict[str, str],
    waivers: Any,
) -> Settings:
    stage = given.get("stage")
    image = given.get("image")
    at = given.get("at")
    return config.settings_for(
        contents,
        stage=None if stage is None else _text(stage, f"{WHERE}: stage"),
        image=None if image is None else _image(_text(image, f"{WHERE}: image")),
        at=None if at is None else parse_at(_text(at, f"{WHERE}: at")),
        types=types,
        waivers_document=waivers,
    )


def _refuse_unknown(given: dict[str, Any], known: frozenset[str], where: str) -> None:
    unknown = sorted(set(given) - known)
    if unknown:
        raise UsageError(
            f"unknown key(s) {', '.join(map(repr, unknown))}; expected {', '.join(sorted(known))}",
            where=where,
        )


def _refuse_too_many(contents: dict[str, bytes]) -> None:
    if len(contents) > MAX_INPUTS:
        raise UsageError(f"more than {MAX_INPUTS} inputs in one request", where=WHERE)


def _input_name(value: Any, where: str, seen: dict[str, bytes]) -> str:
    """A plain file name: never a path, a registry reference or a duplicate."""
    name = _text(value, where + ".name")
    if (
        not name.strip()
        or name in (".", "..")
        or len(name) > MAX_NAME_CHARS
        or any(c in name for c in "/\\")
        or any(ord(c) < 32 or ord(c) == 127 for c in name)
    ):
        raise UsageError(
            f"input name {name[:80]!r} is not a plain file name",
            where=where,
            hint="name inputs like files, e.g. trivy.json: no path separators",
        )
    if name in seen:
        raise UsageError(f"input name {name!r} is given twice", where=where)
    return name


def _input_type(value: Any, where: str) -> str:
    from gate.sources import SOURCES

    kind = _text(value, where)
    if kind not in SOURCES:
        raise UsageError(
            f"unknown input type {kind[:80]!r}; choose from {', '.join(sorted(SOURCES))}",
            where=where,
        )
    return kind


def _content_bytes(content: Any) -> bytes:
    if isinstance(content, str):
        return content.encode("utf-8")
    return json.dumps(content, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def _text(value: Any, where: str) -> str:
    if not isinstance(value, str):
        raise UsageError(f"expected a string, found {type(value).__name__}", where=where)
    return value


def _image(value: str) -> str:
    # A server fetches nothing a request names: registry:// images are for the CLI.
    from gate.reference import parse_reference

    if value.startswith("registry://") or not value.strip():
        raise UsageError(
            f"{value[:200]!r} is not an image reference the server accepts",
            where=f"{WHERE}: image",
            hint="give the reference (registry/repo:tag or @sha256:...); the server reads no "
            "registry",
        )
    if parse_reference(value).repository is None:
        raise UsageError(f"{value[:200]!r} is not an image reference", where=f"{WHERE}: image")
    return value


def parse_at(value: str) -> dt.datetime:
    """``at`` as ``gate check --at`` reads it (the same parser and range)."""
    import click

    from gate.cli import _parse_time

    try:
        moment = _parse_time(cast(click.Context, None), cast(click.Parameter, None), value)
    except click.BadParameter as exc:
        raise UsageError(exc.message, where=f"{WHERE}: at") from exc
    return cast(dt.datetime, moment)
