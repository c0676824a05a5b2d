# METADATA
# scope: package
# title: Stale vulnerability scan
# description: >-
#   A vulnerability scan older than the stage's max_scan_age_hours (by the scan's created
#   time, relative to the evaluation time) predates advisories published since; rescan. A
#   vulnerability scan whose time is unknown or malformed gives a "scan time unknown" result
#   of severity medium, which only warns unless the stage's scan_time_unknown_blocks setting
#   is true (older scanner versions do not record a time, so blocking on it is opt-in; a
#   stage without the setting blocks).
# custom:
#   id: scan-stale
#   severity: medium
#   remediation: Rescan the image shortly before promotion and pass the fresh report.
package gate.scans.stale

import data.lib.gate as lib
import rego.v1

rule_id := "scan-stale"

remediation := "Rescan the image shortly before promotion (scan in the same pipeline run as the gate) and pass the fresh report."

stale contains lib.result(rule_id, msg, "medium", remediation, lib.scan_finding(s)) if {
	max_hours := lib.setting("max_scan_age_hours")
	some s in data.lib.gate.vulnerability_scans
	lib.age_ns(s.created) > lib.hours(max_hours)
	msg := sprintf("vulnerability scan %s ran %d hours before this evaluation (%s); %s allows at most %v hours", [
		lib.scan_name(s), lib.age_hours(s.created), s.created, data.lib.gate.stage, max_hours,
	])
}

time_unknown contains lib.result(rule_id, msg, "medium", remediation, lib.scan_finding(s)) if {
	some s in data.lib.gate.vulnerability_scans
	not lib.valid_timestamp(object.get(s, "created", null))
	msg := sprintf("vulnerability scan %s: scan time unknown, so its freshness cannot be checked", [lib.scan_name(s)])
}

findings := stale | time_unknown

_unknown_blocks if lib.setting("scan_time_unknown_blocks") == true

deny contains f if {
	lib.action(rule_id) == "deny"
	some f in stale
}

deny contains f if {
	lib.action(rule_id) == "deny"
	_unknown_blocks
	some f in time_unknown
}

warn contains f if {
	lib.action(rule_id) == "warn"
	some f in findings
}

# An unknown scan time is capped at a warning unless the stage says it blocks.
warn contains f if {
	lib.action(rule_id) == "deny"
	not _unknown_blocks
	some f in time_unknown
}
