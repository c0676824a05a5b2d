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
#   "@sha256:..." digest. image.base comes from the OCI base-image label, from Snyk, or from
#   build provenance (image.base.source); the message says which when it is not the label.
#   A package URL ("pkg:docker/node@18?repository_url=docker.io", as provenance writes
#   materials) is read as the reference it names. An image that records no base name is not
#   checked - nor one with only a base digest (or a bare digest as its name), which no
#   name pattern can judge: an unknown base is not evidence of an unapproved one.
# custom:
#   id: image-base-unapproved
#   severity: high
#   remediation: Rebuild FROM an approved base image, or ask the security team to approve this one.
package gate.image.base_unapproved

import data.lib.gate as lib
import rego.v1

rule_id := "image-base-unapproved"

findings contains lib.result(rule_id, msg, "high", remediation, finding) if {
	base := lib.object_or_empty(data.lib.gate.image.base)
	name := lib.str(base.name)
	reference := reference_of(trim_space(name))
	not _digest_only(reference)
	not approved(reference)
	finding := {"kind": "image", "field": "base", "value": name}
	msg := sprintf("base image %s%s is not on the approved list", [name, _origin(object.get(base, "source", null))])
	remediation := "Rebuild FROM an approved base image (gate_config.approved_base_images), or ask the security team to approve this one."
}

# Where image.base came from, for the message; nothing for the OCI label (the usual case).
_origin(source) := " (from Snyk)" if source == "snyk"
else := " (from build provenance)" if source == "provenance"
else := ""

# A bare digest ("sha256:ab…", "@sha256:ab…") names no image.
_digest_only(reference) if regex.match(`^@?(sha256|sha384|sha512|blake3):[0-9a-fA-F]{32,}$`, reference)

# reference_of(name) is the image reference a base name stands for: a "pkg:docker/…" package
# URL becomes "<repository_url>/<name>:<version>" (or "@<digest>", from the version or the
# digest qualifier); any other name is itself.
reference_of(name) := sprintf("%s%s%s", [_purl_repository(path, qualifiers), _purl_version(version), _purl_digest(version, qualifiers)]) if {
	startswith(lower(name), "pkg:docker/")
	rest := split(substring(name, count("pkg:docker/"), -1), "#")[0]
	path_version := split(rest, "?")[0]
	qualifiers := {k: v |
		some pair in split(concat("?", array.slice(split(rest, "?"), 1, 100)), "&")
		kv := split(pair, "=")
		count(kv) == 2
		k := lower(kv[0])
		v := _unescape(kv[1])
	}
	parts := split(path_version, "@")
	path := _unescape(parts[0])
	version := _unescape(concat("@", array.slice(parts, 1, count(parts))))
} else := name

_purl_repository(path, qualifiers) := sprintf("%s/%s", [trim_right(qualifiers.repository_url, "/"), path]) if {
	lib.str(qualifiers.repository_url)
	not startswith(path, sprintf("%s/", [trim_right(qualifiers.repository_url, "/")]))
} else := path

# A version that is a digest pins the image ("@sha256:…"); any other version is its tag.
_purl_version(version) := "" if version == ""
else := sprintf("@%s", [version]) if contains(version, ":")
else := sprintf(":%s", [version])

_purl_digest(version, qualifiers) := sprintf("@%s", [qualifiers.digest]) if {
	lib.str(qualifiers.digest)
	not contains(version, ":")
} else := ""

# Percent-decoding, only of well-formed text: OPA errors on a bad escape ("%zz").
_unescape(s) := urlquery.decode(s) if regex.match(`^([^%]|%[0-9A-Fa-f]{2})*$`, s) else := s

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
