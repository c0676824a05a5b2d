# METADATA
# scope: package
# title: Base image not approved
# description: >-
#   The base image recorded in the image (org.opencontainers.image.base.name) must match one
#   of gate_config.approved_base_images. Patterns are globs with "/" as the only delimiter:
#   "*" matches within one path segment (so "docker.io/library/alpine:*" matches any alpine
#   tag), "**" across segments ("gcr.io/distroless/**"), "?" one character, [abc] a class,
#   {a,b} alternatives. The base name is tried as written and in normalised Docker form
#   ("alpine:3.19" is "docker.io/library/alpine:3.19"), each with and without its
#   "@sha256:..." digest. An image that records no base name is not checked: an unknown base
#   is not evidence of an unapproved one.
# custom:
#   id: image-base-unapproved
#   severity: high
#   remediation: Rebuild FROM an approved base image, or ask the security team to approve this one.
package gate.image.base_unapproved

import data.lib.gate as lib
import rego.v1

rule_id := "image-base-unapproved"

findings contains lib.result(rule_id, msg, "high", remediation, finding) if {
	name := lib.str(data.lib.gate.image.base.name)
	not approved(trim_space(name))
	finding := {"kind": "image", "field": "base", "value": name}
	msg := sprintf("base image %s is not on the approved list", [name])
	remediation := "Rebuild FROM an approved base image (gate_config.approved_base_images), or ask the security team to approve this one."
}

approved(name) if {
	some candidate in candidates(name)
	some pattern in lib.list_config("approved_base_images")
	is_string(pattern)
	glob.match(pattern, ["/"], candidate)
}

# candidates(name): the name as written and normalised, each with and without its digest.
candidates(name) := {c |
	some n in {name, normalise(name)}
	some c in {n, strip_digest(n)}
}

strip_digest(name) := split(name, "@")[0]

# normalise(name) spells a reference the way Docker resolves it: the registry is the first
# path component when that has a "." or ":" or is "localhost", else docker.io; Docker Hub's
# aliases become docker.io and its one-part names live under library/.
normalise(name) := sprintf("%s/%s%s", [registry, _hub_path(registry, path), digest]) if {
	parts := split(name, "@")
	digest := _digest_suffix(parts)
	ref := parts[0]
	segments := split(ref, "/")
	_has_registry(segments)
	registry := _canonical_registry(segments[0])
	path := concat("/", array.slice(segments, 1, count(segments)))
} else := sprintf("docker.io/%s%s", [_hub_path("docker.io", parts[0]), _digest_suffix(parts)]) if {
	parts := split(name, "@")
}

_digest_suffix(parts) := sprintf("@%s", [concat("@", array.slice(parts, 1, count(parts)))]) if {
	count(parts) > 1
} else := ""

_has_registry(segments) if {
	count(segments) > 1
	first := segments[0]
	_looks_like_host(first)
}

_looks_like_host(s) if contains(s, ".")

_looks_like_host(s) if contains(s, ":")

_looks_like_host(s) if s == "localhost"

_canonical_registry(r) := "docker.io" if r in {"index.docker.io", "registry-1.docker.io", "registry.hub.docker.com"} else := r

_hub_path(registry, path) := sprintf("library/%s", [path]) if {
	registry == "docker.io"
	not contains(path, "/")
} else := path

deny contains f if {
	lib.action(rule_id) == "deny"
	some f in findings
}

warn contains f if {
	lib.action(rule_id) == "warn"
	some f in findings
}
