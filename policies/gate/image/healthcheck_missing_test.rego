package gate.image.healthcheck_missing_test

import data.gate.image.healthcheck_missing as rule
import data.lib.fixtures_test as fx
import rego.v1

with_healthcheck(hc) := json.patch(fx.doc, [{"op": "replace", "path": "/image/healthcheck", "value": hc}])

test_healthcheck_present_passes if {
	count(rule.findings) == 0 with input as fx.doc with data.gate_config as fx.config
}

test_missing_healthcheck_warns_in_every_stage if {
	every stage in ["dev", "staging", "prod"] {
		d := fx.in_stage(with_healthcheck(null), stage)
		count(rule.warn) == 1 with input as d with data.gate_config as fx.config
		count(rule.deny) == 0 with input as d with data.gate_config as fx.config
	}
	found_r := rule.warn with input as with_healthcheck(null) with data.gate_config as fx.config
	some r in found_r
	r.finding == {"kind": "image", "field": "healthcheck", "value": null}
	r.msg == "image defines no HEALTHCHECK"
	r.severity == "low"
}

test_disabled_or_empty_healthcheck_warns if {
	found_r := rule.warn with input as with_healthcheck({"test": ["NONE"]}) with data.gate_config as fx.config
	some r in found_r
	r.finding.value == "NONE"
	count(rule.warn) == 1 with input as with_healthcheck({"test": []}) with data.gate_config as fx.config
	count(rule.warn) == 1 with input as with_healthcheck({"test": null}) with data.gate_config as fx.config
}

test_silent_when_image_config_unknown if {
	count(rule.findings) == 0 with input as fx.unknown_image with data.gate_config as fx.config
}

test_deny_when_configured if {
	cfg := fx.config_with("prod", {"image-healthcheck-missing": "deny"}, {})
	d := with_healthcheck(null)
	count(rule.deny) == 1 with input as d with data.gate_config as cfg
	count(rule.warn) == 0 with input as d with data.gate_config as cfg
}
