"""Run the default policy pack's Rego unit tests, and check the pack against its contract.

The Rego tests are discovered and run by gate's own test runner (:mod:`gate.policytest`, the
code behind ``gate policy test``): every ``policies/**/*.rego`` file (tests included) and
``policies/data.json`` are compiled once, and each ``test_*`` rule becomes one pytest case
(``<package>.<test>``) run on a clone of that engine. The other tests check what the Python
core relies on: the ``# METADATA`` blocks, data.json's coverage of every rule id, failing
closed, the stage differences of a realistic document, and that the Rego tests can fail at all.
"""

from __future__ import annotations

import copy
import json
import random
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from gate.engines.regorus import first_value
from gate.policy import PolicyModule
from gate.policytest import RegoTest, compile_policies, load_suite, run_test

ROOT = Path(__file__).resolve().parent.parent
POLICIES = ROOT / "policies"
DATA_JSON = POLICIES / "data.json"
SAMPLE = ROOT / "fixtures" / "documents" / "sample.json"

ALL_REGO = sorted(POLICIES.rglob("*.rego"))
TEST_FILES = [p for p in ALL_REGO if p.name.endswith("_test.rego")]
POLICY_FILES = [p for p in ALL_REGO if not p.name.endswith("_test.rego")]
RULE_FILES = [p for p in POLICY_FILES if (POLICIES / "gate") in p.parents]
LIB_FILES = [p for p in POLICY_FILES if (POLICIES / "lib") in p.parents]
DATA = json.loads(DATA_JSON.read_text(encoding="utf-8"))


def _rel(path: Path) -> str:
    return path.relative_to(ROOT).as_posix()


def _engine(files: list[Path], *, data: bool = True, replace: dict[Path, str] | None = None) -> Any:
    """Return a compiled engine with the given policy files (and data.json) loaded;
    ``replace`` gives some files another text (mutation tests)."""
    texts = replace or {}
    modules = [
        PolicyModule(_rel(p), texts[p] if p in texts else p.read_text(encoding="utf-8"))
        for p in files
    ]
    return compile_policies(modules, DATA if data else {})


def _value(engine: Any, query: str) -> Any:
    """Evaluate query and return its single value (None when undefined)."""
    return first_value(engine.eval_query_as_json(query))


# ---------------------------------------------------------------------------------------
# The Rego tests, discovered and run by gate.policytest (`gate policy test`)
# ---------------------------------------------------------------------------------------

SUITE = load_suite([POLICIES], shown_as={str(POLICIES): _rel(POLICIES)})
REGO_TESTS = SUITE.tests


def _failing(engine: Any, package: str) -> list[str]:
    """Names of the tests of ``package`` that do not pass on ``engine``."""
    tests = [t for t in REGO_TESTS if t.package == package]
    assert tests, f"no tests in {package}"
    return [t.name for t in tests if run_test(engine, t)[0].outcome != "pass"]


@pytest.fixture(scope="module")
def rego_engine() -> Any:
    """One engine with every policy, every test and data.json loaded."""
    return SUITE.engine.clone()


def test_rego_tests_were_discovered() -> None:
    """Every rule package has a test file, and discovery found tests in each of them."""
    packages_with_tests = {test.package for test in REGO_TESTS}
    for path in RULE_FILES:
        package = _package_of(path)
        assert f"{package}_test" in packages_with_tests, f"{_rel(path)} has no tests"
        assert path.with_name(path.stem + "_test.rego").exists(), f"{_rel(path)} has no _test.rego"
    assert len(REGO_TESTS) >= 3 * len(RULE_FILES)
    # gate check loads no *_test.rego: a test rule anywhere else would end up in data.gate.
    assert all(test.file.endswith("_test.rego") for test in REGO_TESTS)


@pytest.mark.parametrize("test", REGO_TESTS, ids=[test.id for test in REGO_TESTS])
def test_rego(test: RegoTest) -> None:
    """One Rego unit test: its rule must evaluate to true."""
    result, _ = run_test(SUITE.engine, test)
    assert result.outcome == "pass", "\n".join([result.describe(), *result.prints])


