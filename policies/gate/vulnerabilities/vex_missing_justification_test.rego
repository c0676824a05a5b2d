package gate.vulnerabilities.vex_missing_justification_test

import data.gate.vulnerabilities.fixable_critical
import data.gate.vulnerabilities.vex_missing_justification as rule
import data.lib.fixtures_test as fx
import rego.v1

openssl := fx.vulnerability("CVE-2024-0001", "critical", "openssl", "3.0.11-1", ["3.0.13-1"])

unjustified := fx.with_vex(openssl, fx.vex("not_affected", null))

test_unjustified_not_affected_warns_and_still_counts if {
	d := fx.with_vulnerabilities([unjustified])
	found := rule.warn with input as d with data.gate_config as fx.config
	count(found) == 1
	some r in found
	r.id == "vex-missing-justification"
	r.severity == "medium"
	r.msg == "CVE-2024-0001 in openssl 3.0.11-1 still counts: the VEX not_affected statement in vex.openvex.json gives no justification or impact statement"
	r.finding.id == "CVE-2024-0001"
	r.finding.vex == {"status": "not_affected", "justification": null, "input": "vex.openvex.json"}
	# The vulnerability still blocks.
	count(fixable_critical.deny) == 1 with input as d with data.gate_config as fx.config
}

test_warns_in_every_stage if {
	d := fx.with_vulnerabilities([unjustified])
	every stage in ["dev", "staging", "prod"] {
		count(rule.warn) == 1 with input as fx.in_stage(d, stage) with data.gate_config as fx.config
		count(rule.deny) == 0 with input as fx.in_stage(d, stage) with data.gate_config as fx.config
	}
}

test_deny_when_configured if {
	cfg := fx.config_with("staging", {"vex-missing-justification": "deny"}, {})
	d := fx.in_stage(fx.with_vulnerabilities([unjustified]), "staging")
	count(rule.deny) == 1 with input as d with data.gate_config as cfg
	count(rule.warn) == 0 with input as d with data.gate_config as cfg
}

test_blank_reasons_count_as_missing if {
	v := fx.with_vex(openssl, object.union(fx.vex("not_affected", " "), {"impact_statement": ""}))
	count(rule.findings) == 1 with input as fx.with_vulnerabilities([v]) with data.gate_config as fx.config
}

test_a_reason_or_another_status_gives_no_result if {
	vs := [
		fx.with_vex(openssl, fx.vex("not_affected", "vulnerable_code_not_present")),
		fx.with_vex(object.union(openssl, {"id": "CVE-1"}), object.union(fx.vex("not_affected", null), {"impact_statement": "not reachable"})),
		fx.with_vex(object.union(openssl, {"id": "CVE-2"}), fx.vex("affected", null)),
		fx.with_vex(object.union(openssl, {"id": "CVE-3"}), fx.vex("fixed", null)),
		fx.with_vex(object.union(openssl, {"id": "CVE-4", "severity": "medium"}), fx.vex("not_affected", null)),
		object.union(openssl, {"id": "CVE-5", "vex": {"status": "not_affected"}}),
	]
	found := rule.findings with input as fx.with_vulnerabilities(vs) with data.gate_config as fx.config
	fx.ids(found) == {"CVE-5"}
}
