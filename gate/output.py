"""Where gate writes: standard output or an ``--output`` file; and text made safe for terminals.

Rules for ``--output PATH`` (``-`` is standard output):

* an existing path that is not a regular file (a FIFO, ``/dev/null``, ``/dev/stdout``, a
  symlink to ``/proc/self/fd/1``) is opened and written in place, never replaced, so a
  device node stays a device node;
* anything else is written atomically: a uniquely named temporary file beside the target
  is written, synced and renamed over it, so a failed run never leaves half a report and
  parallel runs to one path all succeed (the last rename wins);
* a symlink to a regular file is written through: the file it points at is replaced
  atomically and the link is kept;
* a path that would overwrite something gate reads (an input, ``--data``, ``--waivers``,
  a policy file or anything inside a policy directory) is refused before any evaluation.

Lightweight on purpose: ``gate.cli`` imports it for every error line.
"""

from __future__ import annotations

import io
import os
import re
import stat
import sys
from collections.abc import Callable, Iterable
from contextlib import suppress
from pathlib import Path
from typing import TYPE_CHECKING, Any

from gate.errors import GateError, UsageError

if TYPE_CHECKING:
    from rich.console import Console

STDOUT = "-"
"""The ``--output`` value that means standard output."""

_CONTROLS = "\\x00-\\x08\\x0b-\\x1f\\x7f-\\x9f\\u202a-\\u202e\\u2066-\\u2069"
"""C0 and C1 controls, DEL, and the Unicode bidi overrides and isolates (which make a
terminal show text reordered); tab and line feed are handled by the caller's choice."""
_IN_CELLS = re.compile(f"[{_CONTROLS}]")
_ON_ONE_LINE = re.compile(f"[{_CONTROLS}\\t\\n]")


def terminal_style(stream: Any) -> tuple[bool, int | None]:
    """``(colour, width)`` for text written to ``stream``: colour only on a terminal and
    without ``NO_COLOR``, at the terminal's width (None: the renderer's default)."""
    try:
        color = stream is not None and bool(stream.isatty()) and "NO_COLOR" not in os.environ
    except (OSError, ValueError):
        color = False
    if not color:
        return False, None
    try:
        return True, os.get_terminal_size().columns
    except OSError:
        return True, None


def render_rich(draw: Callable[[Console], None], *, color: bool, width: int | None) -> str:
    """The text ``draw`` prints on a rich console, styled with ANSI codes only when
    ``color``, ``width`` columns wide (default 120)."""
    from rich.console import Console

    buffer = io.StringIO()
    console = Console(
        file=buffer,
        force_terminal=color,
        no_color=not color,
        width=width or 120,
        highlight=False,
        emoji=False,
        soft_wrap=False,
    )
    draw(console)
    # Rich pads table lines to the full width; trailing blanks only bloat logs and diffs.
    return "\n".join(line.rstrip() for line in buffer.getvalue().splitlines()) + "\n"


def printable(text: str, *, keep_newlines: bool = False) -> str:
    """Return ``text`` with control characters shown as escapes (``\\x1b``, ``\\u202e``).

    Report titles, messages and names come from files anyone may have written; printed raw,
    an ANSI sequence could clear the screen and draw a fake PASS, a carriage return could
    overwrite a FAIL, and a bidi override could reorder it. ``keep_newlines`` keeps line
    breaks and tabs (table cells); single-line output (summary, ``error:``) escapes them too.
    """
    return (_IN_CELLS if keep_newlines else _ON_ONE_LINE).sub(_escaped, text)


