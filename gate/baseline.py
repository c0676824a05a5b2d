"""Baseline gating: tell the violations a baseline verdict already had from new ones.

A fleet that adopts the gate has images with known findings; a baseline (the verdict of the
image now in production, say) lets a stage block only what a change *adds*. Each result is
marked ``new`` or ``existing`` by :func:`gate.fingerprint.finding_key` (rule id + the
finding's identifying fields). A result counts as existing when the baseline had a result
with the same key at any level - violation, warning or waived - because the finding existed
then, whatever the baseline's stage made of it. The stage's ``block_existing`` setting decides
whether existing violations still block; when they do not they become warnings, so no result
is ever dropped and a key the baseline lacks always stays a violation.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from gate.document import Subject
from gate.errors import InputError
from gate.fingerprint import finding_key
from gate.verdict import BaselineInfo, Result, Verdict

MAX_VERDICT_BYTES = 512 * 1024 * 1024
"""A saved verdict larger than this is refused: 10,000 findings make about 20 MiB."""

EXISTING_SUFFIX = " (existing in the baseline)"

BLOCK_EXISTING = "block_existing"
"""The stage setting: whether violations the baseline already had still block."""


def load_verdict(path: str) -> Verdict:
    """Read a verdict as ``gate check -f json`` writes it, or a DSSE envelope / in-toto
    Statement of one; raise :class:`InputError` naming ``path`` when it is neither."""
    from pydantic import ValidationError

    from gate.inputs import parse_json, read_input
    from gate.sources.verdict import envelope_statement, is_verdict, is_verdict_attestation

    source, raw = read_input(path, MAX_VERDICT_BYTES)
    data = parse_json(raw, source.path)
    if is_verdict_attestation(data):
        statement = envelope_statement(data) or data
        data = statement.get("predicate")
    if not is_verdict(data):
        raise InputError(
            "not a gate verdict",
            where=source.path,
            hint="give the JSON of `gate check -f json`, or a signed verdict (DSSE envelope)",
        )
    try:
        return Verdict.model_validate(data)
    except ValidationError as exc:
        problem = exc.errors()[0]
        place = ".".join(str(part) for part in problem["loc"]) or "verdict"
        raise InputError(
            f"not a valid gate verdict: {place}: {problem['msg']}", where=source.path
        ) from exc


def block_existing(stage_config: Any) -> bool:
    """The stage's ``block_existing`` setting; anything but a boolean blocks (fail closed)."""
    settings = stage_config.get("settings") if isinstance(stage_config, dict) else None
    value = settings.get(BLOCK_EXISTING) if isinstance(settings, dict) else None
    return value if isinstance(value, bool) else True


def check_comparable(
    baseline: Verdict, subject: Subject, where: str, role: str = "the baseline verdict"
) -> None:
    """Refuse a baseline about another repository: its findings say nothing about this image.

    Another digest or tag of the same repository (the image now in production) is the point
    of a baseline; an unknown repository on either side cannot be compared at all.
    """
    theirs, ours = baseline.subject.repository, subject.repository
    if theirs is None or ours is None:
        unknown = role if theirs is None else "the image compared with it"
        raise InputError(
            f"cannot tell whether {role} is about the same image: "
            f"{unknown} names no image repository",
            where=where,
            hint="give image metadata (or --image) so both verdicts name their repository",
        )
    if theirs != ours:
        raise InputError(
            f"{role} is about repository {theirs!r}, not {ours!r}",
            where=where,
            hint="use a verdict of an earlier image of the same repository as the baseline",
        )


def parse_time(text: str, where: str) -> dt.datetime:
    """An RFC 3339 time of a verdict as an aware UTC time; :class:`InputError` otherwise."""
    try:
        moment = dt.datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError as exc:
        raise InputError(f"evaluated_at {text!r} is not an RFC 3339 time", where=where) from exc
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


def baseline_keys(verdict: Verdict) -> set[str]:
    """The keys of every result the verdict reports: violations, warnings and waived ones."""
    results: Iterable[Result] = [*verdict.violations, *verdict.warnings, *verdict.waived]
    return {finding_key(result) for result in results}


@dataclass(frozen=True)
class BaselineOutcome:
    """Violations and warnings marked new/existing; existing ones moved when they do not block."""

    violations: list[Result]
    warnings: list[Result]
    new: int
    existing: int


def apply_baseline(
    violations: list[Result], warnings: list[Result], baseline: Verdict, block_existing: bool
) -> BaselineOutcome:
    """Mark every result ``new`` or ``existing`` against ``baseline`` (see the module doc).

    With ``block_existing`` False an existing violation becomes a warning whose message says
    why; the decision then follows from what remains. Nothing is dropped.
    """
    known = baseline_keys(baseline)
    kept: list[Result] = []
    demoted: list[Result] = []
    existing = 0
    for result in violations:
        if finding_key(result) not in known:
            kept.append(result.model_copy(update={"baseline": "new"}))
            continue
        existing += 1
        if block_existing:
            kept.append(result.model_copy(update={"baseline": "existing"}))
        else:
            demoted.append(
                result.model_copy(
                    update={
                        "baseline": "existing",
                        "level": "warn",
                        "msg": result.msg + EXISTING_SUFFIX,
                    }
                )
            )
    marked = [
        result.model_copy(
            update={"baseline": "existing" if finding_key(result) in known else "new"}
        )
        for result in warnings
    ]
    return BaselineOutcome(
        violations=kept,
        warnings=marked + demoted,
        new=len(violations) - existing,
        existing=existing,
    )


@dataclass(frozen=True)
class Comparison:
    """What ``--baseline`` did to a run: the outcome and the record the verdict keeps."""

    outcome: BaselineOutcome
    info: BaselineInfo


@dataclass(frozen=True)
class GivenBaseline:
    """A baseline verdict as given (``--baseline FILE``): read before evaluating, so that an
    unreadable one fails the run before any work is done."""

    path: str
    verdict: Verdict

    @classmethod
    def read(cls, path: str) -> GivenBaseline:
        """Read and validate the verdict at ``path`` (see :func:`load_verdict`)."""
        return cls(path, load_verdict(path))

    def compare(
        self,
        violations: list[Result],
        warnings: list[Result],
        subject: Subject,
        stage_config: Any,
        now: dt.datetime,
    ) -> Comparison:
        """Check that the baseline may serve this run, then apply it (:func:`apply_baseline`).

        Refused (:class:`InputError`): a baseline about another repository, and one
        evaluated after this evaluation's time (``--at``): a verdict from the future is no
        record of what the image had, and could only have been written to excuse what it
        has now. A baseline of another stage is allowed and recorded.
        """
        baseline = self.verdict
        check_comparable(baseline, subject, self.path)
        if parse_time(baseline.evaluated_at, self.path) > now:
            raise InputError(
                f"the baseline verdict was evaluated at {baseline.evaluated_at}, after this "
                "evaluation's time",
                where=self.path,
                hint="a baseline must be an earlier verdict; check --at and the clocks",
            )
        blocks = block_existing(stage_config)
        return Comparison(
            outcome=apply_baseline(violations, warnings, baseline, blocks),
            info=BaselineInfo(
                file=self.path,
                stage=baseline.stage,
                evaluated_at=baseline.evaluated_at,
                subject_digest=baseline.subject.digest,
                block_existing=blocks,
            ),
        )


__all__ = [
    "BaselineOutcome",
    "Comparison",
    "apply_baseline",
    "baseline_keys",
    "block_existing",
    "check_comparable",
    "GivenBaseline",
    "load_verdict",
]