# ---------------------------------------------------------------------------------------
# METADATA blocks and data.json
# ---------------------------------------------------------------------------------------

_PACKAGE = re.compile(r"^package\s+([\w.]+)\s*$", re.MULTILINE)


def _package_of(path: Path) -> str:
    match = _PACKAGE.search(path.read_text(encoding="utf-8"))
    assert match, f"{_rel(path)} has no package line"
    return match.group(1)


def _metadata(path: Path) -> dict[str, Any]:
    """Parse the ``# METADATA`` comment block that precedes the package line."""
    lines = path.read_text(encoding="utf-8").splitlines()
    assert lines and lines[0].strip() == "# METADATA", f"{_rel(path)}: must start with # METADATA"
    body: list[str] = []
    for line in lines[1:]:
        if not line.startswith("#"):
            break
        body.append(line[2:] if line.startswith("# ") else line[1:])
    meta = yaml.safe_load("\n".join(body))
    assert isinstance(meta, dict), f"{_rel(path)}: METADATA is not a YAML mapping"
    return meta


def _rule_metadata() -> dict[str, tuple[Path, dict[str, Any]]]:
    """Return {custom.id: (file, metadata)} over every rule file."""
    out: dict[str, tuple[Path, dict[str, Any]]] = {}
    for path in RULE_FILES:
        meta = _metadata(path)
        rule_id = meta["custom"]["id"]
        assert rule_id not in out, f"{_rel(path)}: id {rule_id} also in {_rel(out[rule_id][0])}"
        out[rule_id] = (path, meta)
    return out


SEVERITIES = {"critical", "high", "medium", "low", "negligible", "unknown"}


@pytest.mark.parametrize("path", RULE_FILES, ids=[_rel(p) for p in RULE_FILES])
def test_rule_file_metadata(path: Path) -> None:
    """A METADATA block with title, description, custom.id/severity/remediation; the id is
    the one the rule emits; the package is under gate. and holds a deny and a warn rule."""
    meta = _metadata(path)
    text = path.read_text(encoding="utf-8")
    for key in ("title", "description"):
        assert isinstance(meta.get(key), str) and meta[key].strip(), f"{_rel(path)}: no {key}"
    custom = meta.get("custom")
    assert isinstance(custom, dict), f"{_rel(path)}: no custom section"
    assert re.fullmatch(r"[a-z]+(-[a-z]+)+", str(custom.get("id"))), f"{_rel(path)}: bad id"
    assert custom.get("severity") in SEVERITIES, f"{_rel(path)}: bad severity"
    assert isinstance(custom.get("remediation"), str), f"{_rel(path)}: no remediation"
    assert meta.get("scope", "package") == "package"
    assert f'rule_id := "{custom["id"]}"' in text, f"{_rel(path)}: rule_id differs from custom.id"
    assert _package_of(path).startswith("gate.")
    assert re.search(r"^deny contains ", text, re.MULTILINE), f"{_rel(path)}: no deny rule"
    assert re.search(r"^warn contains ", text, re.MULTILINE), f"{_rel(path)}: no warn rule"


def test_rule_ids_are_unique_and_packages_distinct() -> None:
    meta = _rule_metadata()  # asserts uniqueness of ids
    packages = [_package_of(p) for p in RULE_FILES]
    assert len(set(packages)) == len(packages) == len(meta)


def test_every_rule_id_has_an_action_in_every_stage() -> None:
    """data.json spells out every rule's action in every stage (security teams read it)."""
    config = json.loads(DATA_JSON.read_text(encoding="utf-8"))["gate_config"]
    rule_ids = set(_rule_metadata())
    assert config["stage_order"] and set(config["stage_order"]) == set(config["stages"])
    for stage, spec in config["stages"].items():
        actions = spec["actions"]
        assert set(actions) == rule_ids, f"data.json stage {stage}: {set(actions) ^ rule_ids}"
        assert set(actions.values()) <= {"deny", "warn", "off"}, f"stage {stage}"


