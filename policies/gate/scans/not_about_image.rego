# METADATA
# scope: package
# title: Evidence is not about this image
# description: >-
#   Evidence counts only when it is about the image being gated. An input that could prove
#   something about an image (a vulnerability scan, an SBOM, a VEX document, an
#   attestation) but names another image, names no image at all, or names one that cannot
#   be compared with the gated image, proves nothing here: it does not satisfy
#   scan-required, sbom-required or provenance-required, and its VEX statements do not
#   apply. This rule reports each such input (which file, what it names, what the gated
#   image is), and an SBOM that lists no packages. The core decides the relation
#   (scans[].evidence): the digest decides when both sides know one, otherwise the same
#   registry and repository, and tag when both have one. A warning in dev, blocking in
#   staging and prod.
# custom:
#   id: evidence-not-about-image
#   severity: high
#   remediation: >-
#     Scan, describe and attest the exact image being promoted (by digest, e.g. trivy image
#     IMAGE@sha256:...), pass its image metadata, and leave out reports of other images.
package gate.scans.not_about_image

import data.lib.gate as lib
import rego.v1

rule_id := "evidence-not-about-image"

remediation := "Pass reports of the exact image being promoted (scan it by digest, e.g. `trivy image IMAGE@sha256:...`), with its image metadata (`docker image inspect IMAGE`), and leave out reports of other images."

findings contains lib.result(rule_id, msg, "high", remediation, lib.scan_finding(s)) if {
	some s in data.lib.gate.scans
	claimed := {k | k := s.kinds[_]} & data.lib.gate.evidence_kinds
	count(claimed) > 0
	not _about_image(s)
	msg := sprintf("%s (%s) is not evidence about this image: %s", [
		lib.scan_name(s), concat(", ", sort(claimed)), _why(s),
	])
}

findings contains lib.result(rule_id, msg, "high", remediation, lib.scan_finding(s)) if {
	some s in data.lib.gate.scans
	_about_image(s)
	"sbom" in s.kinds
	not lib.proves(s, "sbom")
	msg := sprintf("%s is not an SBOM of this image: %s", [lib.scan_name(s), lib.text_or(object.get(s, "evidence", null), "note", "it lists no packages")])
}

_about_image(s) if s.evidence.match in data.lib.gate.about_image_matches

# (object.get: s.evidence may be missing, and a function of an undefined argument is undefined.)
_why(s) := lib.text_or(object.get(s, "evidence", null), "note", "gate recorded no relation to the image being gated")

deny contains f if {
	lib.action(rule_id) == "deny"
	some f in findings
}

warn contains f if {
	lib.action(rule_id) == "warn"
	some f in findings
}
