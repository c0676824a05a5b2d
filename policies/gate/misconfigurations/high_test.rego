package gate.misconfigurations.high_test

import data.gate.misconfigurations.high as rule
import data.lib.fixtures_test as fx
import rego.v1

misconfig(id, severity) := {
	"id": id, "aliases": [], "type": "dockerfile", "title": "Image user should not be 'root'",
	"description": null, "message": "Specify at least 1 USER command in Dockerfile",
	"severity": severity, "status": "fail", "resolution": "Add 'USER <non root user name>' line to the Dockerfile",
	"target": "Dockerfile", "start_line": 12, "urls": [], "sources": [],
}

with_misconfigs(ms) := object.union(fx.doc, {"misconfigurations": ms})

test_high_misconfiguration_denied_in_prod_warned_in_dev if {
	d := with_misconfigs([misconfig("DS002", "high")])
	found_r := rule.deny with input as d with data.gate_config as fx.config
	some r in found_r
	r.id == "misconfig-high"
	r.severity == "high"
	r.finding == {"kind": "misconfiguration", "id": "DS002", "target": "Dockerfile"}
	r.msg == "DS002 (high) failed in Dockerfile at line 12: Specify at least 1 USER command in Dockerfile"
	r.remediation == "Add 'USER <non root user name>' line to the Dockerfile"
	count(rule.warn) == 1 with input as fx.in_stage(d, "dev") with data.gate_config as fx.config
	count(rule.deny) == 0 with input as fx.in_stage(d, "dev") with data.gate_config as fx.config
}

test_only_configured_severities if {
	d := with_misconfigs([misconfig("DS001", "critical"), misconfig("DS002", "high"), misconfig("DS026", "low"), misconfig("DS005", "medium")])
	fx.ids(rule.findings) == {"DS001", "DS002"} with input as d with data.gate_config as fx.config
	cfg := fx.config_with("prod", {}, {"misconfiguration_severities": ["CRITICAL", "medium"]})
	fx.ids(rule.findings) == {"DS001", "DS005"} with input as d with data.gate_config as cfg
}

test_mistyped_severities_setting_falls_back_to_high_and_critical if {
	cfg := fx.config_with("prod", {}, {"misconfiguration_severities": "low"})
	d := with_misconfigs([misconfig("DS002", "high"), misconfig("DS026", "low")])
	fx.ids(rule.findings) == {"DS002"} with input as d with data.gate_config as cfg
}

test_passed_checks_are_ignored if {
	d := with_misconfigs([object.union(misconfig("DS002", "high"), {"status": "PASS"})])
	count(rule.findings) == 0 with input as d with data.gate_config as fx.config
}

test_null_fields_do_not_crash if {
	m := {"id": "AVD-KSV-0001", "severity": "critical", "target": null, "message": null, "title": null, "resolution": null, "start_line": null, "sources": []}
	found_r := rule.findings with input as with_misconfigs([m, null]) with data.gate_config as fx.config
	some r in found_r
	r.finding == {"kind": "misconfiguration", "id": "AVD-KSV-0001", "target": null}
	r.msg == "AVD-KSV-0001 (critical) failed in an unknown target: no details given"
}

test_check_without_id_is_still_reported if {
	m := object.remove(misconfig("DS002", "high"), ["id"])
	found := rule.deny with input as with_misconfigs([m]) with data.gate_config as fx.config
	fx.ids(found) == {"unknown-check"}
}