def test_readme_catalogue_matches_metadata_and_data() -> None:
    """The rule catalogue in policies/README.md is what METADATA and data.json say."""
    config = json.loads(DATA_JSON.read_text(encoding="utf-8"))["gate_config"]
    readme = (POLICIES / "README.md").read_text(encoding="utf-8")
    rows = re.findall(
        r"^\| `([a-z-]+)` \| (.+?) \| (\w+) \| (\w+) \| (\w+) \| (\w+) \|$", readme, re.M
    )
    catalogue = {row[0]: row[1:] for row in rows}
    meta = _rule_metadata()
    assert set(catalogue) == set(meta)
    for rule_id, (title, severity, *actions) in catalogue.items():
        assert title == meta[rule_id][1]["title"], rule_id
        assert severity == meta[rule_id][1]["custom"]["severity"], rule_id
        expected = [config["stages"][stage]["actions"][rule_id] for stage in config["stage_order"]]
        assert actions == expected, rule_id


def test_lib_lives_outside_gate_and_defines_no_deny_or_warn() -> None:
    """The core collects every deny/warn under data.gate: helpers must not live there."""
    for path in LIB_FILES + TEST_FILES:
        text = path.read_text(encoding="utf-8")
        assert not re.search(r"^(deny|warn)\b", text, re.MULTILINE), _rel(path)
    for path in LIB_FILES:
        assert not _package_of(path).startswith("gate"), _rel(path)


def test_settings_used_by_rules_have_strict_defaults() -> None:
    """lib.setting(name) falls back to lib.default_settings[name]; a name missing there would
    make the setting undefined and silently switch a rule off."""
    engine = _engine(LIB_FILES)
    defaults = engine.eval_rule("data.lib.gate.default_settings")
    used = {
        name
        for path in RULE_FILES
        for name in re.findall(r'lib\.setting\("(\w+)"\)', path.read_text(encoding="utf-8"))
    }
    assert used, "no settings found: the regex is stale"
    assert used <= set(defaults), used - set(defaults)
    config = json.loads(DATA_JSON.read_text(encoding="utf-8"))["gate_config"]
    for stage, spec in config["stages"].items():
        assert set(spec["settings"]) == set(defaults), f"data.json stage {stage} settings"


def test_lib_values_are_referenced_by_full_path() -> None:
    """regorus quirk: `lib.x` through `import data.lib.gate as lib`, for a rule x that is not
    a function, evaluates the WHOLE lib package (~0.5 s with 10,000 vulnerabilities).
    Functions are fine; values must be written data.lib.gate.x."""
    for path in RULE_FILES:
        text = path.read_text(encoding="utf-8")
        bad = [m for m in re.findall(r"(?<![\w.])lib\.(\w+)\b(?!\s*\()", text) if m != "gate"]
        assert not bad, f"{_rel(path)} uses lib values by alias: {sorted(set(bad))}"


def test_lib_fallback_lists_match_data_json() -> None:
    """Where the lib's fallback for a missing list is meant to be data.json's list (so that
    deleting it cannot switch a check off), the two are the same."""
    lists = _engine(LIB_FILES).eval_rule("data.lib.gate.default_lists")
    config = json.loads(DATA_JSON.read_text(encoding="utf-8"))["gate_config"]
    for name in ("forbidden_licenses", "copyleft_licenses", "trusted_builders", "required_labels"):
        assert lists[name] == config[name], name
    # The exemptions fall back to none: a missing list can only make the gate stricter.
    assert lists["copyleft_exceptions"] == lists["copyleft_exempt_package_types"] == []


FIXTURES_REGO = POLICIES / "lib" / "fixtures_test.rego"


def test_test_configuration_mirrors_data_json() -> None:
    """lib/fixtures_test.rego's configuration spells out every rule, with data.json's
    default actions: a rule missing there would be tested under a fail-closed "deny"."""
    engine = _engine([*LIB_FILES, FIXTURES_REGO], data=False)
    test_config = engine.eval_rule("data.lib.fixtures_test.config")
    rule_ids = engine.eval_rule("data.lib.fixtures_test.rule_ids")
    config = json.loads(DATA_JSON.read_text(encoding="utf-8"))["gate_config"]
    assert sorted(rule_ids) == sorted(_rule_metadata())
    for stage, spec in config["stages"].items():
        assert test_config["stages"][stage]["actions"] == spec["actions"], stage


