package gate.supply_chain.provenance_builder_untrusted_test

import data.gate.supply_chain.provenance_builder_untrusted as rule
import data.lib.fixtures_test as fx
import rego.v1

built_by(builder) := json.patch(fx.doc, [{
	"op": "replace", "path": "/attestations",
	"value": [object.union(fx.provenance, {"builder_id": builder})],
}])

evil := "https://ci.example.com/builder"

test_trusted_builders_pass if {
	every builder in [
		fx.provenance.builder_id,
		"https://github.com/slsa-framework/slsa-github-generator/.github/workflows/builder_go_slsa3.yml@refs/tags/v2.0.0",
		"https://cloudbuild.googleapis.com/GoogleHostedWorker@v0.3",
	] {
		count(rule.findings) == 0 with input as built_by(builder) with data.gate_config as fx.config
	}
}

test_untrusted_builder_warns_in_every_stage if {
	d := built_by(evil)
	found := rule.warn with input as d with data.gate_config as fx.config
	count(found) == 1
	some r in found
	r.id == "provenance-builder-untrusted"
	r.severity == "high"
	r.msg == "the build provenance in provenance.intoto.jsonl names builder https://ci.example.com/builder, which is not on the trusted list"
	r.finding == {"kind": "attestation", "id": "provenance", "input": "provenance.intoto.jsonl", "builder_id": evil}
	every stage in ["dev", "staging"] {
		count(rule.warn) == 1 with input as fx.in_stage(d, stage) with data.gate_config as fx.config
		count(rule.deny) == 0 with input as fx.in_stage(d, stage) with data.gate_config as fx.config
	}
}

test_deny_when_configured if {
	cfg := fx.config_with("prod", {"provenance-builder-untrusted": "deny"}, {})
	count(rule.deny) == 1 with input as built_by(evil) with data.gate_config as cfg
	count(rule.warn) == 0 with input as built_by(evil) with data.gate_config as cfg
}

test_glob_semantics if {
	every builder in [
		# "*" stays within a path segment; matching is case-sensitive; branches are not tags.
		"https://github.com/slsa-framework/slsa-github-generator/.github/workflows/x/generator_generic_slsa3.yml@refs/tags/v1.9.0",
		"https://github.com/SLSA-framework/slsa-github-generator/.github/workflows/generator_generic_slsa3.yml@refs/tags/v1.9.0",
		"https://github.com/slsa-framework/slsa-github-generator/.github/workflows/generator_generic_slsa3.yml@refs/heads/main",
		"https://github.com/evil/slsa-github-generator/.github/workflows/generator_generic_slsa3.yml@refs/tags/v1.9.0",
		"https://cloudbuild.googleapis.com.evil.example/GoogleHostedWorker",
	] {
		count(rule.findings) == 1 with input as built_by(builder) with data.gate_config as fx.config
	}
}

test_missing_builder_id if {
	found := rule.findings with input as built_by(null) with data.gate_config as fx.config
	some r in found
	r.msg == "the build provenance in provenance.intoto.jsonl names no builder, so it cannot be checked against the trusted list"
	r.finding.builder_id == null
	count(rule.findings) == 1 with input as built_by("") with data.gate_config as fx.config
}

test_only_provenance_of_this_image_is_checked if {
	every matches in [false, null] {
		d := json.patch(fx.doc, [{
			"op": "replace", "path": "/attestations",
			"value": [object.union(fx.provenance, {"builder_id": evil, "matches_subject": matches})],
		}])
		count(rule.findings) == 0 with input as d with data.gate_config as fx.config
	}
}

test_empty_list_disables_missing_list_uses_default if {
	cfg := object.union(fx.config, {"trusted_builders": []})
	count(rule.findings) == 0 with input as built_by(evil) with data.gate_config as cfg
	cfg2 := object.remove(fx.config, ["trusted_builders"])
	count(rule.findings) == 1 with input as built_by(evil) with data.gate_config as cfg2
	count(rule.findings) == 0 with input as built_by("https://github.com/actions/runner/github-hosted") with data.gate_config as cfg2
	# The test configuration does not list GitHub-hosted runners.
	count(rule.findings) == 1 with input as built_by("https://github.com/actions/runner/github-hosted") with data.gate_config as fx.config
}
