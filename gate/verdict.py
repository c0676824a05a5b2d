"""The verdict: what the gate decided, why, and on what evidence. Formats only read it."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable, Iterator, Sequence
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from gate.document import SEVERITY_ORDER, Severity, Subject
from gate.errors import ExitCode, PolicyError
from gate.policy import RuleInfo, is_bundled

VERDICT_SCHEMA_ID = "https://gate.dev/schema/verdict/v1.json"
Level = Literal["deny", "warn"]


class VerdictModel(BaseModel):
    """Base of verdict models: strict, immutable."""

    # Built on first use, as document models are (see gate.document.Model); that also
    # resolves Result's forward reference to Explanation, defined below it.
    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)


class Result(VerdictModel):
    """One ``deny`` or ``warn`` a policy produced."""

    id: str = Field(description="Stable rule id, e.g. 'vuln-fixable-critical'.")
    msg: str = Field(description="Human reason.")
    severity: Severity = Field(description="Severity the rule (or its METADATA) gave.")
    level: Level = Field(description="'deny' blocks promotion; 'warn' is reported only.")
    title: str | None = Field(None, description="Rule title from its METADATA block.")
    remediation: str | None = Field(None, description="What to do about it.")
    package: str = Field(description="Rego package that produced it, e.g. 'gate.image.root_user'.")
    finding: dict[str, Any] | None = Field(
        None, description="What it concerns: {'kind': 'vulnerability', 'id': 'CVE-…', …}."
    )
    metadata: dict[str, Any] = Field(
        default_factory=dict, description="Any other keys the rule put in its result."
    )
    effective_from: str | None = Field(
        None,
        description="Set when the rule's METADATA custom.effective_from lies after the "
        "evaluation time: the rule denied, but is reported as a warning until that date.",
    )
    inputs: list[str] = Field(
        default_factory=list,
        description="Input files that hold the finding (for code-scanning locations); "
        "empty when the result concerns no single input's finding.",
    )
    baseline: Literal["new", "existing"] | None = Field(
        None,
        description="With --baseline: 'existing' when the baseline verdict had the same "
        "violation (same rule and finding key), else 'new'; null without a baseline.",
    )
    explanation: Explanation | None = Field(
        None, description="Where the rule is and what input made it fire (--explain only)."
    )


class RuleLocation(VerdictModel):
    """Where a rule is written."""

    file: str = Field(description="Policy file as loaded.")
    line: int = Field(description="Line of the rule (its deny/warn definition), from 1.")


class Explanation(VerdictModel):
    """Why a rule fired, for a developer who does not read Rego."""

    rule: RuleLocation | None = Field(None, description="Where the rule is; null when unknown.")
    description: str | None = Field(None, description="The rule's METADATA description.")
    evidence: dict[str, Any] = Field(
        default_factory=dict,
        description="The input values the result concerns (the finding as the document has "
        "it, the image field, the scan…). Environment variable values are never included.",
    )


class WaiverRef(VerdictModel):
    """The waiver entry a result or problem concerns."""

    index: int = Field(description="Position in the waivers list, from 0.")
    rule: str | None = None
    vulnerability: str | None = None
    package: str | None = None
    image: str | None = None
    reason: str | None = None
    owner: str | None = None
    ticket: str | None = None
    expires: str = Field(description="Expiry as written (date or RFC 3339 time).")


class WaivedResult(Result):
    """A result an unexpired waiver suppressed; kept, never silently dropped."""

    waiver: WaiverRef


class WaiverProblem(VerdictModel):
    """A waiver that needs attention: expired, expiring, unused, or aimed at a locked rule."""

    kind: Literal["expired", "expiring", "unused", "not-waivable"]
    msg: str
    waiver: WaiverRef


class RelaxedRule(VerdictModel):
    """A rule the policy data does not let block in the evaluated stage."""

    id: str = Field(description="Rule id.")
    action: Literal["warn", "off"] = Field(
        description="What the data makes it in this stage: 'warn' (reported, never blocks) or "
        "'off' (not reported at all). Rules missing from the data block ('deny')."
    )
    set_by: str | None = Field(
        None, description="The data file whose value took effect (the last to set it)."
    )


class SettingOverride(VerdictModel):
    """A stage setting whose value comes from a data file other than the bundled pack's."""

    name: str = Field(description="Setting name, e.g. 'max_scan_age_hours'.")
    value: Any = Field(description="The value in effect.")
    set_by: str | None = Field(None, description="The data file whose value took effect.")


