package gate.vulnerabilities.vex_not_blocking_test

import data.gate.vulnerabilities.fixable_high
import data.gate.vulnerabilities.vex_not_blocking as rule
import data.lib.fixtures_test as fx
import rego.v1

zlib := fx.vulnerability("CVE-2023-45853", "high", "zlib1g", "1:1.2.13.dfsg-1", ["1:1.2.13.dfsg-1+deb12u1"])

not_affected := fx.with_vex(zlib, fx.vex("not_affected", "vulnerable_code_not_in_execute_path"))

test_suppressed_vulnerability_warns_with_the_statement if {
	d := fx.with_vulnerabilities([not_affected])
	found := rule.warn with input as d with data.gate_config as fx.config
	count(found) == 1
	some r in found
	r.id == "vex-not-blocking"
	r.severity == "low"
	r.msg == "CVE-2023-45853 in zlib1g 1:1.2.13.dfsg-1 does not block: VEX not_affected (vulnerable_code_not_in_execute_path) from vex.openvex.json"
	r.finding == {
		"kind": "vulnerability", "id": "CVE-2023-45853", "aliases": [], "advisories": [], "package": "zlib1g",
		"version": "1:1.2.13.dfsg-1", "purl": "pkg:deb/debian/zlib1g@1:1.2.13.dfsg-1",
		"fixed_versions": ["1:1.2.13.dfsg-1+deb12u1"],
		"vex": {"status": "not_affected", "justification": "vulnerable_code_not_in_execute_path", "input": "vex.openvex.json"},
	}
	# ... and the vulnerability rule no longer reports it.
	count(fixable_high.findings) == 0 with input as d with data.gate_config as fx.config
}

test_warns_in_every_stage if {
	d := fx.with_vulnerabilities([not_affected])
	every stage in ["dev", "staging", "prod"] {
		count(rule.warn) == 1 with input as fx.in_stage(d, stage) with data.gate_config as fx.config
		count(rule.deny) == 0 with input as fx.in_stage(d, stage) with data.gate_config as fx.config
	}
}

test_deny_when_configured if {
	cfg := fx.config_with("prod", {"vex-not-blocking": "deny"}, {})
	d := fx.with_vulnerabilities([not_affected])
	count(rule.deny) == 1 with input as d with data.gate_config as cfg
	count(rule.warn) == 0 with input as d with data.gate_config as cfg
}

test_fixed_and_impact_statement_only_suppress if {
	fixed := fx.with_vex(fx.vulnerability("CVE-2024-0001", "critical", "openssl", "3.0.11-1", ["3.0.13-1"]), fx.vex("fixed", null))
	impact := fx.with_vex(
		fx.vulnerability("CVE-2024-0002", "critical", "glibc", "2.36-9", []),
		object.union(fx.vex("not_affected", null), {"impact_statement": "iconv() is never called"}),
	)
	found := rule.findings with input as fx.with_vulnerabilities([fixed, impact]) with data.gate_config as fx.config
	{r.msg | some r in found} == {
		"CVE-2024-0001 in openssl 3.0.11-1 does not block: VEX fixed from vex.openvex.json",
		"CVE-2024-0002 in glibc 2.36-9 does not block: VEX not_affected from vex.openvex.json",
	}
}

test_statements_that_do_not_suppress_give_no_result if {
	vs := [
		fx.with_vex(zlib, fx.vex("affected", null)),
		fx.with_vex(object.union(zlib, {"id": "CVE-1"}), fx.vex("under_investigation", null)),
		fx.with_vex(object.union(zlib, {"id": "CVE-2"}), fx.vex("not_affected", null)),
		fx.with_vex(object.union(zlib, {"id": "CVE-3"}), fx.vex("not_affected", "  ")),
		object.union(zlib, {"id": "CVE-4"}),
	]
	d := fx.with_vulnerabilities(vs)
	count(rule.findings) == 0 with input as d with data.gate_config as fx.config
	count(fixable_high.findings) == 5 with input as d with data.gate_config as fx.config
}

test_only_what_the_vulnerability_rules_weigh_is_listed if {
	statement := fx.vex("not_affected", "component_not_present")
	vs := [
		fx.with_vex(fx.vulnerability("CVE-2024-0003", "medium", "zlib1g", "1.2", ["1.3"]), statement),
		fx.with_vex(fx.vulnerability("CVE-2024-0004", "high", "zlib1g", "1.2", []), statement),
		fx.with_vex(fx.vulnerability("CVE-2024-0005", "critical", "zlib1g", "1.2", []), statement),
	]
	fx.ids(rule.findings) == {"CVE-2024-0005"} with input as fx.with_vulnerabilities(vs) with data.gate_config as fx.config
}

test_malformed_statements_do_not_crash_and_do_not_suppress if {
	vs := [
		object.union(zlib, {"id": "CVE-1", "vex": "not_affected"}),
		object.union(zlib, {"id": "CVE-2", "vex": {}}),
		object.union(zlib, {"id": "CVE-3", "vex": {"status": null, "justification": 42}}),
		object.union(zlib, {"id": "CVE-4", "vex": {"status": "not_affected", "justification": 42, "input": null}}),
		json.patch(not_affected, [{"op": "remove", "path": "/vex/input"}]),
	]
	d := fx.with_vulnerabilities(vs)
	found := rule.findings with input as d with data.gate_config as fx.config
	{r.msg | some r in found} == {"CVE-2023-45853 in zlib1g 1:1.2.13.dfsg-1 does not block: VEX not_affected (vulnerable_code_not_in_execute_path) from an unnamed VEX input"}
	count(fixable_high.findings) == 4 with input as d with data.gate_config as fx.config
}