@pytest.mark.parametrize("stage", ["dev", "staging", "prod"])
def test_clean_test_document_passes_every_rule(stage: str) -> None:
    """The Rego tests' clean document (lib/fixtures_test.rego `doc`) gives no result in any
    stage: each rule test changes one thing and looks at one rule, which is only sound if
    nothing else in the document is reported."""
    engine = _engine([*POLICY_FILES, FIXTURES_REGO], data=False)
    fx = "data.lib.fixtures_test"
    query = (
        f'data.gate with input as {fx}.in_stage({fx}.doc, "{stage}")'
        f" with data.gate_config as {fx}.config"
    )
    assert _collect(_value(engine, query)) == {"deny": set(), "warn": set()}


def _spdx_reference(expression: str, marked: set[str]) -> bool:
    """Independent reading of an SPDX expression (recursive descent): every way of
    complying with it involves a licence in ``marked``. OR is a choice, AND binds tighter."""
    tokens: list[str] = re.findall(r"\(|\)|[^\s()]+", expression)
    position = 0

    def peek() -> str | None:
        return tokens[position] if position < len(tokens) else None

    def take() -> str:
        nonlocal position
        position += 1
        return tokens[position - 1]

    def disjunction() -> bool:
        value = conjunction()
        while (peek() or "").upper() == "OR":
            take()
            value = conjunction() and value
        return value

    def conjunction() -> bool:
        value = atom()
        while (peek() or "").upper() == "AND":
            take()
            value = atom() or value
        return value

    def atom() -> bool:
        if take() == "(":
            value = disjunction()
            assert take() == ")"
            return value
        licence = tokens[position - 1]
        if (peek() or "").upper() == "WITH":
            take(), take()
        return licence in marked

    result = disjunction()
    assert position == len(tokens)
    return result


def _random_expression(rng: random.Random, depth: int) -> str:
    """A random expression over licences G* (marked) and M* (not), operators in any case,
    nested groups, and flat chains that mix AND and OR (precedence matters there)."""
    if depth == 0 or rng.random() < 0.25:
        licence = f"{rng.choice('GM')}{rng.randrange(100)}"
        return f"{licence} WITH X-exception" if rng.random() < 0.1 else licence
    parts = [_random_expression(rng, depth - 1) for _ in range(rng.randint(2, 4))]
    parts = [f"({p})" if " " in p and rng.random() < 0.7 else p for p in parts]
    text = parts[0]
    for part in parts[1:]:
        text += f" {rng.choice(['AND', 'OR', 'and', 'or'])} {part}"
    return text


def test_spdx_evaluation_matches_a_reference_parser() -> None:
    """lib.spdx_unavoidable (regex rewriting, no recursion in Rego) against a recursive
    descent parser, over 400 random expressions up to four levels deep."""
    engine = _engine(LIB_FILES, data=False)
    rng = random.Random(20250601)
    checked = 0
    for _ in range(400):
        expression = _random_expression(rng, rng.randint(1, 4))
        marked = {t for t in re.findall(r"[GM]\d+", expression) if t.startswith("G")}
        engine.set_input({"expression": expression, "marked": sorted(marked)})
        query = (
            "p := data.lib.gate.spdx_parse(input.expression); "
            "x := data.lib.gate.spdx_unavoidable(p, {t | some t in p.terms; t[0] in input.marked})"
        )
        result = json.loads(engine.eval_query_as_json(query)).get("result") or []
        assert result, f"undefined for {expression!r}"
        expected = _spdx_reference(expression, marked)
        assert result[0]["bindings"]["x"] is expected, expression
        checked += 1
    assert checked == 400


# ---------------------------------------------------------------------------------------
# Fail closed
# ---------------------------------------------------------------------------------------


def _eval_with_config(query: str, config: Any, stage: str | None) -> Any:
    engine = _engine(LIB_FILES, data=False)
    if config is not None:
        engine.add_data({"gate_config": config})
    context: dict[str, Any] = {"evaluated_at": "2025-06-01T12:00:00Z"}
    if stage is not None:
        context["stage"] = stage
    engine.set_input({"context": context})
    return _value(engine, query)


