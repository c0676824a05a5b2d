package gate.secrets.found_test

import data.gate.secrets.found as rule
import data.lib.fixtures_test as fx
import rego.v1

aws := {
	"id": "aws-access-key-id", "category": "AWS", "severity": "critical",
	"title": "AWS Access Key ID", "target": "/app/.env", "start_line": 3, "end_line": 3,
	"match": "AWS_ACCESS_KEY_ID=********************", "layer": null,
	"sources": [{"tool": "trivy", "input": "trivy.json", "severity": "critical", "severity_source": null}],
}

with_secrets(ss) := object.union(fx.doc, {"secrets": ss})

test_secret_denied_with_finding_and_no_secret_text if {
	found_r := rule.deny with input as with_secrets([aws]) with data.gate_config as fx.config
	some r in found_r
	r.id == "secret-found"
	r.severity == "critical"
	r.finding == {"kind": "secret", "id": "aws-access-key-id", "target": "/app/.env", "line": 3}
	r.msg == "secret (AWS Access Key ID, critical) found in /app/.env at line 3"
	not contains(r.msg, "*")
}

test_denied_in_every_stage_including_dev if {
	every stage in ["dev", "staging", "prod"] {
		count(rule.deny) == 1 with input as fx.in_stage(with_secrets([aws]), stage) with data.gate_config as fx.config
	}
}

test_missing_fields_give_null_target_and_line if {
	s := {"id": "private-key", "severity": "high", "sources": []}
	found_r := rule.deny with input as with_secrets([s]) with data.gate_config as fx.config
	some r in found_r
	r.finding == {"kind": "secret", "id": "private-key", "target": null, "line": null}
	r.msg == "secret (private-key, high) found in an unknown file"
}

test_unknown_severity_is_reported_as_unknown if {
	s := object.union(aws, {"severity": "SEVERE"})
	found_r := rule.deny with input as with_secrets([s]) with data.gate_config as fx.config
	some r in found_r
	r.severity == "unknown"
}

test_no_secrets_no_result if {
	count(rule.findings) == 0 with input as fx.doc with data.gate_config as fx.config
	count(rule.findings) == 0 with input as with_secrets(null) with data.gate_config as fx.config
}

test_warn_when_configured if {
	cfg := fx.config_with("dev", {"secret-found": "warn"}, {})
	d := fx.in_stage(with_secrets([aws]), "dev")
	count(rule.warn) == 1 with input as d with data.gate_config as cfg
	count(rule.deny) == 0 with input as d with data.gate_config as cfg
}
