# METADATA
# scope: package
# title: Vulnerability scan is of another image
# description: >-
#   When the promoted image's digests are known (subject.digest, subject.image_id) and a
#   vulnerability scan records the digests of what it scanned (artifact_digests), at least one
#   must match: otherwise the scan describes some other build and says nothing about this
#   one. A scan that records no digests is not evidence either way and gives no result.
#   Digests are compared case-insensitively, ignoring a "repository@" prefix.
# custom:
#   id: scan-digest-mismatch
#   severity: high
#   remediation: Scan the exact image being promoted (by digest) and pass that report.
package gate.scans.digest_mismatch

import data.lib.gate as lib
import rego.v1

rule_id := "scan-digest-mismatch"

findings contains lib.result(rule_id, msg, "high", remediation, lib.scan_finding(s)) if {
	image_digests := data.lib.gate.subject_digests
	count(image_digests) > 0
	some s in data.lib.gate.vulnerability_scans
	scanned := {d | x := s.artifact_digests[_]; lib.str(x); d := lib.digest_part(x)}
	count(scanned) > 0
	count(scanned & image_digests) == 0
	msg := sprintf("vulnerability scan %s is of %s, not of the image being promoted (%s)", [
		lib.scan_name(s), concat(", ", sort(scanned)), concat(", ", sort(image_digests)),
	])
	remediation := "Scan the exact image being promoted (refer to it by digest, e.g. `trivy image IMAGE@sha256:...`) and pass that report."
}

deny contains f if {
	lib.action(rule_id) == "deny"
	some f in findings
}

warn contains f if {
	lib.action(rule_id) == "warn"
	some f in findings
}