def test_fail_closed_when_stage_missing_from_data() -> None:
    """A stage data.json does not know, a rule it does not list, a bogus action, a missing
    gate_config: all make lib.action "deny"; settings fall back to the strict defaults."""
    config = json.loads(DATA_JSON.read_text(encoding="utf-8"))["gate_config"]
    assert _eval_with_config('data.lib.gate.action("scan-stale")', config, "dev") == "off"
    without_dev = copy.deepcopy(config)
    del without_dev["stages"]["dev"]
    assert _eval_with_config('data.lib.gate.action("scan-stale")', without_dev, "dev") == "deny"
    assert (
        _eval_with_config('data.lib.gate.setting("max_scan_age_hours")', without_dev, "dev") == 24
    )
    assert _eval_with_config('data.lib.gate.action("no-such-rule")', config, "dev") == "deny"
    bogus = copy.deepcopy(config)
    bogus["stages"]["dev"]["actions"]["scan-stale"] = "Warn"
    assert _eval_with_config('data.lib.gate.action("scan-stale")', bogus, "dev") == "deny"
    assert _eval_with_config('data.lib.gate.action("scan-stale")', None, "dev") == "deny"
    # No --stage: the strictest (last) stage of stage_order.
    assert _eval_with_config("data.lib.gate.stage", config, None) == "prod"


# ---------------------------------------------------------------------------------------
# The whole pack over a realistic document
# ---------------------------------------------------------------------------------------


class _Result(dict[str, Any]):
    """A deny/warn result, hashable by its JSON text so that results can be put in sets."""

    def __hash__(self) -> int:  # type: ignore[override]
        return hash(json.dumps(self, sort_keys=True))


def _collect(tree: Any) -> dict[str, set[_Result]]:
    """Every deny and warn result at any depth of a data.gate tree, as the core collects them."""
    found: dict[str, set[_Result]] = {"deny": set(), "warn": set()}

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                if key in found:
                    for result in value:
                        assert set(result) == {"id", "msg", "severity", "remediation", "finding"}
                        assert result["severity"] in SEVERITIES
                        found[key].add(_Result(result))
                else:
                    walk(value)

    walk(tree)
    return found


def _results(document: dict[str, Any], stage: str) -> dict[str, set[_Result]]:
    """Evaluate data.gate as the core does; return {"deny": {results}, "warn": {results}}."""
    engine = _engine(POLICY_FILES)
    document = copy.deepcopy(document)
    document["context"]["stage"] = stage
    engine.set_input_json(json.dumps(document))
    return _collect(_value(engine, "data.gate"))


def _decisions(document: dict[str, Any], stage: str) -> dict[str, set[str]]:
    """Evaluate data.gate as the core does; return {"deny": {ids}, "warn": {ids}}."""
    return {key: {r["id"] for r in results} for key, results in _results(document, stage).items()}


@pytest.fixture(scope="module")
def sample() -> dict[str, Any]:
    """The realistic document of fixtures/documents/sample.json (stage set per test)."""
    document: dict[str, Any] = json.loads(SAMPLE.read_text(encoding="utf-8"))
    return document


def test_sample_document_is_valid_against_the_document_model(sample: dict[str, Any]) -> None:
    from gate.document import Document

    Document.model_validate(sample)


def test_sample_document_stage_differences(sample: dict[str, Any]) -> None:
    dev = _decisions(sample, "dev")
    staging = _decisions(sample, "staging")
    prod = _decisions(sample, "prod")
    everywhere = {  # warnings in every stage
        "vuln-unfixed-critical-aged",
        "image-healthcheck-missing",
        "vex-not-blocking",
        "vex-missing-justification",
        "provenance-builder-untrusted",
    }
    assert dev == {
        "deny": {"vuln-fixable-critical", "secret-found"},
        "warn": everywhere
        | {
            "vuln-fixable-high",
            "misconfig-high",
            "license-forbidden",
            "image-root-user",
            "image-labels-required",
            "image-too-old",
            "image-base-unapproved",
            "image-env-secret",
            "evidence-not-about-image",
        },
    }
    assert prod == {
        "deny": {
            "vuln-fixable-critical",
            "vuln-fixable-high",
            "secret-found",
            "misconfig-high",
            "license-forbidden",
            "license-copyleft",
            "image-root-user",
            "image-tag-latest",
            "image-labels-required",
            "image-too-old",
            "image-base-unapproved",
            "image-env-secret",
            "evidence-not-about-image",
            "scan-stale",
            "signature-required",
        },
        # A check of files with no earlier verdict: the missing one is only a warning.
        "warn": everywhere | {"scan-stale", "promotion-order"},
    }
    # staging: what prod blocks, staging mostly blocks too; its scan, copyleft and signature
    # checks warn.
    relaxed_in_staging = {"scan-stale", "license-copyleft", "signature-required"}
    assert staging["deny"] == prod["deny"] - relaxed_in_staging
    assert staging["warn"] == everywhere | relaxed_in_staging | {"promotion-order"}