def _escaped(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code <= 0xFF else f"\\u{code:04x}"


def check_output_path(
    output: str,
    *,
    reads: Iterable[str],
    policy_paths: Iterable[str | Path],
    option: str = "--output",
) -> None:
    """Refuse (:class:`UsageError`) an ``--output`` that cannot or must not be written.

    ``reads`` are the files the run reads (inputs, data, waivers); ``policy_paths`` the
    policy files and directories. Runs before any evaluation, so a refusal writes nothing.
    """
    if output == STDOUT:
        return
    if not output.strip():
        raise UsageError(f"{option} is empty; give a file name or '-' for standard output")
    if os.path.isdir(output):
        raise UsageError(f"{option} names a directory, not a file", where=output)
    if not _is_special(output):
        target = Path(os.path.realpath(output))
        if not target.parent.is_dir():
            raise UsageError(
                f"{option} directory {str(target.parent)!r} does not exist", where=output
            )
        for given in reads:
            if given != STDOUT and same_file(target, given):
                raise UsageError(f"{option} would overwrite an input file", where=output)
        for root in policy_paths:
            resolved = Path(os.path.realpath(root))
            if target == resolved or resolved in target.parents:
                raise UsageError(
                    f"{option} would write into a policy directory or over a policy file",
                    where=output,
                )


def _is_special(output: str) -> bool:
    """True when ``output`` exists and is not a regular file (after following symlinks)."""
    try:
        return not stat.S_ISREG(os.stat(output).st_mode)
    except OSError:
        return False


def same_file(first: str | Path, second: str | Path) -> bool:
    """True when both name one file (links, ``..``, hard links followed)."""
    try:
        return os.path.samefile(first, second)
    except OSError:  # one side does not exist (yet): compare where they would be
        return os.path.realpath(first) == os.path.realpath(second)


def write_output(text: str, output: str | None, *, mode: int | None = None) -> None:
    """Write ``text`` to standard output (``None`` or ``-``) or to the file ``output``.

    ``mode`` sets the permissions of a file written atomically (default: those of the file
    it replaces, else what the umask allows), for a file another user's daemon must read.
    Raises :class:`GateError` (no verdict) when it cannot be written: a report that never
    arrived must not look like a pass.
    """
    if output is None or output == STDOUT:
        _write_stdout(text)
    elif _is_special(output):
        _write_in_place(text, output)
    else:
        _write_atomically(text, output, mode)


class ClosedStdout(io.TextIOBase):
    """Stands in for the ``sys.stdout`` Python leaves as None when descriptor 1 was closed.

    click's ``echo`` skips writing to a missing stdout without a word, so a command run
    with ``>&-`` would end as if it had printed; writing to this raises instead.
    """

    def writable(self) -> bool:
        return True

    def write(self, text: str) -> int:
        raise GateError("cannot write output: standard output is closed")


def _write_stdout(text: str) -> None:
    stream = sys.stdout if sys.stdout is not None else ClosedStdout()
    try:
        stream.write(text)
        stream.flush()
    except BrokenPipeError as exc:
        _silence_stdout()
        raise GateError("cannot write output: the reader of standard output went away") from exc
    except (OSError, ValueError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        raise GateError(f"cannot write output: {reason}") from exc


def _silence_stdout() -> None:
    # Python flushes stdout again at exit; into a broken pipe that prints a traceback and
    # turns the exit code into 120. Point descriptor 1 at /dev/null so only ours remains.
    with suppress(OSError, ValueError, AttributeError):
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)


def _write_in_place(text: str, output: str) -> None:
    try:
        with open(output, "w", encoding="utf-8") as handle:
            handle.write(text)
    except OSError as exc:
        raise GateError(f"cannot write output: {exc.strerror or exc}", where=output) from exc


def _write_atomically(text: str, output: str, mode: int | None = None) -> None:
    import tempfile  # here, not at the top: every error line imports this module

    target = Path(os.path.realpath(output))  # through a symlink: replace its file, keep it
    if mode is None:
        try:
            mode = stat.S_IMODE(os.stat(target).st_mode)
        except OSError:
            mode = 0o666 & ~_umask()
    temporary = None
    try:
        handle, temporary = tempfile.mkstemp(
            prefix=f".{target.name}.", suffix=".partial", dir=target.parent
        )
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            stream.write(text)
            stream.flush()
            os.fsync(stream.fileno())
        os.chmod(temporary, mode)
        os.replace(temporary, target)
    except OSError as exc:
        if temporary is not None:
            with suppress(OSError):
                os.unlink(temporary)
        raise GateError(f"cannot write output: {exc.strerror or exc}", where=output) from exc


def _umask() -> int:
    # Reading the umask by setting it would race with other threads creating files.
    with suppress(OSError, ValueError):
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("Umask:"):
                return int(line.split()[1], 8)
    current = os.umask(0o022)
    os.umask(current)
    return current
