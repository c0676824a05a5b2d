# Shared fixtures of the Rego unit tests (a *_test.rego file, so `gate check` never loads
# it). It defines no test_ rules and nothing named deny or warn.
#
# `doc` is a clean document: under `config`, no rule reports anything for it in any stage
# (tests/test_rego_policies.py checks it, and that `config` and `rule_ids` cover every rule).
# It has an SBOM attestation and provenance of the image from a trusted builder; its SBOM
# packages are permissive, or copyleft Debian packages (an exempt type). It is a promotion
# (one trust key) that carries signed passing verdicts of dev and staging and a verified
# cosign signature, so that it passes promotion-order and signature-required at every stage.
# Tests change one thing with object.union (a recursive merge; json.patch to empty an
# object) and look at one rule.
#
# regorus quirks that bite tests (0.13.0):
# - After `some r in rule.deny with input as d with data.gate_config as fx.config`, every
#   later reference to a value rule of an aliased package (fx.doc, fx.now...) in the same
#   body is undefined. Bind first: `found := rule.deny with ...` then `some r in found`.
# - `x == fx.now with input as fx.doc`: a rule that the `with` value depends on is undefined
#   in that expression. Bind the value to a local variable first.
# Both make a test fail (or a `not` pass vacuously), so prefer positive assertions.
package lib.fixtures_test

import rego.v1

now := "2025-06-01T12:00:00Z"

digest := "sha256:1111111111111111111111111111111111111111111111111111111111111111"

image_id := "sha256:2222222222222222222222222222222222222222222222222222222222222222"

doc := {
	"schema_version": "1",
	"subject": {
		"reference": "ghcr.io/acme/api:1.4.2",
		"registry": "ghcr.io",
		"repository": "acme/api",
		"tag": "1.4.2",
		"digest": digest,
		"image_id": image_id,
	},
	"image": {
		"created": "2025-05-20T08:00:00Z",
		"user": "app",
		"env": {"PATH": "/usr/local/bin:/usr/bin:/bin", "APP_PORT": "8080"},
		"labels": {
			"org.opencontainers.image.source": "https://github.com/acme/api",
			"org.opencontainers.image.revision": "3f9c2ab1d2e3f4a5b6c7d8e9f0a1b2c3d4e5f6a7",
			"org.opencontainers.image.version": "1.4.2",
		},
		"exposed_ports": ["8080/tcp"],
		"entrypoint": ["/app/api"],
		"cmd": null,
		"workdir": "/app",
		"healthcheck": {"test": ["CMD", "/app/api", "healthcheck"], "interval": "30s", "timeout": "3s", "retries": 3},
		"os": "linux",
		"architecture": "amd64",
		"variant": null,
		"size": 12345678,
		"layers": [{"digest": "sha256:3333333333333333333333333333333333333333333333333333333333333333", "size": 1024, "media_type": null}],
		"base": {"name": "gcr.io/distroless/static-debian12:nonroot", "digest": null},
		"os_family": "debian",
		"os_version": "12.5",
	},
	"vulnerabilities": [],
	"secrets": [],
	"misconfigurations": [],
	"licenses": [],
	"packages": [
		inventory_package("base-files", "12.4+deb12u5", "deb", ["GPL-2.0-or-later"]),
		inventory_package("tzdata", "2024a-0+deb12u1", "deb", ["LicenseRef-public-domain"]),
		inventory_package("github.com/acme/api", "v1.4.2", "golang", ["Apache-2.0"]),
	],
	"attestations": [provenance, sbom_attestation],
	"scans": [
		{
			"tool": "trivy",
			"tool_version": "0.50.1",
			"format": "trivy-json",
			"kinds": ["license", "misconfiguration", "secret", "vulnerability"],
			"created": "2025-06-01T11:00:00Z",
			"artifact_name": "ghcr.io/acme/api:1.4.2",
			"artifact_type": "container_image",
			"artifact_digests": [image_id, sprintf("ghcr.io/acme/api@%s", [digest])],
			"database": {},
			"input": "trivy.json",
			"input_sha256": "4444444444444444444444444444444444444444444444444444444444444444",
			"finding_count": 0,
			"evidence": {
				"match": "digest",
				"names": ["ghcr.io/acme/api:1.4.2", digest, image_id],
				"counts_for": ["license", "misconfiguration", "secret", "vulnerability"],
				"note": null,
			},
		},
		{
			"tool": "docker",
			"tool_version": null,
			"format": "docker-inspect",
			"kinds": ["metadata"],
			"created": null,
			"artifact_name": "ghcr.io/acme/api:1.4.2",
			"artifact_type": "container_image",
			"artifact_digests": [image_id],
			"database": {},
			"input": "inspect.json",
			"input_sha256": "5555555555555555555555555555555555555555555555555555555555555555",
			"finding_count": 0,
			"evidence": {"match": "defines", "names": ["ghcr.io/acme/api:1.4.2", image_id], "counts_for": ["metadata"], "note": null},
		},
	],
	"signatures": [signature],
	"promotion": {"enforced": true, "trust_keys": 1, "verdicts": [earlier_verdict("dev"), earlier_verdict("staging")]},
	"context": {"stage": "prod", "evaluated_at": now},
}

