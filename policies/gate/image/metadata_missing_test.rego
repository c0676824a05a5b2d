package gate.image.metadata_missing_test

import data.gate.image.metadata_missing as rule
import data.lib.fixtures_test as fx
import rego.v1

no_metadata := fx.unknown_image

test_reported_when_nothing_describes_the_image if {
	found_r := rule.warn with input as no_metadata with data.gate_config as fx.config
	some r in found_r
	r.id == "image-metadata-missing"
	r.finding == {"kind": "scan", "id": null}
	count(rule.deny) == 0 with input as no_metadata with data.gate_config as fx.config
}

test_warns_in_every_stage if {
	every stage in ["dev", "staging", "prod"] {
		count(rule.warn) == 1 with input as fx.in_stage(no_metadata, stage) with data.gate_config as fx.config
	}
}

test_silent_when_the_image_is_known if {
	count(rule.findings) == 0 with input as fx.doc with data.gate_config as fx.config
	count(rule.findings) == 0 with input as object.union(no_metadata, {"image": {"user": "app"}}) with data.gate_config as fx.config
	count(rule.findings) == 1 with input as object.union(no_metadata, {"image": {"os": "linux"}}) with data.gate_config as fx.config
}

test_empty_document_does_not_crash if {
	count(rule.findings) == 1 with input as {"context": {"stage": "prod", "evaluated_at": fx.now}} with data.gate_config as fx.config
	count(rule.findings) == 1 with input as {} with data.gate_config as fx.config
}

test_deny_when_configured if {
	cfg := fx.config_with("prod", {"image-metadata-missing": "deny"}, {})
	count(rule.deny) == 1 with input as no_metadata with data.gate_config as cfg
	count(rule.warn) == 0 with input as no_metadata with data.gate_config as cfg
}
