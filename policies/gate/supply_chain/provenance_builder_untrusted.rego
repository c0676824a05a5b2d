# METADATA
# scope: package
# title: Provenance from an untrusted builder
# description: >-
#   When gate_config.trusted_builders is not empty, the build provenance of this image
#   (matches_subject true) must name a builder (SLSA builder.id) that matches one of its
#   patterns; one result per such attestation that does not, or names no builder.
#   Patterns are globs matched case-sensitively with "/" as the only delimiter, as for
#   approved_base_images: "*" stays within a path segment, "**" crosses them. The default
#   list trusts the SLSA GitHub generator's released workflows, GitHub-hosted runners
#   (actions/attest-build-provenance) and Google Cloud Build. Provenance of another image,
#   or of an unknown one, is left to provenance-required. The builder id is what the
#   attestation claims: gate does not verify signatures. A warning by default: list your
#   own builders before making it block.
# custom:
#   id: provenance-builder-untrusted
#   severity: high
#   remediation: >-
#     Build the image on a trusted builder, or, if this builder is trustworthy, ask the
#     security team to add it to trusted_builders.
package gate.supply_chain.provenance_builder_untrusted

import data.lib.gate as lib
import rego.v1

rule_id := "provenance-builder-untrusted"

_patterns := [p | p := lib.list_config("trusted_builders")[_]; is_string(p)]

findings contains lib.result(rule_id, msg, "high", remediation, finding) if {
	count(_patterns) > 0
	some a in data.lib.gate.provenance
	a.matches_subject == true
	builder := lib.text_or(a, "builder_id", null)
	not _trusted(builder)
	source := lib.text_or(a, "input", "an unnamed input")
	finding := {"kind": "attestation", "id": "provenance", "input": source, "builder_id": builder}
	msg := _message(builder, source)
	remediation := "Build the image on a trusted builder, or ask the security team to add this builder to gate_config.trusted_builders."
}

_trusted(builder) if {
	is_string(builder)
	some p in _patterns
	glob.match(p, ["/"], builder)
}

_message(builder, source) := sprintf("the build provenance in %s names builder %s, which is not on the trusted list", [source, builder]) if {
	is_string(builder)
} else := sprintf("the build provenance in %s names no builder, so it cannot be checked against the trusted list", [source])

deny contains f if {
	lib.action(rule_id) == "deny"
	some f in findings
}

warn contains f if {
	lib.action(rule_id) == "warn"
	some f in findings
}
