package gate.image.labels_required_test

import data.gate.image.labels_required as rule
import data.lib.fixtures_test as fx
import rego.v1

with_labels(labels) := json.patch(fx.doc, [{"op": "replace", "path": "/image/labels", "value": labels}])

test_all_labels_present_passes if {
	count(rule.findings) == 0 with input as fx.doc with data.gate_config as fx.config
}

test_one_result_per_missing_label if {
	d := with_labels({"org.opencontainers.image.source": "https://github.com/acme/api", "org.opencontainers.image.version": "  "})
	fx.ids(rule.deny) == {"org.opencontainers.image.revision", "org.opencontainers.image.version"} with input as d with data.gate_config as fx.config
	found_r := rule.deny with input as d with data.gate_config as fx.config
	some r in found_r
	r.finding == {"kind": "label", "id": "org.opencontainers.image.revision"}
	r.msg == "required label org.opencontainers.image.revision is missing or empty"
}

test_warn_in_dev if {
	d := fx.in_stage(with_labels({}), "dev")
	count(rule.warn) == 3 with input as d with data.gate_config as fx.config
	count(rule.deny) == 0 with input as d with data.gate_config as fx.config
}

test_label_list_comes_from_data if {
	cfg := object.union(fx.config, {"required_labels": ["com.acme.team"]})
	fx.ids(rule.findings) == {"com.acme.team"} with input as fx.doc with data.gate_config as cfg
}

test_missing_list_falls_back_to_oci_labels if {
	cfg := object.remove(fx.config, ["required_labels"])
	count(rule.findings) == 3 with input as with_labels(null) with data.gate_config as cfg
}

test_silent_when_image_config_unknown if {
	count(rule.findings) == 0 with input as fx.unknown_image with data.gate_config as fx.config
}

test_missing_or_null_labels_mean_every_label_is_missing if {
	count(rule.deny) == 3 with input as json.patch(fx.doc, [{"op": "remove", "path": "/image/labels"}]) with data.gate_config as fx.config
	count(rule.deny) == 3 with input as with_labels(null) with data.gate_config as fx.config
	count(rule.deny) == 3 with input as with_labels(["org.opencontainers.image.source"]) with data.gate_config as fx.config
}
