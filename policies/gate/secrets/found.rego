# METADATA
# scope: package
# title: Secrets found in the image
# description: >-
#   A secret found by a scanner blocks promotion in every stage, dev included: image layers
#   are immutable, so a credential in any layer is readable by everyone who can pull the
#   image from any registry it was pushed to, and deleting the file in a later layer does
#   not remove it. A false positive (a test fixture, an example key) is handled by a waiver
#   for that rule and file, not by relaxing the stage.
# custom:
#   id: secret-found
#   severity: critical
#   remediation: >-
#     Revoke and rotate the credential, remove it from the build context (use build secrets
#     or runtime injection) and rebuild.
package gate.secrets.found

import data.lib.gate as lib
import rego.v1

rule_id := "secret-found"

remediation := "Revoke and rotate the credential now (it has been exposed to everyone who can pull the image), keep it out of the build context (.dockerignore, BuildKit secret mounts, runtime injection) and rebuild."

findings contains lib.result(rule_id, msg, lib.severity_of(s), remediation, finding) if {
	s := input.secrets[_]
	is_object(s)
	secret_rule := lib.text_or(s, "id", "unknown-rule")
	target := lib.text_or(s, "target", null)
	line := _line(s)
	finding := {"kind": "secret", "id": secret_rule, "target": target, "line": line}
	msg := sprintf("secret (%s, %s) found in %s%s", [
		lib.text_or(s, "title", secret_rule), lib.severity_of(s),
		lib.str_or(target, "an unknown file"), _at_line(line),
	])
}

_line(s) := s.start_line if is_number(s.start_line) else := null

_at_line(line) := sprintf(" at line %v", [line]) if is_number(line) else := ""

deny contains f if {
	lib.action(rule_id) == "deny"
	some f in findings
}

warn contains f if {
	lib.action(rule_id) == "warn"
	some f in findings
}
