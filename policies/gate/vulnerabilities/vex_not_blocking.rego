# METADATA
# scope: package
# title: Vulnerabilities a VEX statement keeps from blocking
# description: >-
#   Reports every vulnerability that a VEX statement takes out of vuln-fixable-critical,
#   vuln-fixable-high and vuln-unfixed-critical-aged, so that each suppression stays
#   visible and can be reviewed: the critical ones, and the high ones with a released fix.
#   A statement suppresses when its status is "fixed", or "not_affected" with a
#   justification or an impact statement (OpenVEX requires one of the two; see
#   vex-missing-justification). "affected" and "under_investigation" suppress nothing.
#   Other vulnerabilities (lower severities, unfixed highs) are not listed: no rule weighs
#   them, so a statement about them changes no verdict. Severity low, whatever the
#   vulnerability's: the result records a decision someone else made (a VEX claim is
#   trusted, not verified), not a risk, but it is worth a glance - a wrong claim hides a
#   real vulnerability.
# custom:
#   id: vex-not-blocking
#   severity: low
#   remediation: >-
#     Nothing to do when the VEX statement is right. Check that it comes from someone entitled
#     to make it about this image; to make the vulnerability count again, drop the statement
#     (or the VEX input).
package gate.vulnerabilities.vex_not_blocking

import data.lib.gate as lib
import rego.v1

rule_id := "vex-not-blocking"

findings contains lib.result(rule_id, msg, "low", remediation, finding) if {
	some v in data.lib.gate.vex_suppressed
	finding := lib.vex_finding(v)
	msg := sprintf("%s in %s does not block: VEX %s%s from %s", [
		v.id, lib.package_label(v), v.vex.status, _reason(finding.vex.justification), _source(finding.vex.input),
	])
	remediation := sprintf("Check that the VEX statement in %s about %s is right and comes from someone entitled to make it; drop it to make the vulnerability count again.", [
		_source(finding.vex.input), v.id,
	])
}

_reason(justification) := sprintf(" (%s)", [justification]) if is_string(justification) else := ""

_source(source) := source if is_string(source) else := "an unnamed VEX input"

deny contains f if {
	lib.action(rule_id) == "deny"
	some f in findings
}

warn contains f if {
	lib.action(rule_id) == "warn"
	some f in findings
}
