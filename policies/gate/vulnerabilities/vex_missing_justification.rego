# METADATA
# scope: package
# title: VEX not_affected without a justification
# description: >-
#   A VEX statement that says "not_affected" must say why: OpenVEX requires a justification
#   (e.g. vulnerable_code_not_in_execute_path) or an impact statement. A statement with
#   neither is an unsupported claim, so it does NOT suppress the vulnerability - it still
#   counts for vuln-fixable-critical, vuln-fixable-high and vuln-unfixed-critical-aged - and
#   this rule reports it, one result per vulnerability those rules weigh (every critical,
#   the fixable highs; the others block nothing either way). An impact statement alone is
#   enough (OpenVEX allows it) and gives no result. Any non-blank justification is
#   accepted: OpenVEX, CycloneDX and CSAF each have their own vocabulary.
# custom:
#   id: vex-missing-justification
#   severity: medium
#   remediation: >-
#     Add a justification (OpenVEX: component_not_present, vulnerable_code_not_present,
#     vulnerable_code_not_in_execute_path, vulnerable_code_cannot_be_controlled_by_adversary,
#     inline_mitigations_already_exist) or an impact statement to the VEX statement.
package gate.vulnerabilities.vex_missing_justification

import data.lib.gate as lib
import rego.v1

rule_id := "vex-missing-justification"

findings contains lib.result(rule_id, msg, "medium", remediation, finding) if {
	some v in data.lib.gate.vex_unsupported
	finding := lib.vex_finding(v)
	source := lib.text_or(v.vex, "input", "an unnamed VEX input")
	msg := sprintf("%s in %s still counts: the VEX not_affected statement in %s gives no justification or impact statement", [
		v.id, lib.package_label(v), source,
	])
	remediation := sprintf("Add a justification (e.g. vulnerable_code_not_in_execute_path) or an impact statement to the statement about %s in %s, or fix the vulnerability.", [
		v.id, source,
	])
}

deny contains f if {
	lib.action(rule_id) == "deny"
	some f in findings
}

warn contains f if {
	lib.action(rule_id) == "warn"
	some f in findings
}