def test_sample_document_vex_and_supply_chain(sample: dict[str, Any]) -> None:
    """The sample's VEX statements: the justified one takes CVE-2024-0727 out of the
    vulnerability rules, the unjustified one leaves CVE-2024-5535 blocking. Its SBOM input
    satisfies sbom-required and its provenance (of this image) provenance-required."""
    found = _results(sample, "prod")
    ids = {(r["id"], r["finding"].get("id")) for r in found["deny"] | found["warn"]}
    assert ("vex-not-blocking", "CVE-2024-0727") in ids
    assert not any(f == "CVE-2024-0727" for rule, f in ids if rule.startswith("vuln-"))
    assert ("vex-missing-justification", "CVE-2024-5535") in ids
    assert ("vuln-fixable-critical", "CVE-2024-5535") in ids
    copyleft = {r["finding"]["package"] for r in found["deny"] if r["id"] == "license-copyleft"}
    assert copyleft == {"mariadb", "ghostscript"}  # bash is a deb, node-forge a choice
    assert not {"sbom-required", "provenance-required"} & {rule for rule, _ in ids}
    document = copy.deepcopy(sample)
    document["attestations"][0]["matches_subject"] = None
    assert "provenance-required" in _decisions(document, "prod")["deny"]


def _promoted(document: dict[str, Any], verdicts: list[dict[str, Any]]) -> dict[str, Any]:
    """``document`` as `gate promote` builds it: enforced, one trusted key, these verdicts
    (validated by the document model, so that the rules are tested on what the core sends)."""
    from gate.document import Document

    promoted = copy.deepcopy(document)
    promoted["promotion"] = {"enforced": True, "trust_keys": 1, "verdicts": verdicts}
    Document.model_validate(promoted)
    return promoted


def _staging_verdict(digest: str, **changes: Any) -> dict[str, Any]:
    verdict = {
        "input": "registry://registry.example.com/shop/web@sha256:ab",
        "stage": "staging",
        "decision": "pass",
        "evaluated_at": "2025-05-31T12:00:00Z",
        "policy_digest": None,
        "subject_digests": [digest],
        "about_subject": True,
        "signature": "verified",
        "signer": "sha256:" + "6" * 64,
        "signature_reason": "verified with the trusted key gate.pub",
    }
    return {**verdict, **changes}


def test_sample_document_promoted_needs_a_signed_passing_verdict_of_staging(
    sample: dict[str, Any],
) -> None:
    """As a promotion, the missing staging verdict blocks prod (a plain check only warns);
    a signed passing one of this digest lifts it, one signed by an untrusted key does not."""
    digest = sample["subject"]["digest"]
    assert "promotion-order" in _decisions(_promoted(sample, []), "prod")["deny"]
    assert "promotion-order" in _decisions(_promoted(sample, []), "staging")["deny"]
    passed = _promoted(sample, [_staging_verdict(digest)])
    assert "promotion-order" not in set().union(*_decisions(passed, "prod").values())
    untrusted = _promoted(sample, [_staging_verdict(digest, signature="untrusted")])
    [result] = [r for r in _results(untrusted, "prod")["deny"] if r["id"] == "promotion-order"]
    assert "signed by an untrusted key (sha256:666666666666…)" in result["msg"]


