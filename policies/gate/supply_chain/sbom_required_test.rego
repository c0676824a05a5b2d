package gate.supply_chain.sbom_required_test

import data.gate.supply_chain.sbom_required as rule
import data.lib.fixtures_test as fx
import rego.v1

# fx.doc's only SBOM is its SBOM attestation; these replace the attestations.
with_attestations(atts) := json.patch(fx.doc, [{"op": "replace", "path": "/attestations", "value": atts}])

no_sbom := with_attestations([fx.provenance])

syft_scan := {
	"tool": "syft", "tool_version": "1.4.1", "format": "spdx-json", "kinds": ["sbom"],
	"created": "2025-06-01T10:00:00Z", "artifact_name": "ghcr.io/acme/api:1.4.2",
	"artifact_type": "container_image", "artifact_digests": [], "database": {},
	"input": "sbom.spdx.json", "input_sha256": "6666666666666666666666666666666666666666666666666666666666666666",
	"finding_count": 0,
	"evidence": {"match": "name", "names": ["ghcr.io/acme/api:1.4.2"], "counts_for": ["sbom"], "note": null},
}

# The same SBOM as the core records it when it names another image, or no packages.
of_another_image := object.union(syft_scan, {"evidence": {"match": "other-image", "names": ["docker.io/library/nginx:1.25"], "counts_for": [], "note": "it is about docker.io/library/nginx:1.25"}})

empty_sbom := object.union(syft_scan, {"package_count": 0, "evidence": {"counts_for": [], "note": "an SBOM that lists no packages describes nothing"}})

test_sbom_attestation_of_this_image_passes if {
	count(rule.findings) == 0 with input as fx.doc with data.gate_config as fx.config
}

test_missing_sbom_by_stage if {
	found := rule.deny with input as no_sbom with data.gate_config as fx.config
	count(found) == 1
	some r in found
	r.id == "sbom-required"
	r.severity == "medium"
	r.finding == {"kind": "scan", "id": null}
	r.msg == "no SBOM of this image was given (inputs: trivy.json, inspect.json)"
	count(rule.warn) == 0 with input as no_sbom with data.gate_config as fx.config
	count(rule.warn) == 1 with input as fx.in_stage(no_sbom, "staging") with data.gate_config as fx.config
	count(rule.deny) == 0 with input as fx.in_stage(no_sbom, "staging") with data.gate_config as fx.config
	count(rule.deny) + count(rule.warn) == 0 with input as fx.in_stage(no_sbom, "dev") with data.gate_config as fx.config
}

test_an_sbom_input_passes if {
	d := object.union(no_sbom, {"scans": array.concat(fx.doc.scans, [syft_scan])})
	count(rule.findings) == 0 with input as d with data.gate_config as fx.config
}

test_an_sbom_attestation_not_tied_to_this_image_does_not_count if {
	every matches in [null, false] {
		a := object.union(fx.sbom_attestation, {"matches_subject": matches})
		found := rule.findings with input as with_attestations([a]) with data.gate_config as fx.config
		count(found) == 1
	}
	a := object.union(fx.sbom_attestation, {"matches_subject": false})
	found := rule.findings with input as with_attestations([a]) with data.gate_config as fx.config
	some r in found
	r.msg == "no SBOM of this image was given (inputs: trivy.json, inspect.json); not of this image: sbom.att.json"
}

test_an_sbom_of_another_image_or_of_nothing_does_not_count if {
	every scan in [of_another_image, empty_sbom, object.remove(syft_scan, ["evidence"])] {
		d := object.union(no_sbom, {"scans": array.concat(fx.doc.scans, [scan])})
		found := rule.findings with input as d with data.gate_config as fx.config
		count(found) == 1
	}
	d := object.union(no_sbom, {"scans": array.concat(fx.doc.scans, [of_another_image])})
	found := rule.findings with input as d with data.gate_config as fx.config
	some r in found
	r.msg == "no SBOM of this image was given (inputs: trivy.json, inspect.json, sbom.spdx.json); not of this image: sbom.spdx.json"
}

test_other_kinds_are_not_sboms if {
	scan := object.union(syft_scan, {"kinds": ["vulnerability", "vex"], "evidence": {"counts_for": ["vulnerability", "vex"]}})
	a := object.union(fx.sbom_attestation, {"kind": "vulnerability-scan"})
	d := object.union(with_attestations([a]), {"scans": [scan]})
	count(rule.findings) == 1 with input as d with data.gate_config as fx.config
}

test_nothing_at_all_does_not_crash if {
	found := rule.findings with input as object.union(fx.doc, {"scans": null, "attestations": null}) with data.gate_config as fx.config
	some r in found
	r.msg == "no SBOM of this image was given (no inputs at all)"
	d := object.union(fx.doc, {"scans": [null, {"kinds": null}], "attestations": [null, "x", {"kind": "sbom", "input": 42, "matches_subject": false}]})
	count(rule.findings) == 1 with input as d with data.gate_config as fx.config
}

test_an_sbom_attestation_without_packages_or_content_does_not_count if {
	empty := object.union(fx.sbom_attestation, {"packages": 0})
	count(rule.findings) == 1 with input as with_attestations([empty]) with data.gate_config as fx.config
	unseen := object.union(fx.sbom_attestation, {"packages": null})
	count(rule.findings) == 1 with input as with_attestations([unseen]) with data.gate_config as fx.config
	unrecorded := object.remove(fx.sbom_attestation, ["packages"])
	found := rule.findings with input as with_attestations([unrecorded]) with data.gate_config as fx.config
	some r in found
	r.msg == "no SBOM of this image was given (inputs: trivy.json, inspect.json); not of this image: sbom.att.json"
}
