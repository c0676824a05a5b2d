# METADATA
# scope: package
# title: Unfixed critical vulnerabilities past their grace period
# description: >-
#   A critical vulnerability with no released fix, published longer ago than the stage's
#   unfixed_critical_grace_days, is reported so that someone decides on a mitigation,
#   another base image or a waiver instead of waiting indefinitely. Vulnerabilities without
#   a (valid) publication date are not reported: their age is unknown.
# custom:
#   id: vuln-unfixed-critical-aged
#   severity: critical
#   remediation: >-
#     Mitigate (remove the package, switch base image or distribution) or record a waiver
#     with a justification and an expiry date.
package gate.vulnerabilities.unfixed_critical_aged

import data.lib.gate as lib
import rego.v1

rule_id := "vuln-unfixed-critical-aged"

findings contains lib.result(rule_id, msg, "critical", remediation, lib.vulnerability_finding(v)) if {
	grace := lib.setting("unfixed_critical_grace_days")
	cutoff := data.lib.gate.now_ns - lib.days(grace)
	some v in data.lib.gate.unfixed_critical
	published := data.lib.gate.unfixed_critical_published_ns[v.published]
	published < cutoff
	msg := sprintf(
		"%s (critical) in %s has had no fix for %d days since it was published (%s); the grace period in %s is %v days",
		[v.id, lib.package_label(v), floor((data.lib.gate.now_ns - published) / data.lib.gate.day_ns), v.published, data.lib.gate.stage, grace],
	)
	remediation := sprintf(
		"Remove or replace %s (another base image or distribution may ship a fixed build), mitigate the vulnerability, or record a waiver with a justification and an expiry date.",
		[v.package.name],
	)
}

deny contains f if {
	lib.action(rule_id) == "deny"
	some f in findings
}

warn contains f if {
	lib.action(rule_id) == "warn"
	some f in findings
}
