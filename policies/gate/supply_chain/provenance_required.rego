# METADATA
# scope: package
# title: Build provenance required
# description: >-
#   The image must come with build provenance (an in-toto attestation with a SLSA
#   provenance predicate) whose subject is this image: matches_subject true, i.e. a subject
#   digest equals the image's digest or image ID. With none, there is one result per
#   reason: no provenance at all; provenance whose subjects are another image
#   (matches_subject false); or provenance that cannot be tied to the image because the
#   image's digest is unknown (matches_subject null - pass image metadata with its digest).
#   Presence only: gate does not verify signatures, so this says the build was recorded,
#   not that the record is authentic. Off in dev, a warning in staging, blocking in prod.
# custom:
#   id: provenance-required
#   severity: high
#   remediation: >-
#     Build with a builder that records SLSA provenance (e.g. slsa-github-generator,
#     actions/attest-build-provenance, docker buildx --provenance=mode=max, Cloud Build) and
#     pass the provenance of this exact image, with image metadata that gives its digest.
package gate.supply_chain.provenance_required

import data.lib.gate as lib
import rego.v1

rule_id := "provenance-required"

_of_this_image if data.lib.gate.provenance[_].matches_subject == true

findings contains lib.result(rule_id, msg, "high", remediation, _finding(null)) if {
	count(data.lib.gate.provenance) == 0
	msg := "no build provenance was given"
	remediation := "Build with a builder that records SLSA provenance (slsa-github-generator, actions/attest-build-provenance, `docker buildx build --provenance=mode=max`, Cloud Build) and pass the provenance of this image to gate."
}

findings contains lib.result(rule_id, msg, "high", remediation, _finding(source)) if {
	not _of_this_image
	some a in data.lib.gate.provenance
	a.matches_subject == false
	source := lib.text_or(a, "input", null)
	msg := sprintf("the build provenance in %s is for another image: its subjects (%s) are not this image (%s)", [
		_name(source), _digests(a), _image_digests,
	])
	remediation := "Pass the provenance of the image being promoted (the attestation whose subject is its digest), not that of another build."
}

findings contains lib.result(rule_id, msg, "high", remediation, _finding(source)) if {
	not _of_this_image
	some a in data.lib.gate.provenance
	a.matches_subject == null
	source := lib.text_or(a, "input", null)
	msg := sprintf("cannot tell whether provenance is of this image: pass image metadata with its digest (the build provenance in %s has subjects %s)", [
		_name(source), _digests(a),
	])
	remediation := "Pass image metadata that records the image's digest (e.g. `docker image inspect IMAGE`, or the image reference by digest) together with its provenance."
}

_finding(source) := {"kind": "attestation", "id": "provenance", "input": source}

_name(source) := source if is_string(source) else := "an unnamed input"

_digests(a) := concat(", ", ds) if {
	ds := [d | d := a.subject_digests[_]; is_string(d)]
	count(ds) > 0
} else := "unknown"

_image_digests := concat(", ", sort(data.lib.gate.subject_digests)) if {
	count(data.lib.gate.subject_digests) > 0
} else := "digest unknown"

deny contains f if {
	lib.action(rule_id) == "deny"
	some f in findings
}

warn contains f if {
	lib.action(rule_id) == "warn"
	some f in findings
}