# The key id of the trusted key (--trust-key) that signed the image and the earlier verdicts.
key_id := "sha256:6666666666666666666666666666666666666666666666666666666666666666"

# A cosign signature of this image that the trusted key verified.
signature := {
	"kind": "cosign",
	"input": sprintf("registry://ghcr.io/acme/api:sha256-%s.sig", [substring(digest, 7, -1)]),
	"signed_digest": digest,
	"docker_reference": "ghcr.io/acme/api",
	"about_subject": true,
	"state": "verified",
	"verified": true,
	"key_id": key_id,
	"reason": "verified with the trusted key cosign.pub",
}

# A passing verdict of this image for an earlier stage, signed by the trusted key, from a day
# before now.
earlier_verdict(stage) := {
	"input": sprintf("%s-verdict.json", [stage]),
	"stage": stage,
	"decision": "pass",
	"evaluated_at": "2025-05-31T12:00:00Z",
	"policy_digest": "sha256:7777777777777777777777777777777777777777777777777777777777777777",
	"subject_digests": [digest],
	"about_subject": true,
	"signature": "verified",
	"signer": key_id,
	"signature_reason": "verified with the trusted key gate.pub",
}

# An SBOM inventory entry (from a Syft SBOM).
inventory_package(name, version, type, licenses) := {
	"name": name,
	"version": version,
	"type": type,
	"purl": sprintf("pkg:%s/%s@%s", [type, name, version]),
	"licenses": licenses,
	"cpes": [],
	"locations": [],
	"sources": [{"tool": "syft", "input": "sbom.spdx.json"}],
}

# SLSA provenance of this image (its digest is a subject) from the SLSA GitHub generator.
provenance := {
	"kind": "provenance",
	"predicate_type": "https://slsa.dev/provenance/v0.2",
	"subjects": [{"name": "ghcr.io/acme/api", "digest": {"sha256": substring(digest, 7, -1)}}],
	"subject_digests": [digest],
	"matches_subject": true,
	"builder_id": "https://github.com/slsa-framework/slsa-github-generator/.github/workflows/generator_container_slsa3.yml@refs/tags/v1.10.0",
	"build_type": "https://github.com/slsa-framework/slsa-github-generator/container@v1",
	"source_repository": "https://github.com/acme/api",
	"source_revision": "3f9c2ab1d2e3f4a5b6c7d8e9f0a1b2c3d4e5f6a7",
	"materials": [],
	"envelope": "dsse",
	"signed": true,
	"input": "provenance.intoto.jsonl",
}

# An SPDX SBOM attestation of this image.
sbom_attestation := object.union(provenance, {
	"kind": "sbom",
	"predicate_type": "https://spdx.dev/Document",
	"builder_id": null,
	"build_type": null,
	"source_repository": null,
	"source_revision": null,
	"input": "sbom.att.json",
	"packages": 3,
})

# in_stage(d, stage) is document d gated for stage.
in_stage(d, stage) := object.union(d, {"context": {"stage": stage}})

# with_image(fields) is doc with some image fields replaced.
with_image(fields) := object.union(doc, {"image": fields})

