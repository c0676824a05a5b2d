# METADATA
# scope: package
# title: SBOM required
# description: >-
#   At least one input must describe the image's contents: a scan whose kinds include
#   "sbom" (an SBOM document such as SPDX, CycloneDX or Syft JSON), or an SBOM attestation
#   that is not known to be about another image (matches_subject true, or null when the
#   image's digest is unknown). Without an inventory, licence checks and later
#   vulnerability lookups have nothing to work on. Off in dev, a warning in staging,
#   blocking in prod.
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

_sbom_given if data.lib.gate.scans[_].kinds[_] == "sbom"

_sbom_given if {
	some a in data.lib.gate.attestations
	a.kind == "sbom"
	not a.matches_subject == false
}

# SBOM attestations that were given but are about another image.
_other_images := sprintf("; the SBOM attestation in %s is of another image", [concat(", ", sort(files))]) if {
	files := {lib.text_or(a, "source", "an unnamed input") |
		some a in data.lib.gate.attestations
		a.kind == "sbom"
		a.matches_subject == false
	}
	count(files) > 0
} else := ""

deny contains f if {
	lib.action(rule_id) == "deny"
	some f in findings
}

warn contains f if {
	lib.action(rule_id) == "warn"
	some f in findings
}