class Counts(VerdictModel):
    """Tallies for dashboards and summary lines."""

    violations: int
    warnings: int
    waived: int
    waiver_problems: int
    new: int | None = Field(
        None, description="With --baseline: violations the baseline did not have."
    )
    existing: int | None = Field(
        None,
        description="With --baseline: violations (and, when existing ones do not block, "
        "warnings) the baseline already had.",
    )
    vulnerabilities: dict[str, int] = Field(
        description="Vulnerabilities in the input by severity (all, before policy)."
    )


class PolicyInfo(VerdictModel):
    """Which policy decided: the digest changes whenever any policy or data file does."""

    digest: str
    files: list[dict[str, str]] = Field(description="[{'path', 'sha256'}] of every loaded file.")


class InputInfo(VerdictModel):
    """Which evidence was judged."""

    sha256: str = Field(
        description="SHA-256 of the normalised document (canonical JSON, without evaluated_at)."
    )
    files: list[dict[str, str]] = Field(description="[{'path', 'format', 'sha256'}] of inputs.")


class EngineInfo(VerdictModel):
    """The engine that evaluated the policies."""

    name: str
    version: str


class RuleSummary(VerdictModel):
    """One rule of the policy set and what it does at the evaluated stage."""

    id: str = Field(description="Rule id.")
    title: str | None = Field(None, description="Title from its METADATA.")
    description: str | None = Field(None, description="Description from its METADATA.")
    remediation: str | None = Field(None, description="Remediation from its METADATA.")
    severity: Severity | None = Field(None, description="Severity from its METADATA.")
    action: Literal["deny", "warn", "off"] = Field(
        description="What the policy data makes it do at this stage (missing: deny)."
    )
    package: str | None = Field(None, description="Rego package.")
    file: str = Field(description="Policy file of its METADATA block.")
    line: int = Field(description="Line of its METADATA block.")


class BaselineInfo(VerdictModel):
    """The verdict violations were compared with (--baseline)."""

    file: str = Field(description="The baseline verdict file as given.")
    stage: str = Field(description="Stage of the baseline verdict.")
    evaluated_at: str = Field(description="When the baseline verdict was made.")
    subject_digest: str | None = Field(None, description="Image the baseline judged.")
    block_existing: bool = Field(
        description="Whether violations the baseline already had still block at this stage "
        "(the stage's block_existing setting)."
    )


class TagChange(VerdictModel):
    """A destination tag of a promotion and the digest it pointed at before."""

    tag: str = Field(description="Destination, 'registry://host/repo:tag'.")
    previous_digest: str | None = Field(
        None, description="Digest the tag pointed at before; null when it did not exist."
    )


class PromotionRecord(VerdictModel):
    """What ``gate promote`` did with the verdict (absent for ``gate check``)."""

    image: str = Field(description="The image gated and promoted, pinned by digest.")
    digest: str = Field(description="The digest every destination tag was given.")
    to: list[TagChange] = Field(description="Every destination asked for.")
    written: list[str] = Field(
        default_factory=list, description="Destinations written and read back at the digest."
    )
    forced: list[TagChange] = Field(
        default_factory=list,
        description="Destinations that pointed at another digest and were moved (--force).",
    )
    refused: list[TagChange] = Field(
        default_factory=list,
        description="Destinations that point at another digest, left alone (immutable tags).",
    )
    dry_run: bool = Field(False, description="True when nothing was written (--dry-run).")


