package gate.image.too_old_test

import data.gate.image.too_old as rule
import data.lib.fixtures_test as fx
import rego.v1

built(created) := fx.with_image({"created": created})

test_recent_image_passes if {
	count(rule.findings) == 0 with input as fx.doc with data.gate_config as fx.config
}

test_limits_differ_by_stage if {
	# 2024-12-01 is 182 days before fx.now: over prod's 90 and staging's 180, under dev's 365.
	d := built("2024-12-01T12:00:00Z")
	found_r := rule.deny with input as d with data.gate_config as fx.config
	some r in found_r
	r.id == "image-too-old"
	r.finding == {"kind": "image", "field": "created", "value": "2024-12-01T12:00:00Z"}
	r.msg == "image was built 182 days ago (2024-12-01T12:00:00Z); prod allows at most 90 days"
	count(rule.deny) == 1 with input as fx.in_stage(d, "staging") with data.gate_config as fx.config
	count(rule.findings) == 0 with input as fx.in_stage(d, "dev") with data.gate_config as fx.config
	count(rule.warn) == 1 with input as fx.in_stage(built("2024-01-01T00:00:00Z"), "dev") with data.gate_config as fx.config
}

test_boundary_is_exclusive if {
	count(rule.findings) == 0 with input as built("2025-03-03T12:00:00Z") with data.gate_config as fx.config
	count(rule.findings) == 1 with input as built("2025-03-03T11:59:59Z") with data.gate_config as fx.config
}

test_unknown_malformed_and_placeholder_times_are_skipped if {
	every c in [null, "", "last year", "2024-02-30T00:00:00Z", "1970-01-01T00:00:00Z", "1970-01-01T00:00:01Z", "9999-12-31T23:59:59Z"] {
		count(rule.findings) == 0 with input as built(c) with data.gate_config as fx.config
	}
}

test_offsets_and_fractions_are_understood if {
	count(rule.findings) == 1 with input as built("2024-12-01T12:00:00.123456+02:00") with data.gate_config as fx.config
}

test_mistyped_setting_falls_back_to_strict_default if {
	cfg := fx.config_with("dev", {}, {"max_image_age_days": "365"})
	d := fx.in_stage(built("2024-12-01T12:00:00Z"), "dev")
	count(rule.warn) == 1 with input as d with data.gate_config as cfg
}

test_a_build_time_in_the_future_is_judged_too_old if {
	d := built("2025-06-03T00:00:00Z")
	found := rule.deny with input as d with data.gate_config as fx.config
	count(found) == 1
	some r in found
	r.msg == "image build time 2025-06-03T00:00:00Z is after this evaluation (2025-06-01T12:00:00Z): a build time in the future cannot be checked for age (5 minutes of clock skew allowed)"
	count(rule.findings) == 0 with input as built("2025-06-01T12:04:00Z") with data.gate_config as fx.config
}
