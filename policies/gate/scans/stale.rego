# METADATA
# scope: package
# title: Stale vulnerability scan
# description: >-
#   A vulnerability scan older than the stage's max_scan_age_hours (by the scan's created
#   time, relative to the evaluation time) predates advisories published since; rescan. A
#   vulnerability scan whose time is unknown or malformed gives a "scan time unknown" result
#   of severity medium, which only warns unless the stage's scan_time_unknown_blocks setting
#   is true (older scanner versions do not record a time, so blocking on it is opt-in; a
#   stage without the setting blocks). A scan dated in the future by more than the stage's
#   max_clock_skew_minutes is judged as stale: a time that cannot be right is not fresh.
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

# A scan dated after the evaluation (beyond the clock skew allowed) is not fresh: its time
# cannot be trusted, so it is judged as a stale one.
future contains lib.result(rule_id, msg, "medium", remediation, lib.scan_finding(s)) if {
	skew := lib.setting("max_clock_skew_minutes")
	some s in data.lib.gate.vulnerability_scans
	lib.age_ns(s.created) < 0 - lib.minutes(skew)
	msg := sprintf("vulnerability scan %s is dated %s, after this evaluation (%s): a scan time in the future is not fresh (%v minutes of clock skew allowed)", [
		lib.scan_name(s), s.created, input.context.evaluated_at, skew,
	])
}

time_unknown contains lib.result(rule_id, msg, "medium", remediation, lib.scan_finding(s)) if {
	some s in data.lib.gate.vulnerability_scans
	not lib.valid_timestamp(object.get(s, "created", null))
	msg := sprintf("vulnerability scan %s: scan time unknown, so its freshness cannot be checked", [lib.scan_name(s)])
}

findings := (stale | future) | time_unknown

_unknown_blocks if lib.setting("scan_time_unknown_blocks") == true

deny contains f if {
	lib.action(rule_id) == "deny"
	some f in stale | future
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
