"""Errors the core raises and the fixed exit codes the CLI maps them to."""

from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    """Process exit codes; fixed whatever the flags (see README)."""

    PASSED = 0
    FAILED = 1
    USAGE = 2
    NO_VERDICT = 3


class GateError(Exception):
    """Any failure that prevents a verdict.

    ``where`` names the file (and place in it) the problem concerns; ``hint`` is an
    optional second line telling the user what to do about it.
    """

    exit_code: ExitCode = ExitCode.NO_VERDICT

    def __init__(self, message: str, *, where: str | None = None, hint: str | None = None):
        super().__init__(message)
        self.message = message
        self.where = where
        self.hint = hint

    def __str__(self) -> str:
        return f"{self.where}: {self.message}" if self.where else self.message


class UsageError(GateError):
    """The command line asks for something impossible (unknown stage, missing file)."""

    exit_code = ExitCode.USAGE


class InputError(GateError):
    """An input file cannot be read or is not a format gate understands."""

    input_format: str | None = None
    """Set when raised while reading an input: the format forced or detected (None when no
    format was recognised), so that metrics can count parse failures by format."""


class SourceError(InputError):
    """A recognised report has content that cannot be normalised."""


class WaiverError(InputError):
    """The waivers file is malformed or an entry in it is invalid."""


class PolicyError(GateError):
    """A policy or data file does not load or compile, or breaks the rule contract."""


class EngineError(GateError):
    """The policy engine failed to produce a result."""


class RegistryError(GateError):
    """A registry cannot be read or written as asked, so no verdict (or promotion) can stand.

    Unreachable hosts, refused credentials, TLS failures, content that does not match its
    digest, oversized responses. Messages name the registry and never carry credentials.
    """


class DecisionLogError(GateError):
    """The decision log cannot be opened, migrated, read or written.

    A verdict whose recording was asked for and failed is no verdict (exit 3): an audit
    trail with holes is worse than a failed step. Messages show the log's URL with its
    password masked.
    """


class MetricsError(GateError):
    """Metrics asked for cannot be delivered: a textfile that cannot be written, a
    Pushgateway that cannot be reached or refuses them, a multiprocess directory that is not
    set up. Messages show the Pushgateway URL with its password masked.
    """
