# METADATA
# scope: package
# title: Image from an unapproved registry
# description: >-
#   Images promoted through the pipeline must come from the organisation's registries, where
#   they are built, scanned and retained under our control. The image's registry and
#   repository (input.subject) must match one of gate_config.allowed_registries: globs with
#   "/" as the delimiter, matched case-insensitively against "<registry>/<repository>";
#   an entry without "/" stands for a whole registry ("registry.acme.example"). List an
#   organisation on a shared registry by its path ("ghcr.io/acme/**"), never the bare host:
#   anyone can push to ghcr.io. An image whose reference names no registry is reported too:
#   its origin cannot be checked.
# custom:
#   id: org-registry-unapproved
#   severity: high
#   remediation: >-
#     Push the image to one of the organisation's registries (gate_config.allowed_registries)
#     and gate that reference (gate check --image REF).
package gate.org.registry_allowed

import data.lib.org as lib
import rego.v1

rule_id := "org-registry-unapproved"

remediation := "Push the image to one of the organisation's registries (gate_config.allowed_registries) and gate that reference (gate check --image REF)."

findings contains lib.result(rule_id, msg, "high", remediation, finding) if {
	registry := lib.text(input.subject.registry)
	not allowed(_location)
	finding := {"kind": "image", "field": "registry", "value": registry}
	msg := sprintf("%s is not in an approved registry; allowed: %s", [_name, _allowed])
}

findings contains lib.result(rule_id, msg, "high", remediation, finding) if {
	not lib.text(input.subject.registry)
	finding := {"kind": "image", "field": "registry", "value": null}
	msg := "the image reference names no registry, so its origin cannot be checked: pass --image REF"
}

# allowed(location) is true when "<registry>/<repository>" matches an allowed pattern.
allowed(location) if {
	some pattern in _patterns
	glob.match(_as_path(lower(pattern)), ["/"], location)
}

_patterns := [p | some p in lib.config_value("allowed_registries", []); lib.text(p)]

# A bare registry host covers every repository in it.
_as_path(pattern) := pattern if contains(pattern, "/") else := sprintf("%s/**", [pattern])

_location := lower(sprintf("%s/%s", [input.subject.registry, _repository]))

_repository := r if {
	r := lib.text(input.subject.repository)
} else := ""

_name := n if {
	n := lib.text(input.subject.reference)
} else := _location

_allowed := concat(", ", _patterns) if count(_patterns) > 0 else := "none (gate_config.allowed_registries is empty)"

deny contains r if {
	lib.action(rule_id) == "deny"
	some r in findings
}

warn contains r if {
	lib.action(rule_id) == "warn"
	some r in findings
}
