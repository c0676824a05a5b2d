package gate.org.registry_allowed_test

import data.gate.org.registry_allowed as rule
import rego.v1

config := {
	"stage_order": ["dev", "staging", "prod"],
	"stages": {
		"dev": {"actions": {"org-registry-unapproved": "warn"}},
		"prod": {"actions": {"org-registry-unapproved": "deny"}},
	},
	"allowed_registries": ["ghcr.io/acme/**", "registry.acme.example", "*.dkr.ecr.eu-west-1.amazonaws.com"],
}

# image(reference, registry, repository) is the part of gate's document this rule reads.
image(reference, registry, repository, stage) := {
	"subject": {"reference": reference, "registry": registry, "repository": repository},
	"context": {"stage": stage, "evaluated_at": "2026-01-15T12:00:00Z"},
}

test_images_from_allowed_registries_pass if {
	every case in [
		["ghcr.io/acme/shop-api:1.4.2", "ghcr.io", "acme/shop-api"],
		["ghcr.io/acme/team/tool:2", "ghcr.io", "acme/team/tool"],
		["registry.acme.example/payments/api:3.1.0", "registry.acme.example", "payments/api"],
		["REGISTRY.ACME.EXAMPLE/payments/api:3.1.0", "REGISTRY.ACME.EXAMPLE", "payments/api"],
		["123456789012.dkr.ecr.eu-west-1.amazonaws.com/api:1", "123456789012.dkr.ecr.eu-west-1.amazonaws.com", "api"],
	] {
		count(rule.findings) == 0 with input as image(case[0], case[1], case[2], "prod") with data.gate_config as config
	}
}

test_images_from_elsewhere_fail if {
	every case in [
		["docker.io/library/nginx:1.27", "docker.io", "library/nginx"],
		["ghcr.io/acme-evil/shop-api:1", "ghcr.io", "acme-evil/shop-api"],
		["ghcr.io/someone/acme:1", "ghcr.io", "someone/acme"],
		["registry.acme.example.evil.io/api:1", "registry.acme.example.evil.io", "api"],
		["123456789012.dkr.ecr.us-east-1.amazonaws.com/api:1", "123456789012.dkr.ecr.us-east-1.amazonaws.com", "api"],
	] {
		count(rule.deny) == 1 with input as image(case[0], case[1], case[2], "prod") with data.gate_config as config
	}
}

test_result_shape if {
	d := image("docker.io/library/nginx:1.27", "docker.io", "library/nginx", "prod")
	found := rule.deny with input as d with data.gate_config as config
	found == {{
		"id": "org-registry-unapproved",
		"msg": "docker.io/library/nginx:1.27 is not in an approved registry; allowed: ghcr.io/acme/**, registry.acme.example, *.dkr.ecr.eu-west-1.amazonaws.com",
		"severity": "high",
		"remediation": "Push the image to one of the organisation's registries (gate_config.allowed_registries) and gate that reference (gate check --image REF).",
		"finding": {"kind": "image", "field": "registry", "value": "docker.io"},
	}}
}

test_unknown_registry_is_reported if {
	every d in [
		image(null, null, null, "prod"),
		image("", "", "", "prod"),
		{"subject": {}, "context": {"stage": "prod"}},
		{"context": {"stage": "prod"}},
	] {
		found := rule.deny with input as d with data.gate_config as config
		[r.finding.value | some r in found] == [null]
	}
}

test_missing_repository_and_reference if {
	d := image(null, "registry.acme.example", null, "prod")
	count(rule.findings) == 0 with input as d with data.gate_config as config
	found := rule.deny with input as image(null, "quay.io", null, "prod") with data.gate_config as config
	[r.msg | some r in found] == ["quay.io/ is not in an approved registry; allowed: ghcr.io/acme/**, registry.acme.example, *.dkr.ecr.eu-west-1.amazonaws.com"]
}

test_stage_actions if {
	d := image("docker.io/library/nginx:1.27", "docker.io", "library/nginx", "dev")
	count(rule.warn) == 1 with input as d with data.gate_config as config
	count(rule.deny) == 0 with input as d with data.gate_config as config
	off := json.patch(config, [{"op": "add", "path": "/stages/dev/actions/org-registry-unapproved", "value": "off"}])
	count(rule.warn) + count(rule.deny) == 0 with input as d with data.gate_config as off
}

test_a_stage_without_an_action_denies if {
	d := image("docker.io/library/nginx:1.27", "docker.io", "library/nginx", "staging")
	count(rule.deny) == 1 with input as d with data.gate_config as config
}

test_empty_or_missing_list_allows_nothing if {
	d := image("ghcr.io/acme/shop-api:1.4.2", "ghcr.io", "acme/shop-api", "prod")
	found := rule.deny with input as d with data.gate_config as object.remove(config, ["allowed_registries"])
	[r.msg | some r in found] == ["ghcr.io/acme/shop-api:1.4.2 is not in an approved registry; allowed: none (gate_config.allowed_registries is empty)"]
	count(rule.deny) == 1 with input as d with data.gate_config as object.union(config, {"allowed_registries": [null, "", 7]})
}