# Vulnerability with every field the schema has; tests override what they need.
vulnerability(id, severity, pkg, version, fixed) := {
	"id": id,
	"aliases": [],
	"severity": severity,
	"cvss": null,
	"package": {"name": pkg, "version": version, "type": "deb", "purl": sprintf("pkg:deb/debian/%s@%s", [pkg, version]), "path": null},
	"fixed_versions": fixed,
	"fix_version": _lowest(fixed),
	"fix_available": count(fixed) > 0,
	"status": _status(fixed),
	"title": null,
	"description": null,
	"urls": [],
	"published": "2024-01-10T00:00:00Z",
	"sources": [{"tool": "trivy", "input": "trivy.json", "severity": severity, "severity_source": "nvd"}],
	"vex": null,
}

# What the core computes from a list already in version order, none below the installed one.
_lowest(fixed) := fixed[0] if count(fixed) > 0

else := null

# The package of a licence finding named pkg (null: the licence of a file), as the core
# records it.
license_package(pkg) := {"name": pkg, "version": null, "type": null, "purl": null, "path": null} if {
	is_string(pkg)
} else := null

# A VEX assessment (OpenVEX) of the given status and justification.
vex(status, justification) := {
	"status": status,
	"justification": justification,
	"impact_statement": null,
	"action_statement": null,
	"timestamp": "2025-05-01T00:00:00Z",
	"input": "vex.openvex.json",
	"document_id": "https://openvex.dev/docs/acme/vex-1",
	"author": "Acme Security",
}

# with_vex(v, assessment) is vulnerability v with a VEX assessment.
with_vex(v, assessment) := object.union(v, {"vex": assessment})

_status(fixed) := "fixed" if count(fixed) > 0 else := "affected"

with_vulnerabilities(vs) := object.union(doc, {"vulnerabilities": vs})

# The test configuration: the same shape and default actions as policies/data.json, kept
# here so that the security team can edit data.json without breaking rule logic tests.
rule_ids := [
	"vuln-fixable-critical", "vuln-fixable-high", "vuln-unfixed-critical-aged", "secret-found",
	"misconfig-high", "license-forbidden", "image-root-user", "image-tag-latest",
	"image-tag-convention", "image-labels-required", "image-healthcheck-missing", "image-too-old",
	"image-base-unapproved", "image-env-secret", "image-metadata-missing", "scan-required",
	"evidence-not-about-image", "scan-stale", "vex-not-blocking", "vex-missing-justification",
	"license-copyleft", "sbom-required", "provenance-required", "provenance-builder-untrusted",
	"promotion-order", "signature-required",
]

