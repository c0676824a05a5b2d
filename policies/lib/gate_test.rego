package lib.gate_test

import data.lib.fixtures_test as fx
import data.lib.gate as lib
import rego.v1

test_action_from_data if {
	lib.action("image-tag-latest") == "off" with input as fx.in_stage(fx.doc, "dev") with data.gate_config as fx.config
	lib.action("image-tag-latest") == "deny" with input as fx.doc with data.gate_config as fx.config
	lib.action("image-tag-convention") == "warn" with input as fx.in_stage(fx.doc, "staging") with data.gate_config as fx.config
}

test_action_fails_closed if {
	lib.action("image-tag-latest") == "deny" with input as fx.in_stage(fx.doc, "qa") with data.gate_config as fx.config
	lib.action("no-such-rule") == "deny" with input as fx.in_stage(fx.doc, "dev") with data.gate_config as fx.config
	lib.action("image-tag-latest") == "deny" with input as fx.in_stage(fx.doc, "dev") with data.gate_config as {}
	lib.action("image-tag-latest") == "deny" with input as fx.in_stage(fx.doc, "dev") with data.gate_config as "junk"
	cfg := fx.config_with("dev", {"image-tag-latest": "ignore"}, {})
	lib.action("image-tag-latest") == "deny" with input as fx.in_stage(fx.doc, "dev") with data.gate_config as cfg
	cfg2 := json.patch(fx.config, [{"op": "remove", "path": "/stages/dev"}])
	lib.action("image-tag-latest") == "deny" with input as fx.in_stage(fx.doc, "dev") with data.gate_config as cfg2
}

test_stage_defaults_to_strictest if {
	d := json.patch(fx.doc, [{"op": "remove", "path": "/context/stage"}])
	data.lib.gate.stage == "prod" with input as d with data.gate_config as fx.config
	cfg := object.union(fx.config, {"stage_order": ["a", "b"]})
	data.lib.gate.stage == "b" with input as d with data.gate_config as cfg
	data.lib.gate.stage == "prod" with input as d with data.gate_config as {}
}

test_setting_falls_back_to_strict_defaults if {
	lib.setting("max_scan_age_hours") == 168 with input as fx.in_stage(fx.doc, "dev") with data.gate_config as fx.config
	lib.setting("max_scan_age_hours") == 24 with input as fx.in_stage(fx.doc, "qa") with data.gate_config as fx.config
	cfg := fx.config_with("dev", {}, {"max_scan_age_hours": "168", "require_vulnerability_scan": "no"})
	lib.setting("max_scan_age_hours") == 24 with input as fx.in_stage(fx.doc, "dev") with data.gate_config as cfg
	lib.setting("require_vulnerability_scan") == true with input as fx.in_stage(fx.doc, "dev") with data.gate_config as cfg
	lib.setting("max_scan_age_hours") == 24 with input as fx.in_stage(fx.doc, "dev") with data.gate_config as {}
}

test_valid_timestamps if {
	every ts in [
		"2024-02-29T00:00:00Z", "2000-02-29T23:59:60Z", "2025-06-01T12:00:00.123456789Z",
		"2025-06-01T12:00:00+05:30", "1678-01-01T00:00:00Z", "2261-12-31T23:59:59Z",
	] {
		lib.valid_timestamp(ts)
		lib.parse_ns(ts)
	}
}

test_invalid_timestamps_are_undefined_not_errors if {
	every ts in [
		null, 42, "", "now", "2023-02-29T00:00:00Z", "1900-02-29T00:00:00Z", "2024-04-31T00:00:00Z",
		"2024-00-10T00:00:00Z", "2024-13-01T00:00:00Z", "2024-01-00T00:00:00Z", "2024-01-01T24:00:00Z",
		"2024-01-01T00:60:00Z", "2024-01-01T00:00:00", "2024-01-01T00:00:00+24:00", "0001-01-01T00:00:00Z",
		"9999-12-31T23:59:59Z", "1677-09-21T00:00:00Z", "2262-04-12T00:00:00Z", "2024-1-1T00:00:00Z",
		"2025-06-01t12:00:00z", "2025-06-01 12:00:00Z", "2025-06-01T12:00:00.1234567891Z",
	] {
		not lib.valid_timestamp(ts)
		not lib.parse_ns(ts)
	}
}

test_time_arithmetic if {
	lib.parse_ns("1970-01-02T00:00:00Z") == lib.days(1)
	lib.parse_ns("1970-01-01T02:00:00+01:00") == lib.hours(1)
	d := fx.doc
	lib.age_ns("2025-06-01T00:00:00Z") == lib.hours(12) with input as d
	data.lib.gate.now_ns == lib.parse_ns("2025-06-01T12:00:00Z") with input as d
	not data.lib.gate.now_ns with input as object.union(fx.doc, {"context": {"evaluated_at": "soon"}})
}

test_glob_any_is_case_insensitive_without_delimiters if {
	lib.glob_any(["agpl-3.0*"], "AGPL-3.0-only")
	lib.glob_any(["*password*"], "db.PASSWORD/x")
	not lib.glob_any(["AGPL-3.0"], "AGPL-3.0-only")
	not lib.glob_any([], "x")
	not lib.glob_any(["*"], null)
}

test_image_known if {
	data.lib.gate.image_known with input as fx.doc
	not data.lib.gate.image_known with input as {}
	not data.lib.gate.image_known with input as {"image": null, "scans": null}
}

test_digest_part if {
	lib.digest_part("ghcr.io/acme/api@SHA256:ABC") == "sha256:abc"
	lib.digest_part("sha256:abc") == "sha256:abc"
	not lib.digest_part(null)
}

test_fixable if {
	lib.fixable({"fix_available": true})
	lib.fixable({"status": "fixed"})
	lib.fixable({"fixed_versions": ["1.2"]})
	not lib.fixable({"fix_available": false, "status": "affected", "fixed_versions": []})
	not lib.fixable({})
}

test_image_and_subject_are_always_objects if {
	data.lib.gate.image == {} with input as {}
	data.lib.gate.subject == {} with input as {"subject": "ghcr.io/acme/api"}
	data.lib.gate.image.user == "app" with input as fx.with_image({"user": "app"})
}
