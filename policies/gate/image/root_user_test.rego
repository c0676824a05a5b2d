package gate.image.root_user_test

import data.gate.image.root_user as rule
import data.lib.fixtures_test as fx
import rego.v1

as_user(u) := fx.with_image({"user": u})

test_root_users_are_reported if {
	every u in ["", "  ", "root", "0", "0:0", "root:root", "0:1000", "root:wheel", " root "] {
		count(rule.findings) == 1 with input as as_user(u) with data.gate_config as fx.config
	}
}

test_non_root_users_pass if {
	every u in ["app", "1000", "1000:1000", "65532:65532", "nonroot", "rootless", "10", "app:0"] {
		count(rule.findings) == 0 with input as as_user(u) with data.gate_config as fx.config
	}
}

test_result_shape_and_messages if {
	found_r := rule.deny with input as as_user("0:0") with data.gate_config as fx.config
	some r in found_r
	r.id == "image-root-user"
	r.severity == "high"
	r.finding == {"kind": "image", "field": "user", "value": "0:0"}
	r.msg == "image runs as root (USER is \"0:0\")"
	found_s := rule.deny with input as as_user("") with data.gate_config as fx.config
	some s in found_s
	s.finding == {"kind": "image", "field": "user", "value": ""}
	s.msg == "image runs as root (no USER is set)"
}

# Sources record USER as a string whenever they saw an image config ("" being root); null
# means no config was seen, which is not evidence of root.
test_unknown_user_is_not_root if {
	count(rule.findings) == 0 with input as as_user(null) with data.gate_config as fx.config
	d := json.patch(fx.doc, [{"op": "remove", "path": "/image/user"}])
	count(rule.findings) == 0 with input as d with data.gate_config as fx.config
}

test_warn_in_dev_deny_in_staging_and_prod if {
	d := as_user("root")
	count(rule.warn) == 1 with input as fx.in_stage(d, "dev") with data.gate_config as fx.config
	count(rule.deny) == 0 with input as fx.in_stage(d, "dev") with data.gate_config as fx.config
	count(rule.deny) == 1 with input as fx.in_stage(d, "staging") with data.gate_config as fx.config
	count(rule.deny) == 1 with input as fx.in_stage(d, "prod") with data.gate_config as fx.config
}

# No metadata input and no image facts: the user is unknown, not root.
unknown_image := fx.unknown_image

test_silent_when_image_config_unknown if {
	count(rule.findings) == 0 with input as unknown_image with data.gate_config as fx.config
}

test_facts_other_than_the_user_do_not_make_the_config_known if {
	every facts in [{"created": "2025-01-01T00:00:00Z"}, {"os": "linux"}, {"layers": [{"digest": "sha256:1"}]}] {
		count(rule.findings) == 0 with input as object.union(unknown_image, {"image": facts}) with data.gate_config as fx.config
	}
}

test_an_empty_user_from_a_config_is_root if {
	count(rule.findings) == 1 with input as object.union(unknown_image, {"image": {"user": ""}}) with data.gate_config as fx.config
}

test_image_null_does_not_crash if {
	d := object.union(fx.doc, {"image": null, "scans": [fx.doc.scans[0]]})
	count(rule.findings) == 0 with input as d with data.gate_config as fx.config
}
