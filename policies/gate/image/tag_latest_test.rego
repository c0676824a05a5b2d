package gate.image.tag_latest_test

import data.gate.image.tag_latest as rule
import data.lib.fixtures_test as fx
import rego.v1

tagged(tag) := object.union(fx.doc, {"subject": {"tag": tag, "reference": "ghcr.io/acme/api"}})

test_latest_denied_outside_dev if {
	found_r := rule.deny with input as tagged("latest") with data.gate_config as fx.config
	some r in found_r
	r.id == "image-tag-latest"
	r.finding == {"kind": "image", "field": "tag", "value": "latest"}
	r.msg == "image ghcr.io/acme/api is tagged \"latest\", a moving tag"
	count(rule.deny) == 1 with input as fx.in_stage(tagged("LATEST"), "staging") with data.gate_config as fx.config
}

test_off_in_dev if {
	d := fx.in_stage(tagged("latest"), "dev")
	count(rule.deny) + count(rule.warn) == 0 with input as d with data.gate_config as fx.config
}

test_missing_tag_denied if {
	every t in [null, "", " "] {
		count(rule.deny) == 1 with input as tagged(t) with data.gate_config as fx.config
	}
	found_r := rule.deny with input as tagged(null) with data.gate_config as fx.config
	some r in found_r
	r.msg == "image ghcr.io/acme/api has no tag"
}

test_subject_unknown_counts_as_untagged if {
	found_r := rule.deny with input as object.union(fx.doc, {"subject": null}) with data.gate_config as fx.config
	some r in found_r
	r.msg == "image (reference unknown) has no tag"
}

test_versioned_tags_pass if {
	every t in ["1.4.2", "latest-1.2", "nightly"] {
		count(rule.findings) == 0 with input as tagged(t) with data.gate_config as fx.config
	}
}

test_warn_when_configured if {
	cfg := fx.config_with("dev", {"image-tag-latest": "warn"}, {})
	d := fx.in_stage(tagged("latest"), "dev")
	count(rule.warn) == 1 with input as d with data.gate_config as cfg
	count(rule.deny) == 0 with input as d with data.gate_config as cfg
}

test_missing_subject_key_counts_as_untagged if {
	d := json.patch(fx.doc, [{"op": "remove", "path": "/subject"}])
	count(rule.deny) == 1 with input as d with data.gate_config as fx.config
	count(rule.deny) == 1 with input as {} with data.gate_config as fx.config
}
