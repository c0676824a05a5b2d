package gate.image.tag_convention_test

import data.gate.image.tag_convention as rule
import data.lib.fixtures_test as fx
import rego.v1

tagged(tag) := object.union(fx.doc, {"subject": {"tag": tag}})

test_conventional_tags_pass if {
	every t in [
		"1.2.3", "0.0.1", "v1.2.3", "10.20.30", "1.2.3-rc.1", "1.2.3-alpha.beta.1", "1.2.3-prod",
		"1.2.3-staging", "1.2.3-dev", "1.2.3_build.5", "1.2.3-rc.1_sha.3f9c2ab", "main-3f9c2ab",
		"sha-3f9c2ab", "feature-login-form-3f9c2ab1d2e3f4a5b6c7d8e9f0a1b2c3d4e5f6a7",
		"release-1.2-abcdef0", "1.2.3+build.7",
	] {
		count(rule.findings) == 0 with input as tagged(t) with data.gate_config as fx.config
	}
}

test_unconventional_tags_fail if {
	every t in [
		"nightly", "1.2", "1", "v1", "01.2.3", "1.2.3.4", "1.2.3-", "1.2.3-01", "main-3f9c2a",
		"main-3F9C2AB", "-3f9c2ab", "3f9c2ab", "stable", "1.2.3 ",
	] {
		count(rule.findings) == 1 with input as tagged(t) with data.gate_config as fx.config
	}
}

test_latest_and_missing_tags_are_left_to_the_latest_rule if {
	every t in ["latest", "Latest", null, ""] {
		count(rule.findings) == 0 with input as tagged(t) with data.gate_config as fx.config
	}
}

test_stage_actions if {
	d := tagged("nightly")
	count(rule.findings) == 1 with input as d with data.gate_config as fx.config
	count(rule.deny) == 1 with input as d with data.gate_config as fx.config
	count(rule.warn) == 1 with input as fx.in_stage(d, "staging") with data.gate_config as fx.config
	count(rule.deny) == 0 with input as fx.in_stage(d, "staging") with data.gate_config as fx.config
	count(rule.deny) + count(rule.warn) == 0 with input as fx.in_stage(d, "dev") with data.gate_config as fx.config
}

test_result_shape if {
	found_r := rule.deny with input as tagged("1.2") with data.gate_config as fx.config
	some r in found_r
	r.id == "image-tag-convention"
	r.severity == "low"
	r.finding == {"kind": "image", "field": "tag", "value": "1.2"}
	startswith(r.msg, "tag \"1.2\" is neither a semantic version")
}