class Verdict(VerdictModel):
    """The gate's decision. ``decision`` is 'fail' exactly when a violation remains."""

    model_config = ConfigDict(
        extra="forbid",
        frozen=True,
        json_schema_extra={
            "$id": VERDICT_SCHEMA_ID,
            "$schema": "https://json-schema.org/draft/2020-12/schema",
        },
    )

    verdict_version: Literal["1"] = "1"
    decision: Literal["pass", "fail"]
    stage: str
    subject: Subject
    violations: list[Result]
    warnings: list[Result]
    waived: list[WaivedResult]
    waiver_problems: list[WaiverProblem]
    relaxed: list[RelaxedRule] = Field(
        default_factory=list,
        description="Every rule the policy data turns off or down to a warning in this stage, "
        "so that a laxer data file shows in every verdict.",
    )
    settings_overridden: list[SettingOverride] = Field(
        default_factory=list,
        description="Every setting of this stage that a data file other than the bundled "
        "pack's sets (ages, thresholds, require_vulnerability_scan…).",
    )
    counts: Counts
    policy: PolicyInfo
    input: InputInfo
    engine: EngineInfo
    gate_version: str
    evaluated_at: str
    promotion: PromotionRecord | None = Field(
        None, description="What `gate promote` did (written only by promote)."
    )
    advisory: bool = Field(
        False,
        description="--advisory: the decision is reported, but a failing verdict does not "
        "fail the CI step (exit 0).",
    )
    baseline: BaselineInfo | None = Field(
        None, description="The verdict violations were compared with (--baseline)."
    )
    dockerfile: str | None = Field(
        None,
        description="The image's Dockerfile (--dockerfile): where code scanning shows results.",
    )
    rules: list[RuleSummary] = Field(
        default_factory=list,
        description="Every rule of the policy set with its action at this stage.",
    )
    config_file: str | None = Field(
        None, description="The .gate.yaml options were read from, when one was."
    )

    @model_validator(mode="after")
    def _decision_follows_violations(self) -> Verdict:
        # The one invariant every consumer relies on: no pass with a remaining violation.
        if (self.decision == "fail") != bool(self.violations):
            raise ValueError("decision must be 'fail' exactly when violations remain")
        return self

    @property
    def exit_code(self) -> ExitCode:
        """0 when the gate passed (or is advisory), 1 when it failed."""
        return ExitCode.PASSED if self.decision == "pass" or self.advisory else ExitCode.FAILED

    def to_json(self) -> str:
        """Render deterministically: the same inputs give the same bytes but for evaluated_at."""
        optional: dict[str, object] = {
            "promotion": self.promotion,
            "baseline": self.baseline,
            "dockerfile": self.dockerfile,
            "config_file": self.config_file,
        }
        absent = {name for name, value in optional.items() if value is None}
        return self.model_dump_json(indent=2, exclude=absent or None) + "\n"


def verdict_schema_text() -> str:
    """Return the verdict JSON Schema as committed in ``gate/schema/verdict.schema.json``."""
    schema = Verdict.model_json_schema(mode="serialization")
    return json.dumps(schema, indent=2, sort_keys=True) + "\n"


_RESERVED = {"id", "msg", "severity", "remediation", "finding", "title"}


def collect_results(tree: Any, rules: dict[str, RuleInfo]) -> list[Result]:
    """Turn the value of ``data.gate`` into results, validating the rule contract.

    Every ``deny``/``warn`` set anywhere in the tree is collected. A result must be an
    object with a string ``msg`` (and ideally ``id``); a bare string is accepted as
    ``msg`` the way Conftest accepts it. A result without ``id`` takes the id, severity,
    title and remediation of its package's METADATA (the package is the id when the
    package declares no rule, or several). Anything else is a broken
    policy and raises :class:`PolicyError` — a result we cannot read is never a pass.
    """
    if tree is None:
        raise PolicyError(
            "no rules to evaluate: the policies define nothing under data.gate",
            hint="rules must live in packages named gate.* and produce deny/warn sets",
        )
    if not isinstance(tree, dict):
        raise PolicyError(f"data.gate is a {type(tree).__name__}, expected packages")
    results: list[Result] = []
    rule_sets = 0
    for package, level, items in _walk_rule_sets(tree, "gate"):
        rule_sets += 1
        for item in items:
            results.append(_to_result(item, package, level, rules))
    if not rule_sets:
        # The engine checks this before evaluating; this is the check that holds for any
        # engine: a tree without a single deny/warn set would pass every image.
        raise PolicyError(
            "no rules to evaluate: no deny or warn rule under data.gate",
            hint=f"data.gate holds {_tree_summary(tree)}: rename the rule sets to deny/warn",
        )
    results.sort(key=_result_order)
    return results


