package gate.supply_chain.provenance_required_test

import data.gate.supply_chain.provenance_required as rule
import data.lib.fixtures_test as fx
import rego.v1

with_attestations(atts) := json.patch(fx.doc, [{"op": "replace", "path": "/attestations", "value": atts}])

other_digest := "sha256:9999999999999999999999999999999999999999999999999999999999999999"

of_another_image := object.union(fx.provenance, {"subject_digests": [other_digest], "matches_subject": false, "input": "old.intoto.jsonl"})

of_unknown_subject := object.union(fx.provenance, {"matches_subject": null})

test_provenance_of_this_image_passes if {
	count(rule.findings) == 0 with input as fx.doc with data.gate_config as fx.config
	d := with_attestations([of_another_image, fx.provenance, of_unknown_subject])
	count(rule.findings) == 0 with input as d with data.gate_config as fx.config
}

test_missing_provenance_by_stage if {
	d := with_attestations([fx.sbom_attestation])
	found := rule.deny with input as d with data.gate_config as fx.config
	count(found) == 1
	some r in found
	r.id == "provenance-required"
	r.severity == "high"
	r.msg == "no build provenance was given"
	r.finding == {"kind": "attestation", "id": "provenance", "input": null}
	count(rule.warn) == 0 with input as d with data.gate_config as fx.config
	count(rule.warn) == 1 with input as fx.in_stage(d, "staging") with data.gate_config as fx.config
	count(rule.deny) == 0 with input as fx.in_stage(d, "staging") with data.gate_config as fx.config
	count(rule.deny) + count(rule.warn) == 0 with input as fx.in_stage(d, "dev") with data.gate_config as fx.config
}

test_provenance_of_another_image if {
	found := rule.deny with input as with_attestations([of_another_image]) with data.gate_config as fx.config
	count(found) == 1
	some r in found
	r.msg == sprintf("the build provenance in old.intoto.jsonl is for another image: its subjects (%s) are not this image (%s, %s)", [other_digest, fx.digest, fx.image_id])
	r.finding == {"kind": "attestation", "id": "provenance", "input": "old.intoto.jsonl"}
}

test_provenance_of_an_unknown_subject if {
	found := rule.deny with input as with_attestations([of_unknown_subject]) with data.gate_config as fx.config
	count(found) == 1
	some r in found
	r.msg == sprintf("cannot tell whether provenance is of this image: pass image metadata with its digest (the build provenance in provenance.intoto.jsonl has subjects %s)", [fx.digest])
	r.finding == {"kind": "attestation", "id": "provenance", "input": "provenance.intoto.jsonl"}
}

test_one_result_per_attestation_that_does_not_match if {
	found := rule.findings with input as with_attestations([of_another_image, of_unknown_subject]) with data.gate_config as fx.config
	{r.finding.input | some r in found} == {"old.intoto.jsonl", "provenance.intoto.jsonl"}
}

test_missing_fields_do_not_crash if {
	a := {"kind": "provenance", "matches_subject": false}
	found := rule.findings with input as object.union(with_attestations([a, null, 7]), {"subject": null}) with data.gate_config as fx.config
	some r in found
	r.msg == "the build provenance in an unnamed input is for another image: its subjects (unknown) are not this image (digest unknown)"
	count(rule.findings) == 1 with input as object.union(fx.doc, {"attestations": null}) with data.gate_config as fx.config
}
