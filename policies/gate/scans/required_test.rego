package gate.scans.required_test

import data.gate.scans.required as rule
import data.lib.fixtures_test as fx
import rego.v1

metadata_only := object.union(fx.doc, {"scans": [fx.doc.scans[1]]})

test_vulnerability_scan_present_passes if {
	count(rule.findings) == 0 with input as fx.doc with data.gate_config as fx.config
}

test_missing_vulnerability_scan_by_stage if {
	found_r := rule.deny with input as metadata_only with data.gate_config as fx.config
	some r in found_r
	r.id == "scan-required"
	r.finding == {"kind": "scan", "id": null}
	r.msg == "no vulnerability scan of this image was given (inputs: inspect.json)"
	count(rule.warn) == 1 with input as fx.in_stage(metadata_only, "staging") with data.gate_config as fx.config
	count(rule.deny) + count(rule.warn) == 0 with input as fx.in_stage(metadata_only, "dev") with data.gate_config as fx.config
}

test_a_secret_only_scan_is_not_a_vulnerability_scan if {
	secret_only := object.union(fx.doc.scans[0], {"kinds": ["secret"]})
	count(rule.findings) == 1 with input as object.union(fx.doc, {"scans": [secret_only]}) with data.gate_config as fx.config
}

test_no_inputs_at_all if {
	found_r := rule.findings with input as object.union(fx.doc, {"scans": []}) with data.gate_config as fx.config
	some r in found_r
	r.msg == "no vulnerability scan of this image was given (no inputs at all)"
	count(rule.findings) == 1 with input as object.union(fx.doc, {"scans": null}) with data.gate_config as fx.config
}

test_setting_false_disables_the_check if {
	cfg := fx.config_with("prod", {}, {"require_vulnerability_scan": false})
	count(rule.findings) == 0 with input as metadata_only with data.gate_config as cfg
}

test_missing_setting_requires_a_scan if {
	cfg := json.patch(fx.config, [{"op": "remove", "path": "/stages/dev/settings/require_vulnerability_scan"}])
	count(rule.findings) == 1 with input as fx.in_stage(metadata_only, "dev") with data.gate_config as cfg
}

test_a_scan_of_another_image_or_of_none_is_not_a_scan_of_this_image if {
	other := object.union(fx.doc.scans[0], {"evidence": {"match": "other-image", "counts_for": []}})
	unnamed := object.union(fx.doc.scans[0], {"evidence": {"match": "unnamed", "counts_for": []}})
	unrecorded := object.remove(fx.doc.scans[0], ["evidence"])
	every scan in [other, unnamed, unrecorded] {
		d := object.union(fx.doc, {"scans": [scan, fx.doc.scans[1]]})
		count(rule.deny) == 1 with input as d with data.gate_config as fx.config
	}
	d := object.union(fx.doc, {"scans": [other, fx.doc.scans[1]]})
	found := rule.deny with input as d with data.gate_config as fx.config
	some r in found
	r.msg == "no vulnerability scan of this image was given (inputs: trivy.json, inspect.json); not about this image: trivy.json"
}