def _tree_summary(tree: dict[str, Any]) -> str:
    """``gate.x.violation, gate.y.helper, …``: the first few leaves, to say what is there."""
    leaves: list[str] = []
    stack: list[tuple[str, Any]] = [("gate", tree)]
    while stack and len(leaves) < 5:
        path, node = stack.pop()
        if isinstance(node, dict) and node:
            stack.extend((f"{path}.{key}", node[key]) for key in sorted(node, reverse=True))
        else:
            leaves.append(path)
    return ", ".join(leaves) or "nothing"


def _walk_rule_sets(node: dict[str, Any], path: str) -> Iterator[tuple[str, Level, list[Any]]]:
    for key in sorted(node):
        value = node[key]
        if key in ("deny", "warn"):
            if not isinstance(value, list):
                raise PolicyError(
                    f"{path}.{key} must be a set of objects, got {type(value).__name__}",
                    hint="write `deny contains result if { ... }`",
                )
            yield path, key, value  # type: ignore[misc]
        elif isinstance(value, dict) and not key.startswith("test_"):
            yield from _walk_rule_sets(value, f"{path}.{key}")


def _to_result(item: Any, package: str, level: Level, rules: dict[str, RuleInfo]) -> Result:
    if isinstance(item, str):
        item = {"msg": item}
    if not isinstance(item, dict) or not isinstance(item.get("msg"), str):
        raise PolicyError(
            f"{package}.{level} produced {json.dumps(item)[:120]}: a result must be an object "
            "with a string 'msg'",
            hint='e.g. deny contains {"id": "my-rule", "msg": "why"} if { ... }',
        )
    rule_id = item.get("id")
    if rule_id is not None and not isinstance(rule_id, str):
        raise PolicyError(f"{package}.{level}: 'id' must be a string, got {rule_id!r}")
    # A result without an id is its package's rule (one rule id per package), so that
    # waivers, stage actions and effective_from find it by the METADATA id. An emitted id
    # is kept as written, even when it differs from the METADATA (`gate policy lint`
    # reports that): rewriting it could hide the result from a waiver's review.
    info = rules.get(rule_id) if rule_id else _package_rule(package, rules)
    rule_id = rule_id or (info.id if info else package)
    severity = item.get("severity") or (info.severity if info else None) or "unknown"
    if severity not in SEVERITY_ORDER:
        raise PolicyError(
            f"rule {rule_id}: severity {severity!r} is not one of {', '.join(SEVERITY_ORDER)}",
            where=info.path if info else package,
        )
    finding = item.get("finding")
    if finding is not None and not isinstance(finding, dict):
        raise PolicyError(f"rule {rule_id}: 'finding' must be an object")
    remediation = item.get("remediation") or (info.remediation if info else None)
    return Result(
        id=rule_id,
        msg=item["msg"],
        severity=severity,
        level=level,
        title=item.get("title") or (info.title if info else None),
        remediation=remediation if isinstance(remediation, str) else None,
        package=package,
        finding=finding,
        metadata={k: v for k, v in item.items() if k not in _RESERVED},
    )


def _package_rule(package: str, rules: dict[str, RuleInfo]) -> RuleInfo | None:
    """The one rule whose METADATA is in ``package``; None when there is none or several
    (then no single id is right, and the package stands as the id)."""
    found = [info for info in rules.values() if info.package == package]
    return found[0] if len(found) == 1 else None


def apply_rollout(
    results: list[Result], rules: dict[str, RuleInfo], now: dt.datetime
) -> list[Result]:
    """Report the denials of rules not yet in force as warnings ("becomes blocking on …").

    A rule's METADATA may set ``custom.effective_from`` (a date, or an RFC 3339 time): a
    security team announces a rule without breaking every pipeline on the day it lands.
    Raises :class:`PolicyError` naming the METADATA block when the value is not a date.
    """
    staged: list[Result] = []
    for result in results:
        info = rules.get(result.id)
        start = effective_from(info) if info is not None else None
        if result.level != "deny" or start is None or start[0] <= now:
            staged.append(result)
            continue
        staged.append(
            result.model_copy(
                update={
                    "level": "warn",
                    "msg": f"{result.msg} (becomes blocking on {start[1]})",
                    "effective_from": start[1],
                }
            )
        )
    return staged


