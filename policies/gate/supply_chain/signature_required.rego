# METADATA
# scope: package
# title: Verified image signature required
# description: >-
#   The image must carry a cosign key-based signature (the .sig tag in its registry, or a
#   signature given as a file) whose signed payload names this image's digest (or the image
#   index it was picked from) and that a --trust-key key verified. gate checks the
#   signatures itself (signatures[].state); a signature that was not checked is never taken
#   as verified. With none, one result says that no signature was found, or lists every
#   signature found and why it does not count: it signs another image, was made by an
#   untrusted key, does not verify (invalid), or could not be verified because no
#   --trust-key is configured. Off in dev, a warning in staging, blocking in prod.
# custom:
#   id: signature-required
#   severity: high
#   remediation: >-
#     Sign the image by digest with cosign (cosign sign --key cosign.key IMAGE@sha256:...)
#     and give gate the public key with --trust-key.
package gate.supply_chain.signature_required

import data.lib.gate as lib
import rego.v1

rule_id := "signature-required"

remediation := "Sign the image by digest with cosign (`cosign sign --key cosign.key IMAGE@sha256:...`) and give gate its public key with `--trust-key cosign.pub`."

_signatures := [s | s := lib.array_or_empty(input.signatures)[_]; is_object(s)]

_verified if {
	some s in _signatures
	s.about_subject == true
	s.state == "verified"
}

findings contains lib.result(rule_id, msg, "high", remediation, finding) if {
	not _verified
	digest := object.get(data.lib.gate.subject, "digest", null)
	finding := {"kind": "signature", "id": "cosign", "digest": lib.str_or(digest, null)}
	msg := _message(sprintf("this image (%s)", [lib.digest_label(digest)]))
}

_message(image) := sprintf("no cosign signature of %s was found", [image]) if {
	count(_signatures) == 0
} else := sprintf("no verified cosign signature of %s: %s", [image, lib.listed([_not_counted(s) | some s in _signatures], "; ")])

_not_counted(s) := sprintf("%s: %s", [lib.text_or(s, "input", "an unnamed signature"), concat(", ", _problems(s))])

_problems(s) := [p | some p in [_subject_problem(s), _state_problem(s)]; p != ""]

_subject_problem(s) := "" if {
	s.about_subject == true
} else := sprintf("it signs another image (%s)", [lib.digest_label(d)]) if {
	d := s.signed_digest
	lib.str(d)
} else := "it names no image digest"

_state_problem(s) := lib.signature_problem(
	object.get(s, "state", null),
	object.get(s, "key_id", null),
	lib.text_or(s, "reason", "no reason recorded"),
)

deny contains f if {
	lib.action(rule_id) == "deny"
	some f in findings
}

warn contains f if {
	lib.action(rule_id) == "warn"
	some f in findings
}
