# METADATA
# scope: package
# title: SBOM required
# description: >-
#   At least one input must describe the image's contents: an SBOM document (SPDX,
#   CycloneDX, Syft JSON) about this image that lists packages (its evidence counts for
#   "sbom"), or an SBOM attestation whose subject is this image's digest (matches_subject
#   true) and whose SBOM lists packages (packages > 0). An SBOM of another image, one that
#   names no image, an empty one, an attestation that cannot be tied to the image
#   (matches_subject null) or whose content is not in the input does not count.
#   Without an inventory, licence checks and later vulnerability lookups have nothing to
#   work on. Off in dev, a warning in staging, blocking in prod.
# custom:
#   id: sbom-required
#   severity: medium
#   remediation: >-
#     Generate an SBOM of the image (e.g. syft IMAGE -o spdx-json, trivy image --format
#     cyclonedx) and pass it to gate, or pass the image's SBOM attestation.
package gate.supply_chain.sbom_required

import data.lib.gate as lib
import rego.v1

rule_id := "sbom-required"

findings contains lib.result(rule_id, msg, "medium", remediation, {"kind": "scan", "id": null}) if {
	not _sbom_given
	msg := sprintf("no SBOM of this image was given (%s)%s", [data.lib.gate.input_names, _other_images])
	remediation := "Generate an SBOM of the image (e.g. `syft IMAGE -o spdx-json=sbom.json`) and pass it to gate, or pass the image's SBOM attestation."
}

_sbom_given if {
	some s in data.lib.gate.scans
	lib.proves(s, "sbom")
}

_sbom_given if {
	some a in data.lib.gate.attestations
	_counts(a)
}

# An SBOM attestation counts when its subject is this image's digest and the SBOM it
# carries lists packages (its content is in the input: a referrer manifest alone, or an
# empty SBOM, describes nothing).
_counts(a) if {
	a.kind == "sbom"
	a.matches_subject == true
	a.packages > 0
}

# SBOMs that were given but do not count: attestations not tied to this image or without
# content, SBOM documents about another image (or none), empty ones.
_other_images := sprintf("; not of this image: %s", [concat(", ", sort(files))]) if {
	files := _uncounted_attestations | _uncounted_documents
	count(files) > 0
} else := ""

_uncounted_attestations contains lib.text_or(a, "input", "an unnamed input") if {
	some a in data.lib.gate.attestations
	a.kind == "sbom"
	not _counts(a)
}

_uncounted_documents contains lib.scan_name(s) if {
	some s in data.lib.gate.scans
	s.kinds[_] == "sbom"
	not lib.proves(s, "sbom")
}

deny contains f if {
	lib.action(rule_id) == "deny"
	some f in findings
}

warn contains f if {
	lib.action(rule_id) == "warn"
	some f in findings
}
