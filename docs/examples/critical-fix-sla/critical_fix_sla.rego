# METADATA
# scope: package
# title: Critical vulnerability past its fix deadline
# description: >-
#   A critical vulnerability must be gone from the image within a deadline counted from its
#   publication (the stage's setting critical_fix_days; 30 when unset), whether or not a
#   fix has been released: past the deadline, an unfixed vulnerability needs a mitigation
#   and a waiver, not silence. A VEX statement that the image is not affected (with a
#   justification or an impact statement, as OpenVEX requires) or that it is fixed takes
#   the vulnerability out. A vulnerability without a (valid) publication date is not
#   judged here.
# custom:
#   id: org-critical-fix-sla
#   severity: critical
#   remediation: >-
#     Upgrade the package or rebuild on an updated base image; if the image is not
#     affected, publish a VEX statement that says why; otherwise file a waiver.
#   effective_from: 2026-07-01
package gate.org.critical_fix_sla

import data.lib.org as lib
import rego.v1

rule_id := "org-critical-fix-sla"

deadline_days := lib.setting("critical_fix_days", 30)

# The critical vulnerabilities, filtered once: documents can hold thousands of findings.
critical := [v | v := input.vulnerabilities[_]; v.severity == "critical"]

findings contains lib.result(rule_id, msg, "critical", remediation(v), finding(v)) if {
	some v in critical
	age := lib.age_days(v.published)
	age > deadline_days
	not vex_clears(v)
	msg := sprintf("%s (critical) in %s %s was published %d days ago; %s allows %v days to remove it (%s)", [v.id, v.package.name, version(v), age, lib.stage, deadline_days, fix_state(v)])
}

# A VEX statement clears a vulnerability when it says "fixed", or "not_affected" with a
# reason: a bare "not_affected" is an unsupported claim and clears nothing (fail closed).
vex_clears(v) if v.vex.status == "fixed"

vex_clears(v) if {
	v.vex.status == "not_affected"
	lib.text(v.vex.justification)
}

vex_clears(v) if {
	v.vex.status == "not_affected"
	lib.text(v.vex.impact_statement)
}

version(v) := s if {
	s := lib.text(v.package.version)
} else := "(unknown version)"

fix_state(v) := sprintf("fixed in %s", [concat(", ", v.fixed_versions)]) if {
	is_string(v.fixed_versions[0])
} else := "no fix released"

# fix_version: the lowest fixed version not below the installed one (fixed_versions[0] may be
# a downgrade to another release line); when gate cannot order the versions, name them all.
remediation(v) := sprintf("Upgrade %s to %s or later and rebuild the image.", [v.package.name, v.fix_version]) if {
	is_string(v.fix_version)
} else := sprintf("Upgrade %s to one of %s and rebuild the image.", [v.package.name, concat(", ", v.fixed_versions)]) if {
	is_string(v.fixed_versions[0])
} else := "No fix is released: mitigate, publish a VEX statement if the image is not affected, or file a waiver with an owner and an expiry."

# The shape the bundled pack uses for vulnerabilities, so that waivers match it.
finding(v) := {
	"kind": "vulnerability",
	"id": v.id,
	"aliases": v.aliases,
	"package": v.package.name,
	"version": v.package.version,
	"purl": v.package.purl,
	"fixed_versions": v.fixed_versions,
}

deny contains r if {
	lib.action(rule_id) == "deny"
	some r in findings
}

warn contains r if {
	lib.action(rule_id) == "warn"
	some r in findings
}