def test_empty_document_fails_closed() -> None:
    """A document that says nothing passes nowhere strict: no scan, no tag, no metadata."""
    empty = {"context": {"stage": "prod", "evaluated_at": "2025-06-01T12:00:00Z"}}
    assert _decisions(empty, "prod") == {
        "deny": {
            "scan-required",
            "image-tag-latest",
            "sbom-required",
            "provenance-required",
            "signature-required",
        },
        "warn": {"image-metadata-missing", "promotion-order"},
    }
    assert _decisions(empty, "dev") == {"deny": set(), "warn": {"image-metadata-missing"}}


def test_env_values_never_reach_the_output(sample: dict[str, Any]) -> None:
    """Everything under data.gate is returned to the core (and may be printed): the value of
    a secret-looking environment variable must not appear anywhere in it."""
    engine = _engine(POLICY_FILES)
    engine.set_input_json(json.dumps(sample))
    output = engine.eval_query_as_json("data.gate")
    assert "DB_PASSWORD" in output
    assert sample["image"]["env"]["DB_PASSWORD"] not in output


def test_sample_document_tag_convention_in_prod(sample: dict[str, Any]) -> None:
    """With a tag that is neither latest nor conventional, prod denies, staging warns."""
    document = copy.deepcopy(sample)
    document["subject"]["tag"] = "nightly"
    assert "image-tag-convention" in _decisions(document, "prod")["deny"]
    assert "image-tag-convention" in _decisions(document, "staging")["warn"]
    assert "image-tag-convention" not in set().union(*_decisions(document, "dev").values())


# ---------------------------------------------------------------------------------------
# Mutation check: the Rego tests can fail
# ---------------------------------------------------------------------------------------


def test_rego_tests_detect_a_broken_rule() -> None:
    """Break the root-user rule (treat every user as non-root) and its tests must fail;
    repair it and they pass again. Proves the harness does not pass vacuously."""
    path = POLICIES / "gate" / "image" / "root_user.rego"
    text = path.read_text(encoding="utf-8")
    broken = text.replace('in {"root", "0"}', 'in {"nobody-is-root"}')
    assert broken != text, "mutation target not found in root_user.rego"
    package = "gate.image.root_user_test"
    mutated = _engine(ALL_REGO, replace={path: broken})
    assert _failing(mutated, package), "no root-user test noticed that root:root is no longer root"
    assert _failing(SUITE.engine, package) == []


def test_rego_test_fails_on_wrong_input(rego_engine: Any) -> None:
    """Evaluated over a vulnerability that has no fix (a `with` override of the test's own
    fixture), a Rego test that expects a deny must be false; the same query without the
    override is true. The test asserts its result, it does not merely run."""
    package = "data.gate.vulnerabilities.fixable_critical_test"
    test = f"{package}.test_fixable_critical_denied_with_specific_message"
    unfixed = (
        'data.lib.fixtures_test.vulnerability("CVE-2024-0001", "critical", "openssl",'
        ' "3.0.11-1", [])'
    )
    override = f" with {package}.openssl as {unfixed}"
    assert _value(rego_engine, test) is True
    assert _value(rego_engine, f"{package}.openssl.fixed_versions{override}") == []
    assert _value(rego_engine, test + override) is not True


_MUTATIONS = [(path, kind) for path in RULE_FILES for kind in ("deny", "warn")]


@pytest.mark.parametrize(
    ("path", "kind"), _MUTATIONS, ids=[f"{_rel(p)}:{k}" for p, k in _MUTATIONS]
)
def test_rego_tests_notice_a_silenced_deny_or_warn(path: Path, kind: str) -> None:
    """Silence a rule's deny (or warn) set and at least one of its Rego tests must fail:
    every rule's tests check both the blocking and the warning path."""
    text = path.read_text(encoding="utf-8")
    head = f"{kind} contains f if {{\n"
    assert head in text, f"{_rel(path)}: no '{head.strip()}'"
    engine = _engine(ALL_REGO, replace={path: text.replace(head, head + "\tfalse\n")})
    package = f"{_package_of(path)}_test"
    assert _failing(engine, package), (
        f"{_rel(path)}: no test in {package} fails when {kind} is always empty"
    )
