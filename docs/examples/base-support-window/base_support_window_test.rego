package gate.org.base_support_window_test

import data.gate.org.base_support_window as rule
import rego.v1

config := {
	"stage_order": ["dev", "staging", "prod"],
	"stages": {
		"dev": {"actions": {"org-base-support-window": "off"}},
		"staging": {"actions": {"org-base-support-window": "warn"}},
		"prod": {"actions": {"org-base-support-window": "deny"}},
	},
	"base_support_windows": [
		{"base": "cgr.dev/chainguard/**", "days": 7},
		{"base": "docker.io/library/debian:*", "days": 60},
		{"base": "broken", "days": "sixty"},
		{"base": "docker.io/library/**", "days": 90},
	],
	"default_support_window_days": 30,
}

# built(base, created, stage) is an image on `base`, built at `created`, judged on 2026-03-01.
built(base, created, stage) := {
	"image": {"created": created, "base": {"name": base, "digest": null}},
	"context": {"stage": stage, "evaluated_at": "2026-03-01T00:00:00Z"},
}

test_inside_the_window_passes if {
	every case in [
		["docker.io/library/debian:12-slim", "2026-01-01T00:00:00Z"], # 59 days, window 60
		["cgr.dev/chainguard/static:latest", "2026-02-22T00:00:00Z"], # 7 days, window 7
		["quay.io/acme/base:1", "2026-01-30T00:00:00Z"], # 30 days, default 30
	] {
		count(rule.findings) == 0 with input as built(case[0], case[1], "prod") with data.gate_config as config
	}
}

test_past_the_window_is_denied_in_prod if {
	found := rule.deny with input as built("docker.io/library/debian:12-slim", "2025-12-30T00:00:00Z", "prod") with data.gate_config as config
	found == {{
		"id": "org-base-support-window",
		"msg": "image was built 61 days ago (2025-12-30T00:00:00Z); images on docker.io/library/debian:12-slim must be rebuilt within 60 days",
		"severity": "medium",
		"remediation": "Rebuild the image on the current version of its base image (a scheduled weekly rebuild keeps it inside the window).",
		"finding": {"kind": "image", "field": "created", "value": "2025-12-30T00:00:00Z"},
	}}
}

test_the_first_matching_entry_wins if {
	# debian matches "debian:*" (60) before "docker.io/library/**" (90); alpine only the latter.
	count(rule.deny) == 1 with input as built("docker.io/library/debian:12", "2025-12-01T00:00:00Z", "prod") with data.gate_config as config
	count(rule.deny) == 0 with input as built("docker.io/library/alpine:3.20", "2025-12-01T00:00:00Z", "prod") with data.gate_config as config
}

test_unlisted_or_unrecorded_bases_get_the_default if {
	every base in ["quay.io/acme/base:1", null, ""] {
		found := rule.deny with input as built(base, "2026-01-29T00:00:00Z", "prod") with data.gate_config as config
		count(found) == 1
	}
	found := rule.deny with input as built(null, "2026-01-29T00:00:00Z", "prod") with data.gate_config as config
	[r.msg | some r in found] == ["image was built 31 days ago (2026-01-29T00:00:00Z); images on an unrecorded base image must be rebuilt within 30 days"]
}

test_without_a_table_every_base_gets_30_days if {
	cfg := object.remove(config, ["base_support_windows", "default_support_window_days"])
	count(rule.deny) == 1 with input as built("docker.io/library/debian:12", "2026-01-29T00:00:00Z", "prod") with data.gate_config as cfg
}

test_unknown_or_placeholder_build_times_are_not_judged if {
	every created in [null, "", "yesterday", "1970-01-01T00:00:00Z", "1999-12-31T23:59:59Z"] {
		count(rule.findings) == 0 with input as built("docker.io/library/debian:12", created, "prod") with data.gate_config as config
	}
}

test_rollout_by_stage if {
	d := built("cgr.dev/chainguard/static:latest", "2026-02-01T00:00:00Z", "dev")
	count(rule.warn) + count(rule.deny) == 0 with input as d with data.gate_config as config
	staging := json.patch(d, [{"op": "replace", "path": "/context/stage", "value": "staging"}])
	count(rule.warn) == 1 with input as staging with data.gate_config as config
	count(rule.deny) == 0 with input as staging with data.gate_config as config
}
