package gate.supply_chain.signature_required_test

import data.gate.supply_chain.signature_required as rule
import data.lib.fixtures_test as fx
import rego.v1

other_digest := "sha256:9999999999999999999999999999999999999999999999999999999999999999"

with_signatures(sigs) := json.patch(fx.doc, [{"op": "replace", "path": "/signatures", "value": sigs}])

without_trust_keys(d) := object.union(d, {"promotion": {"trust_keys": 0}})

of_another_image := object.union(fx.signature, {"input": "old.sig", "signed_digest": other_digest, "about_subject": false})

# the_message(d) is the message of d's one finding.
the_message(d) := m if {
	found := rule.findings with input as d with data.gate_config as fx.config
	count(found) == 1
	some r in found
	m := r.msg
}

test_a_verified_signature_of_this_image_passes if {
	count(rule.findings) == 0 with input as fx.doc with data.gate_config as fx.config
	d := with_signatures([of_another_image, object.union(fx.signature, {"state": "invalid"}), fx.signature])
	count(rule.findings) == 0 with input as d with data.gate_config as fx.config
}

test_no_signature_by_stage if {
	d := with_signatures([])
	found := rule.deny with input as d with data.gate_config as fx.config
	count(found) == 1
	some r in found
	r.id == "signature-required"
	r.severity == "high"
	r.msg == "no cosign signature of this image (sha256:111111111111…) was found"
	r.finding == {"kind": "signature", "id": "cosign", "digest": fx.digest}
	count(rule.warn) == 0 with input as d with data.gate_config as fx.config
	count(rule.warn) == 1 with input as fx.in_stage(d, "staging") with data.gate_config as fx.config
	count(rule.deny) == 0 with input as fx.in_stage(d, "staging") with data.gate_config as fx.config
	count(rule.deny) + count(rule.warn) == 0 with input as fx.in_stage(d, "dev") with data.gate_config as fx.config
}

test_a_signature_of_another_image_does_not_count if {
	the_message(with_signatures([of_another_image])) == "no verified cosign signature of this image (sha256:111111111111…): old.sig: it signs another image (sha256:999999999999…)"
	no_digest := object.union(of_another_image, {"signed_digest": null})
	the_message(with_signatures([no_digest])) == "no verified cosign signature of this image (sha256:111111111111…): old.sig: it names no image digest"
}

test_a_signature_by_an_untrusted_key_does_not_count if {
	s := object.union(fx.signature, {"state": "untrusted", "key_id": other_digest})
	the_message(with_signatures([s])) == sprintf("no verified cosign signature of this image (sha256:111111111111…): %s: signed by an untrusted key (sha256:999999999999…)", [fx.signature.input])
}

test_an_invalid_signature_does_not_count if {
	s := object.union(fx.signature, {"input": "tampered.sig", "state": "invalid", "reason": "the signature does not match the payload"})
	the_message(with_signatures([s])) == "no verified cosign signature of this image (sha256:111111111111…): tampered.sig: invalid signature (the signature does not match the payload)"
}

test_an_unverified_signature_does_not_count if {
	s := object.union(fx.signature, {"input": "image.sig", "state": "unverified", "reason": "no trusted key"})
	the_message(without_trust_keys(with_signatures([s]))) == "no verified cosign signature of this image (sha256:111111111111…): image.sig: signed but not verified (no --trust-key is configured)"
	the_message(with_signatures([s])) == "no verified cosign signature of this image (sha256:111111111111…): image.sig: signature not verified (no trusted key)"
	unsigned := object.union(s, {"state": "unsigned"})
	the_message(without_trust_keys(with_signatures([unsigned]))) == "no verified cosign signature of this image (sha256:111111111111…): image.sig: not signed"
}

test_every_signature_and_every_reason_is_listed if {
	bad := object.union(of_another_image, {"state": "invalid", "reason": "bad"})
	d := with_signatures([bad, object.union(fx.signature, {"state": "untrusted"})])
	the_message(d) == sprintf("no verified cosign signature of this image (sha256:111111111111…): old.sig: it signs another image (sha256:999999999999…), invalid signature (bad); %s: signed by an untrusted key (sha256:666666666666…)", [fx.signature.input])
}

test_only_the_verified_state_counts if {
	every state in ["unverified", "untrusted", "invalid", "unsigned", "VERIFIED", true, null] {
		d := with_signatures([object.union(fx.signature, {"state": state})])
		count(rule.deny) == 1 with input as d with data.gate_config as fx.config
	}
	every about in [false, null, "true", 1] {
		d := with_signatures([object.union(fx.signature, {"about_subject": about})])
		count(rule.deny) == 1 with input as d with data.gate_config as fx.config
	}
}

test_malformed_signatures_do_not_crash if {
	d := object.union(with_signatures([null, 7, "sig", {}]), {"subject": null})
	found := rule.findings with input as d with data.gate_config as fx.config
	count(found) == 1
	some r in found
	r.msg == "no verified cosign signature of this image (digest unknown): an unnamed signature: it names no image digest, signature not verified (no reason recorded)"
	r.finding == {"kind": "signature", "id": "cosign", "digest": null}
	every junk in [null, 7, {"a": fx.signature}] {
		count(rule.deny) == 1 with input as with_signatures(junk) with data.gate_config as fx.config
	}
	count(rule.deny) == 1 with input as json.patch(fx.doc, [{"op": "remove", "path": "/signatures"}]) with data.gate_config as fx.config
}

test_a_flood_of_signatures_is_cut_short_in_the_message if {
	sigs := [object.union(of_another_image, {"input": sprintf("s%d.sig", [i])}) | some i in numbers.range(1, 30)]
	m := the_message(with_signatures(sigs))
	endswith(m, "; s10.sig: it signs another image (sha256:999999999999…); and 20 more")
	not contains(m, "s11.sig")
}