def effective_from(info: RuleInfo) -> tuple[dt.datetime, str] | None:
    value = info.custom.get("effective_from")
    if value is None:
        return None
    if isinstance(value, dt.datetime):  # YAML reads an unquoted time as a datetime
        moment = value if value.tzinfo else value.replace(tzinfo=dt.UTC)
        return moment, moment.isoformat().replace("+00:00", "Z")
    if isinstance(value, dt.date):
        return dt.datetime.combine(value, dt.time(), tzinfo=dt.UTC), value.isoformat()
    text = str(value).strip()
    try:
        if len(text) == 10:
            day = dt.date.fromisoformat(text)
            return dt.datetime.combine(day, dt.time(), tzinfo=dt.UTC), text
        moment = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise PolicyError(
            f"rule {info.id}: custom.effective_from {text!r} is not a date (YYYY-MM-DD)",
            where=f"{info.path}:{info.line}",
        ) from None
    return (moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)), text


def _result_order(result: Result) -> tuple[int, str, str, str]:
    return (-SEVERITY_ORDER.index(result.severity), result.id, result.msg, result.package)


def relaxed_rules(
    rules: Iterable[str],
    stages: dict[str, Any],
    layers: Sequence[tuple[str, dict[str, Any]]],
    stage: str,
) -> list[RelaxedRule]:
    """The rules that ``stages`` (``gate_config.stages``, merged) keep from blocking in ``stage``.

    ``rules`` are the ids the policies declare; ids the stage's actions name are added. An
    action is read as the bundled library reads it: only "warn" and "off" relax a rule, a
    missing or unknown action blocks. ``layers`` (path, stages) name the file that set it.
    """
    actions = _stage_section(stages, stage, "actions")
    return [
        RelaxedRule(id=rule_id, action=action, set_by=_set_by(layers, stage, "actions", rule_id))
        for rule_id in sorted({*rules, *actions})
        if (action := actions.get(rule_id)) in ("warn", "off")
    ]


def overridden_settings(
    stages: dict[str, Any], layers: Sequence[tuple[str, dict[str, Any]]], stage: str
) -> list[SettingOverride]:
    """The stage's settings whose value comes from a data file other than the bundled pack's.

    Settings tune rules (ages, thresholds, ``require_vulnerability_scan``): a file that
    loosens them is as much a relaxation as one that turns a rule off, so each such value
    is reported, whichever way it points.
    """
    settings = _stage_section(stages, stage, "settings")
    overrides = []
    for name in sorted(settings):
        set_by = _set_by(layers, stage, "settings", name)
        if not is_bundled(set_by):
            overrides.append(SettingOverride(name=name, value=settings[name], set_by=set_by))
    return overrides


def _stage_section(stages: dict[str, Any], stage: str, section: str) -> dict[str, Any]:
    config = stages.get(stage)
    found = config.get(section) if isinstance(config, dict) else None
    return found if isinstance(found, dict) else {}


def _set_by(
    layers: Sequence[tuple[str, dict[str, Any]]], stage: str, section: str, key: str
) -> str | None:
    """The last data file (of ``layers``) to set ``stages[stage][section][key]``."""
    setter = None
    for path, layer in layers:
        if key in _stage_section(layer, stage, section):
            setter = path
    return setter


def rule_summaries(rules: dict[str, RuleInfo], actions: dict[str, Any]) -> list[RuleSummary]:
    """Every rule with its action at the stage (``actions``: the stage's; missing: deny)."""
    summaries = []
    for rule_id, info in sorted(rules.items()):
        action = actions.get(rule_id) if isinstance(actions, dict) else None
        severity = info.severity if info.severity in SEVERITY_ORDER else None
        summaries.append(
            RuleSummary(
                id=rule_id,
                title=info.title,
                description=info.description,
                remediation=info.remediation,
                severity=severity,
                action=action if action in ("deny", "warn", "off") else "deny",
                package=info.package,
                file=info.path,
                line=info.line,
            )
        )
    return summaries
