package gate.scans.not_about_image_test

import data.gate.scans.not_about_image as rule
import data.lib.fixtures_test as fx
import rego.v1

with_trivy_evidence(evidence) := json.patch(fx.doc, [{"op": "replace", "path": "/scans/0/evidence", "value": evidence}])

other_image := with_trivy_evidence({
	"match": "other-image", "names": ["docker.io/library/nginx:1.25"], "counts_for": [],
	"note": "it is about docker.io/library/nginx:1.25, not the image being gated (ghcr.io/acme/api:1.4.2)",
})

test_evidence_about_this_image_passes if {
	count(rule.findings) == 0 with input as fx.doc with data.gate_config as fx.config
	every match in ["defines", "digest", "name"] {
		d := with_trivy_evidence({"match": match, "names": [], "counts_for": ["vulnerability"], "note": null})
		count(rule.findings) == 0 with input as d with data.gate_config as fx.config
	}
}

test_a_scan_of_another_image_blocks_in_staging_and_prod if {
	found := rule.deny with input as other_image with data.gate_config as fx.config
	count(found) == 1
	some r in found
	r.id == "evidence-not-about-image"
	r.severity == "high"
	r.finding == {"kind": "scan", "id": "trivy.json"}
	r.msg == "trivy.json (vulnerability) is not evidence about this image: it is about docker.io/library/nginx:1.25, not the image being gated (ghcr.io/acme/api:1.4.2)"
	count(rule.deny) == 1 with input as fx.in_stage(other_image, "staging") with data.gate_config as fx.config
	count(rule.warn) == 1 with input as fx.in_stage(other_image, "dev") with data.gate_config as fx.config
	count(rule.deny) == 0 with input as fx.in_stage(other_image, "dev") with data.gate_config as fx.config
}

test_unnamed_and_unverifiable_evidence_is_reported if {
	unnamed := with_trivy_evidence({"match": "unnamed", "counts_for": [], "note": "it names no image"})
	count(rule.deny) == 1 with input as unnamed with data.gate_config as fx.config
	unverifiable := with_trivy_evidence({"match": "unverifiable", "counts_for": [], "note": "cannot be compared"})
	count(rule.deny) == 1 with input as unverifiable with data.gate_config as fx.config
}

test_malformed_evidence_is_reported if {
	nonsense := with_trivy_evidence({"match": "nonsense"})
	count(rule.deny) == 1 with input as nonsense with data.gate_config as fx.config
	nothing := with_trivy_evidence(null)
	count(rule.deny) == 1 with input as nothing with data.gate_config as fx.config
}

test_unrecorded_evidence_is_reported if {
	unrecorded := json.patch(fx.doc, [{"op": "remove", "path": "/scans/0/evidence"}])
	found := rule.deny with input as unrecorded with data.gate_config as fx.config
	some r in found
	r.msg == "trivy.json (vulnerability) is not evidence about this image: gate recorded no relation to the image being gated"
}

test_inputs_that_prove_nothing_about_an_image_are_not_judged if {
	# Image metadata and misconfiguration-only reports (hadolint) are not evidence kinds.
	lint := {"tool": "hadolint", "kinds": ["misconfiguration"], "input": "hadolint.json", "evidence": {"match": "unnamed", "counts_for": []}}
	d := object.union(fx.doc, {"scans": array.concat(fx.doc.scans, [lint])})
	count(rule.findings) == 0 with input as d with data.gate_config as fx.config
}

test_an_empty_sbom_is_reported if {
	sbom := {
		"tool": "cyclonedx", "kinds": ["sbom", "vulnerability"], "input": "bom.json", "package_count": 0,
		"evidence": {"match": "name", "counts_for": ["vulnerability"], "note": "an SBOM that lists no packages describes nothing"},
	}
	d := object.union(fx.doc, {"scans": array.concat(fx.doc.scans, [sbom])})
	found := rule.deny with input as d with data.gate_config as fx.config
	count(found) == 1
	some r in found
	r.msg == "bom.json is not an SBOM of this image: an SBOM that lists no packages describes nothing"
}

test_malformed_scans_do_not_crash if {
	d := object.union(fx.doc, {"scans": [null, 1, {"kinds": null}, {"kinds": ["sbom"], "evidence": "x"}]})
	found := rule.findings with input as d with data.gate_config as fx.config
	count(found) == 1
	some r in found
	r.finding == {"kind": "scan", "id": null}
}
