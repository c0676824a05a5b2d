package gate.scans.digest_mismatch_test

import data.gate.scans.digest_mismatch as rule
import data.lib.fixtures_test as fx
import rego.v1

other := "sha256:9999999999999999999999999999999999999999999999999999999999999999"

scanned(digests) := object.union(fx.doc, {"scans": [object.union(fx.doc.scans[0], {"artifact_digests": digests}), fx.doc.scans[1]]})

test_matching_digest_passes if {
	count(rule.findings) == 0 with input as fx.doc with data.gate_config as fx.config
	count(rule.findings) == 0 with input as scanned([fx.image_id]) with data.gate_config as fx.config
	count(rule.findings) == 0 with input as scanned([sprintf("ghcr.io/acme/api@%s", [upper(fx.digest)])]) with data.gate_config as fx.config
}

test_scan_of_another_image_is_reported if {
	d := scanned([other])
	found_r := rule.deny with input as d with data.gate_config as fx.config
	some r in found_r
	r.id == "scan-digest-mismatch"
	r.finding == {"kind": "scan", "id": "trivy.json"}
	contains(r.msg, "vulnerability scan trivy.json is of sha256:9999")
	count(rule.warn) == 1 with input as fx.in_stage(d, "dev") with data.gate_config as fx.config
	count(rule.deny) == 1 with input as fx.in_stage(d, "staging") with data.gate_config as fx.config
}

test_scan_without_digests_is_not_evidence if {
	count(rule.findings) == 0 with input as scanned([]) with data.gate_config as fx.config
	count(rule.findings) == 0 with input as scanned(null) with data.gate_config as fx.config
}

test_unknown_image_digests_are_not_evidence if {
	d := object.union(scanned([other]), {"subject": {"digest": null, "image_id": null}})
	count(rule.findings) == 0 with input as d with data.gate_config as fx.config
}

test_one_known_digest_is_enough if {
	d := object.union(scanned([fx.image_id]), {"subject": {"digest": null}})
	count(rule.findings) == 0 with input as d with data.gate_config as fx.config
	e := object.union(scanned([other]), {"subject": {"digest": null}})
	count(rule.findings) == 1 with input as e with data.gate_config as fx.config
}

test_non_vulnerability_scans_are_not_checked if {
	d := object.union(fx.doc, {"scans": [fx.doc.scans[0], object.union(fx.doc.scans[1], {"artifact_digests": [other]})]})
	count(rule.findings) == 0 with input as d with data.gate_config as fx.config
}
