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

based_on_from(name, digest, source) := fx.with_image({"base": {"name": name, "digest": digest, "source": source}})

test_message_says_where_the_base_came_from if {
	every case in [
		["snyk", "base image node:18 (from Snyk) is not on the approved list"],
		["provenance", "base image node:18 (from build provenance) is not on the approved list"],
		["label", "base image node:18 is not on the approved list"],
		[null, "base image node:18 is not on the approved list"],
	] {
		found := rule.findings with input as based_on_from("node:18", null, case[0]) with data.gate_config as fx.config
		{r.msg | some r in found} == {case[1]}
	}
}

test_snyk_and_provenance_bases_are_judged_like_labels if {
	every source in ["snyk", "provenance"] {
		count(rule.findings) == 0 with input as based_on_from("alpine:3.19", null, source) with data.gate_config as fx.config
		count(rule.deny) == 1 with input as based_on_from("docker.io/library/node:18", null, source) with data.gate_config as fx.config
		count(rule.warn) == 1 with input as fx.in_stage(based_on_from("node:18", null, source), "dev") with data.gate_config as fx.config
	}
}

test_package_url_names if {
	every name in [
		"pkg:docker/alpine@3.19",
		"pkg:docker/library/alpine@3.19?repository_url=index.docker.io",
		"pkg:docker/alpine@3.19?repository_url=docker.io%2F&platform=linux%2Famd64",
		"pkg:docker/gcr.io/distroless/static?digest=sha256:072d78bc452a2998929a9579464e55067db4bf6d2c5f9cde582e33c10a415bd1&platform=linux%2Famd64",
		"pkg:docker/distroless/static@nonroot?repository_url=gcr.io",
		"pkg:docker/gcr.io%2Fdistroless%2Fstatic@nonroot",
		"PKG:DOCKER/alpine@3.19#sub/path",
	] {
		count(rule.findings) == 0 with input as based_on_from(name, null, "provenance") with data.gate_config as fx.config
	}
	every name in ["pkg:docker/node@18", "pkg:docker/alpine", "pkg:docker/alpine@3.19?repository_url=evil.example.com", "pkg:npm/alpine@3.19"] {
		count(rule.findings) == 1 with input as based_on_from(name, null, "provenance") with data.gate_config as fx.config
	}
}

test_reference_of if {
	rule.reference_of("alpine:3.19") == "alpine:3.19"
	rule.reference_of("pkg:docker/node@18") == "node:18"
	rule.reference_of("pkg:docker/golang@1.21?digest=sha256:abc&platform=linux%2Famd64") == "golang:1.21@sha256:abc"
	rule.reference_of("pkg:docker/node@sha256:abc") == "node@sha256:abc"
	rule.reference_of("pkg:docker/node@sha256:abc?digest=sha256:abc") == "node@sha256:abc"
	rule.reference_of("pkg:docker/api@1.0?repository_url=ghcr.io/acme") == "ghcr.io/acme/api:1.0"
	rule.reference_of("pkg:docker/ghcr.io/acme/api@1.0?repository_url=ghcr.io") == "ghcr.io/acme/api:1.0"
	rule.reference_of("pkg:docker/x@%zz") == "x:%zz"
}

test_digest_only_base_is_skipped if {
	d := "sha256:1111111111111111111111111111111111111111111111111111111111111111"
	every base in [
		{"name": null, "digest": d, "source": "label"},
		{"name": d, "digest": null, "source": "snyk"},
		{"name": sprintf("@%s", [d]), "digest": null, "source": "provenance"},
	] {
		count(rule.findings) == 0 with input as fx.with_image({"base": base}) with data.gate_config as fx.config
	}
}
