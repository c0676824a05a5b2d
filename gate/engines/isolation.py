"""Run policy evaluation in a forked child, so that no policy can end gate by a signal.

A native engine evaluates in the process that asks. A self-recursive Rego function
overflows its stack and the kernel kills that process (SIGSEGV), and an expensive policy
can run forever. Gate therefore forks: the child evaluates, sends its answer back over a
pipe and exits; the parent waits with a deadline. A child killed by a signal, a child
past the deadline and a Ctrl-C in the parent all become "no verdict" (exit 3), never a
pass. ``fork`` shares the normalised document with the child copy-on-write, so even a
large input is not copied to hand it over.

The pipe carries frames: one byte of kind, eight bytes of length, then the payload.
``N`` frames are notes (what the child is doing, e.g. which test: named when it
crashes), the ``R`` frame is the pickled answer. Only this module's child writes to the
pipe; a policy can put strings in the answer, never pickle opcodes.
"""

from __future__ import annotations

import math
import os
import pickle
import select
import signal
import struct
import sys
from collections.abc import Callable
from typing import Any, NoReturn, TypeVar, cast

from gate import errors
from gate.errors import EngineError, GateError, UsageError

T = TypeVar("T")

DEFAULT_TIMEOUT = 300.0
TIMEOUT_ENV = "GATE_TIMEOUT"
TIMEOUT_DATA_KEY = ("gate_config", "timeout_seconds")
MEMORY_HEADROOM = 4 * 1024**3
"""Address space an evaluation may add to what the process held when it forked: 50,000
findings take regorus about 100 MB."""

_HEADER = struct.Struct("!cQ")
_NOTE = b"N"
_ANSWER = b"R"
_READ_SIZE = 1 << 20
_channel: int | None = None
"""In an isolated child, the pipe to the parent; None everywhere else."""


def parse_timeout(value: object, where: str) -> float:
    """Return ``value`` as a number of seconds; raise :class:`UsageError` naming ``where``
    unless it is a finite number above zero."""
    try:
        seconds = float(value) if isinstance(value, str | int | float) else math.nan
    except ValueError:
        seconds = math.nan
    if isinstance(value, bool) or not math.isfinite(seconds) or seconds <= 0:
        raise UsageError(
            f"{where}: {value!r} is not a number of seconds above zero",
            hint="e.g. --timeout 300",
        )
    return seconds


def resolve_timeout(flag: float | None, data: dict[str, Any]) -> float:
    """The evaluation time limit: ``--timeout``, else ``$GATE_TIMEOUT``, else the policy
    data's ``gate_config.timeout_seconds``, else :data:`DEFAULT_TIMEOUT`."""
    if flag is not None:
        return parse_timeout(flag, "--timeout")
    from_env = os.environ.get(TIMEOUT_ENV)
    if from_env is not None:
        return parse_timeout(from_env.strip(), TIMEOUT_ENV)
    config = data.get(TIMEOUT_DATA_KEY[0])
    if isinstance(config, dict) and TIMEOUT_DATA_KEY[1] in config:
        return parse_timeout(config[TIMEOUT_DATA_KEY[1]], "data " + ".".join(TIMEOUT_DATA_KEY))
    return DEFAULT_TIMEOUT


def note(text: str) -> None:
    """Tell the parent what the child is doing now (named if it crashes); a no-op outside
    an isolated child."""
    if _channel is not None:
        _send(_channel, _NOTE, text.encode("utf-8", "replace"))


def run_isolated(
    work: Callable[[], T],
    *,
    timeout: float,
    what: str,
    where: str | None,
    limit_names: tuple[str, ...] = ("--timeout", TIMEOUT_ENV),
) -> T:
    """Return ``work()`` computed in a forked child within ``timeout`` seconds.

    ``what`` says what the child does ("policy evaluation"), ``where`` names the policy
    set, ``limit_names`` how the user sets the limit (the first is named in messages).
    A :class:`GateError` the child raises is raised here as it was.
    Raises :class:`EngineError` when the child dies by a signal, exits without an answer
    or exceeds ``timeout`` (it is then killed); a KeyboardInterrupt kills the child too.
    """
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - runs in the child, which never returns here
        os.close(read_end)
        _serve(work, write_end, timeout)
    os.close(write_end)
    finished = False
    try:
        frames, status = _collect(read_end, pid, timeout)
        finished = True
    finally:
        os.close(read_end)
        if not finished:
            _kill(pid)
    if status is None:
        raise EngineError(
            f"{what} exceeded {limit_names[0]} {_seconds(timeout)} s{_during(frames)}",
            where=where,
            hint=f"raise it with {' or '.join(limit_names)}, or make the policy cheaper",
        )
    return cast(T, _answer(frames, status, what, where))


def _serve(work: Callable[[], Any], channel: int, timeout: float) -> NoReturn:  # pragma: no cover
    # The child. Whatever happens it leaves through os._exit: it must never return into
    # the parent's stack (to run its finally blocks, flush its buffers or print a verdict).
    global _channel
    try:
        _channel = channel
        # Ctrl-C reaches the whole foreground group: the child stops at once rather than
        # when the engine next returns to Python; the parent reports the interruption.
        signal.signal(signal.SIGINT, signal.SIG_DFL)
        _limit_cpu(timeout)
        _limit_memory()
        _silence_stderr()
        try:
            answer: tuple[str, Any] = ("value", work())
        except GateError as exc:
            answer = ("error", (type(exc).__name__, exc.message, exc.where, exc.hint))
        except MemoryError:
            answer = ("memory", None)
        except BaseException as exc:  # noqa: BLE001 - anything else is reported, not raised
            answer = ("bug", f"{type(exc).__name__}: {exc}")
        _send(channel, _ANSWER, pickle.dumps(answer, protocol=pickle.HIGHEST_PROTOCOL))
    finally:
        os._exit(0)