config := {
	"stage_order": ["dev", "staging", "prod"],
	"stages": {
		"dev": {
			"actions": {
				"vuln-fixable-critical": "deny", "vuln-fixable-high": "warn",
				"vuln-unfixed-critical-aged": "warn", "secret-found": "deny", "misconfig-high": "warn",
				"license-forbidden": "warn", "image-root-user": "warn", "image-tag-latest": "off",
				"image-tag-convention": "off", "image-labels-required": "warn",
				"image-healthcheck-missing": "warn", "image-too-old": "warn",
				"image-base-unapproved": "warn", "image-env-secret": "warn",
				"image-metadata-missing": "warn", "scan-required": "off",
				"evidence-not-about-image": "warn", "scan-stale": "off",
				"vex-not-blocking": "warn", "vex-missing-justification": "warn",
				"license-copyleft": "off", "sbom-required": "off", "provenance-required": "off",
				"provenance-builder-untrusted": "warn",
				"promotion-order": "off", "signature-required": "off",
			},
			"settings": {
				"unfixed_critical_grace_days": 30, "max_image_age_days": 365,
				"max_scan_age_hours": 168, "require_vulnerability_scan": false,
				"misconfiguration_severities": ["critical", "high"], "scan_time_unknown_blocks": false,
				"max_clock_skew_minutes": 5, "max_verdict_age_hours": 336,
			},
		},
		"staging": {
			"actions": {
				"vuln-fixable-critical": "deny", "vuln-fixable-high": "deny",
				"vuln-unfixed-critical-aged": "warn", "secret-found": "deny", "misconfig-high": "deny",
				"license-forbidden": "deny", "image-root-user": "deny", "image-tag-latest": "deny",
				"image-tag-convention": "warn", "image-labels-required": "deny",
				"image-healthcheck-missing": "warn", "image-too-old": "deny",
				"image-base-unapproved": "deny", "image-env-secret": "deny",
				"image-metadata-missing": "warn", "scan-required": "warn",
				"evidence-not-about-image": "deny", "scan-stale": "warn",
				"vex-not-blocking": "warn", "vex-missing-justification": "warn",
				"license-copyleft": "warn", "sbom-required": "warn", "provenance-required": "warn",
				"provenance-builder-untrusted": "warn",
				"promotion-order": "deny", "signature-required": "warn",
			},
			"settings": {
				"unfixed_critical_grace_days": 30, "max_image_age_days": 180,
				"max_scan_age_hours": 72, "require_vulnerability_scan": true,
				"misconfiguration_severities": ["critical", "high"], "scan_time_unknown_blocks": false,
				"max_clock_skew_minutes": 5, "max_verdict_age_hours": 336,
			},
		},
		"prod": {
			"actions": {
				"vuln-fixable-critical": "deny", "vuln-fixable-high": "deny",
				"vuln-unfixed-critical-aged": "warn", "secret-found": "deny", "misconfig-high": "deny",
				"license-forbidden": "deny", "image-root-user": "deny", "image-tag-latest": "deny",
				"image-tag-convention": "deny", "image-labels-required": "deny",
				"image-healthcheck-missing": "warn", "image-too-old": "deny",
				"image-base-unapproved": "deny", "image-env-secret": "deny",
				"image-metadata-missing": "warn", "scan-required": "deny",
				"evidence-not-about-image": "deny", "scan-stale": "deny",
				"vex-not-blocking": "warn", "vex-missing-justification": "warn",
				"license-copyleft": "deny", "sbom-required": "deny", "provenance-required": "deny",
				"provenance-builder-untrusted": "warn",
				"promotion-order": "deny", "signature-required": "deny",
			},
			"settings": {
				"unfixed_critical_grace_days": 14, "max_image_age_days": 90,
				"max_scan_age_hours": 24, "require_vulnerability_scan": true,
				"misconfiguration_severities": ["critical", "high"], "scan_time_unknown_blocks": false,
				"max_clock_skew_minutes": 5, "max_verdict_age_hours": 168,
			},
		},
	},
	"forbidden_licenses": ["AGPL-1.0*", "AGPL-3.0*", "SSPL-1.0", "*Affero General Public License*"],
	"required_labels": [
		"org.opencontainers.image.source",
		"org.opencontainers.image.revision",
		"org.opencontainers.image.version",
	],
	"approved_base_images": [
		"docker.io/library/alpine:3.*",
		"gcr.io/distroless/**",
		"cgr.dev/chainguard/**",
	],
	"secret_env_patterns": ["*PASSWORD*", "*SECRET*", "*TOKEN*", "*API_KEY*"],
	"secret_env_allowlist": ["*_FILE"],
	"copyleft_licenses": ["GPL-2.0*", "GPL-3.0*", "AGPL-3.0*", "LGPL-*", "MPL-2.0", "*General Public License*"],
	"copyleft_exceptions": ["Classpath-exception*", "Linux-syscall-note"],
	"copyleft_exempt_package_types": ["apk", "deb"],
	"trusted_builders": [
		"https://github.com/slsa-framework/slsa-github-generator/.github/workflows/*_slsa3.yml@refs/tags/v*",
		"https://cloudbuild.googleapis.com/GoogleHostedWorker*",
	],
}

# config_with(stage, actions, settings) is config with some of a stage's actions and
# settings replaced.
config_with(stage, actions, settings) := object.union(config, {"stages": {stage: {"actions": actions, "settings": settings}}})

# ids(results) is the set of finding ids (or fields) of a set of results.
ids(results) := {x | some r in results; x := _key(r.finding)}

_key(f) := f.id if "id" in object.keys(f) else := f.field

# doc with nothing known about the image config: no metadata scan, and none of the image
# facts (created, os, env, layers) that only an image config carries. (object.union merges
# recursively, so emptying env needs json.patch.)
unknown_image := json.patch(doc, [
	{"op": "replace", "path": "/image", "value": {
		"created": null, "user": null, "env": {}, "labels": {}, "exposed_ports": [],
		"entrypoint": null, "cmd": null, "workdir": null, "healthcheck": null, "os": null,
		"architecture": null, "variant": null, "size": null, "layers": [], "base": null,
		"os_family": null, "os_version": null,
	}},
	{"op": "replace", "path": "/scans", "value": [doc.scans[0]]},
])
