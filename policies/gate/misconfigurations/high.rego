# METADATA
# scope: package
# title: High and critical misconfigurations
# description: >-
#   A failed configuration check (Dockerfile, Kubernetes manifest, IaC) whose severity is in
#   the stage's misconfiguration_severities (by default high and critical) must be fixed
#   before promotion; dev only warns so that work in progress can be scanned.
# custom:
#   id: misconfig-high
#   severity: high
#   remediation: Fix the configuration as the check's resolution describes.
package gate.misconfigurations.high

import data.lib.gate as lib
import rego.v1

rule_id := "misconfig-high"

findings contains lib.result(rule_id, msg, severity, remediation, finding) if {
	wanted := {lower(w) | some w in lib.setting("misconfiguration_severities"); is_string(w)}
	m := input.misconfigurations[_]
	is_object(m)
	check := lib.text_or(m, "id", "unknown-check")
	not _passed(m)
	severity := lib.severity_of(m)
	severity in wanted
	target := lib.text_or(m, "target", null)
	finding := {"kind": "misconfiguration", "id": check, "target": target}
	msg := sprintf("%s (%s) failed in %s%s: %s", [
		check, severity, lib.str_or(target, "an unknown target"), _at_line(m),
		lib.text_or(m, "message", lib.text_or(m, "title", "no details given")),
	])
	remediation := lib.text_or(m, "resolution", "Fix the configuration as the check's documentation describes, then rescan.")
}

# Only failures are recorded, but a hand-written document might carry passes.
_passed(m) if {
	is_string(m.status)
	lower(m.status) in {"pass", "passed", "exception", "skipped"}
}

_at_line(m) := sprintf(" at line %v", [m.start_line]) if is_number(m.start_line) else := ""

deny contains f if {
	lib.action(rule_id) == "deny"
	some f in findings
}

warn contains f if {
	lib.action(rule_id) == "warn"
	some f in findings
}
