package gate.image.base_unapproved_test

import data.gate.image.base_unapproved as rule
import data.lib.fixtures_test as fx
import rego.v1

based_on(name) := fx.with_image({"base": {"name": name, "digest": null}})

test_approved_bases_pass if {
	every name in [
		"gcr.io/distroless/static-debian12:nonroot",
		"gcr.io/distroless/java/17:latest",
		"docker.io/library/alpine:3.19",
		"alpine:3.19",
		"library/alpine:3.20",
		"index.docker.io/library/alpine:3.19",
		"docker.io/library/alpine:3.19@sha256:1111111111111111111111111111111111111111111111111111111111111111",
		"alpine:3.19@sha256:1111111111111111111111111111111111111111111111111111111111111111",
		"cgr.dev/chainguard/static:latest",
	] {
		count(rule.findings) == 0 with input as based_on(name) with data.gate_config as fx.config
	}
}

test_unapproved_bases_fail if {
	every name in [
		"docker.io/library/node:18",
		"node:18",
		"alpine:edge",
		"alpine",
		"docker.io/library/alpine:2.7",
		"evil.example.com/gcr.io/distroless/static:nonroot",
		"gcr.io/distroless-fake/static:latest",
		"docker.io/someone/alpine:3.19",
		"docker.io/library/alpine:3.19/../x",
	] {
		count(rule.findings) == 1 with input as based_on(name) with data.gate_config as fx.config
	}
}

test_result_shape_and_stage_actions if {
	d := based_on("node:18")
	found_r := rule.deny with input as d with data.gate_config as fx.config
	some r in found_r
	r.id == "image-base-unapproved"
	r.finding == {"kind": "image", "field": "base", "value": "node:18"}
	r.msg == "base image node:18 is not on the approved list"
	count(rule.warn) == 1 with input as fx.in_stage(d, "dev") with data.gate_config as fx.config
	count(rule.deny) == 1 with input as fx.in_stage(d, "staging") with data.gate_config as fx.config
}

test_unknown_base_is_not_evidence if {
	every d in [based_on(null), based_on(""), fx.with_image({"base": null}), json.patch(fx.doc, [{"op": "remove", "path": "/image/base"}])] {
		count(rule.findings) == 0 with input as d with data.gate_config as fx.config
	}
}

test_pinned_digest_pattern if {
	cfg := object.union(fx.config, {"approved_base_images": ["docker.io/library/node@sha256:abc*"]})
	count(rule.findings) == 0 with input as based_on("node@sha256:abcdef") with data.gate_config as cfg
	count(rule.findings) == 1 with input as based_on("node:18") with data.gate_config as cfg
}

test_empty_or_missing_list_approves_nothing if {
	count(rule.findings) == 1 with input as fx.doc with data.gate_config as object.union(fx.config, {"approved_base_images": []})
	count(rule.findings) == 1 with input as fx.doc with data.gate_config as object.remove(fx.config, ["approved_base_images"])
}

test_normalise if {
	rule.normalise("alpine") == "docker.io/library/alpine"
	rule.normalise("alpine:3.19") == "docker.io/library/alpine:3.19"
	rule.normalise("acme/api:1") == "docker.io/acme/api:1"
	rule.normalise("registry-1.docker.io/library/alpine@sha256:ab") == "docker.io/library/alpine@sha256:ab"
	rule.normalise("localhost/app") == "localhost/app"
	rule.normalise("localhost:5000/app:1") == "localhost:5000/app:1"
	rule.normalise("ghcr.io/acme/api:1.2.3") == "ghcr.io/acme/api:1.2.3"
}
