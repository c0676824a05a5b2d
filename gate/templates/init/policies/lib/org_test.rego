package lib.org_test

import data.lib.org as lib
import rego.v1

config := {
	"stage_order": ["dev", "prod"],
	"stages": {
		"dev": {"actions": {"r": "warn", "typo": "block"}, "settings": {"days": 30, "name": "x"}},
		"prod": {"actions": {"r": "deny"}, "settings": {"days": 7}},
	},
	"teams": ["a"],
}

test_stage_from_input_else_the_strictest if {
	lib.stage == "dev" with input as {"context": {"stage": "dev"}} with data.gate_config as config
	lib.stage == "prod" with input as {"context": {"stage": ""}} with data.gate_config as config
	lib.stage == "prod" with input as {} with data.gate_config as {"stage_order": []}
	lib.stage == "qa" with input as {} with data.gate_config as {"stage_order": ["dev", "qa"]}
}

test_action_fails_closed if {
	lib.action("r") == "warn" with input as {"context": {"stage": "dev"}} with data.gate_config as config
	lib.action("r") == "deny" with input as {"context": {"stage": "prod"}} with data.gate_config as config
	lib.action("typo") == "deny" with input as {"context": {"stage": "dev"}} with data.gate_config as config
	lib.action("unknown-rule") == "deny" with input as {"context": {"stage": "dev"}} with data.gate_config as config
	lib.action("r") == "deny" with input as {"context": {"stage": "qa"}} with data.gate_config as config
	lib.action("r") == "deny" with input as {"context": {"stage": "dev"}} with data.gate_config as "junk"
}

test_setting_falls_back_on_a_missing_or_mistyped_value if {
	lib.setting("days", 1) == 30 with input as {"context": {"stage": "dev"}} with data.gate_config as config
	lib.setting("days", 1) == 7 with input as {"context": {"stage": "prod"}} with data.gate_config as config
	lib.setting("name", 1) == 1 with input as {"context": {"stage": "dev"}} with data.gate_config as config
	lib.setting("other", 1) == 1 with input as {"context": {"stage": "dev"}} with data.gate_config as config
}

test_config_value if {
	lib.config_value("teams", []) == ["a"] with data.gate_config as config
	lib.config_value("teams", "") == "" with data.gate_config as config
	lib.config_value("missing", ["x"]) == ["x"] with data.gate_config as config
}

test_text if {
	lib.text("a") == "a"
	not lib.text("")
	not lib.text(" ")
	not lib.text(null)
	not lib.text(7)
}

test_image_known_and_labels if {
	lib.image_known with input as {"image": {"user": ""}}
	not lib.image_known with input as {"image": {"user": null}}
	lib.labels == {"a": "b"} with input as {"image": {"labels": {"a": "b"}}}
	lib.labels == {} with input as {"image": {"labels": null}}
}

test_time if {
	now := {"context": {"evaluated_at": "2026-01-31T12:00:00Z"}}
	lib.now_ns == 1769860800000000000 with input as now
	lib.age_days("2026-01-01T12:00:00Z") == 30 with input as now
	lib.age_days("2026-01-01T12:00:00.5Z") == 29 with input as now
	lib.parse_ns("1970-01-01T00:00:00Z") == 0
}

test_malformed_times_are_undefined_not_errors if {
	every ts in ["", "2026-01-31", "2026-01-31T12:00:00", "2026-01-31 12:00:00Z", "9999-12-31T00:00:00Z", "1600-01-01T00:00:00Z", null, 7] {
		not lib.parse_ns(ts)
	}
	not lib.age_days("2026-01-01T00:00:00Z") with input as {"context": {}}
}