def _limit_cpu(timeout: float) -> None:  # pragma: no cover - runs in the child
    # A backstop should the parent die without killing the child: the kernel ends it
    # once it has used more CPU than the whole evaluation was allowed.
    import resource

    seconds = math.ceil(timeout) + 1
    try:
        resource.setrlimit(resource.RLIMIT_CPU, (seconds, seconds))
    except (ValueError, OSError):
        pass


def _limit_memory() -> None:  # pragma: no cover - runs in the child
    # A policy can ask for unbounded memory (numbers.range(1, 1e10), an AST whose JSON
    # grows with the square of its nesting): the child fails alone, before the machine's
    # OOM killer picks a victim. The limit is on address space beyond what the child
    # already holds, so that it does not depend on the size of the input.
    import resource

    try:
        with open("/proc/self/statm", "rb") as statm:
            in_use = int(statm.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
        limit = in_use + MEMORY_HEADROOM
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    except (OSError, ValueError):
        pass  # not Linux: the time limit still bounds the child


def _silence_stderr() -> None:  # pragma: no cover - runs in the child
    # Native panics print to fd 2; the parent reports the failure in gate's own words
    # (unless --debug asked for everything).
    cli = sys.modules.get("gate.cli")
    if cli is not None and cli.State.debug:
        return
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 2)
    os.close(devnull)
    # faulthandler (PYTHONFAULTHANDLER, pytest) writes to a descriptor of its own.
    import faulthandler

    faulthandler.disable()


def _send(channel: int, kind: bytes, payload: bytes) -> None:
    view = memoryview(_HEADER.pack(kind, len(payload)) + payload)
    while view:
        view = view[os.write(channel, view) :]


def _collect(
    read_end: int, pid: int, timeout: float
) -> tuple[list[tuple[bytes, bytes]], int | None]:
    """Read the child's frames until it closes the pipe; return them and its wait status,
    or None for the status when the deadline passed (the child is then killed)."""
    import time

    deadline = time.monotonic() + timeout
    received = bytearray()
    while True:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            _kill(pid)
            return _frames(received), None
        ready, _, _ = select.select([read_end], [], [], remaining)
        if not ready:
            continue
        chunk = os.read(read_end, _READ_SIZE)
        if not chunk:
            break
        received += chunk
    _, status = os.waitpid(pid, 0)
    return _frames(received), status


def _frames(received: bytearray) -> list[tuple[bytes, bytes]]:
    frames = []
    offset = 0
    while offset + _HEADER.size <= len(received):
        kind, length = _HEADER.unpack_from(received, offset)
        start = offset + _HEADER.size
        if start + length > len(received):
            break  # cut short: the child died while writing
        frames.append((kind, bytes(received[start : start + length])))
        offset = start + length
    return frames


def _kill(pid: int) -> None:
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    try:
        os.waitpid(pid, 0)
    except ChildProcessError:  # already reaped
        pass


def _answer(frames: list[tuple[bytes, bytes]], status: int, what: str, where: str | None) -> Any:
    if os.WIFSIGNALED(status):
        number = os.WTERMSIG(status)
        if number == signal.SIGINT:
            raise KeyboardInterrupt
        name = _signal_name(number)
        if number == signal.SIGXCPU:
            raise EngineError(f"{what} used more CPU time than its time limit allows ({name})")
        cause, hint = _CRASH_CAUSES.get(number, _CRASH_CAUSES[signal.SIGSEGV])
        raise EngineError(
            f"{what} crashed ({name}){_during(frames)}; {cause}", where=where, hint=hint
        )
    answers = [payload for kind, payload in frames if kind == _ANSWER]
    if not answers:
        raise EngineError(
            f"{what} ended without an answer (exit status {os.waitstatus_to_exitcode(status)})"
            f"{_during(frames)}",
            where=where,
        )
    kind, value = pickle.loads(answers[-1])  # noqa: S301 - written by our own child
    if kind == "value":
        return value
    if kind == "memory":
        raise EngineError(
            f"{what} ran out of memory (limit: {MEMORY_HEADROOM // 1024**3} GiB more than "
            f"gate held){_during(frames)}",
            where=where,
        )
    if kind == "error":
        name, message, error_where, hint = value
        error_class = getattr(errors, name, GateError)
        raise error_class(message, where=error_where, hint=hint)
    raise EngineError(f"{what} failed: {value}", where=where, hint="run with --debug")


_CRASH_CAUSES: dict[int, tuple[str, str]] = {
    signal.SIGSEGV: (
        "a recursive rule or function is the usual cause",
        "look for a rule or function that calls itself, or an expression nested thousands "
        "of levels deep",
    ),
    signal.SIGABRT: (
        "running out of memory is the usual cause",
        f"evaluation may use {MEMORY_HEADROOM // 1024**3} GiB more than gate held: look for "
        "a rule that builds a huge collection (numbers.range, a comprehension over a product)",
    ),
    signal.SIGKILL: (
        "the system killed it, most often for want of memory",
        "look for a rule that builds a huge collection, or give the job more memory",
    ),
}


def _during(frames: list[tuple[bytes, bytes]]) -> str:
    notes = [payload for kind, payload in frames if kind == _NOTE]
    return f" in {notes[-1].decode('utf-8', 'replace')}" if notes else ""


def _signal_name(number: int) -> str:
    try:
        return signal.Signals(number).name
    except ValueError:
        return f"signal {number}"


def _seconds(timeout: float) -> str:
    return f"{timeout:g}"
