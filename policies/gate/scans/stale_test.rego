package gate.scans.stale_test

import data.gate.scans.stale as rule
import data.lib.fixtures_test as fx
import rego.v1

scanned_at(created) := object.union(fx.doc, {"scans": [object.union(fx.doc.scans[0], {"created": created}), fx.doc.scans[1]]})

test_fresh_scan_passes if {
	count(rule.findings) == 0 with input as fx.doc with data.gate_config as fx.config
}

test_limits_differ_by_stage if {
	# 48 hours old: over prod's 24, under staging's 72; dev is off.
	d := scanned_at("2025-05-30T12:00:00Z")
	found_r := rule.deny with input as d with data.gate_config as fx.config
	some r in found_r
	r.id == "scan-stale"
	r.severity == "medium"
	r.finding == {"kind": "scan", "id": "trivy.json"}
	r.msg == "vulnerability scan trivy.json ran 48 hours before this evaluation (2025-05-30T12:00:00Z); prod allows at most 24 hours"
	count(rule.findings) == 0 with input as fx.in_stage(d, "staging") with data.gate_config as fx.config
	old := scanned_at("2025-05-01T00:00:00Z")
	count(rule.warn) == 1 with input as fx.in_stage(old, "staging") with data.gate_config as fx.config
	count(rule.deny) + count(rule.warn) == 0 with input as fx.in_stage(old, "dev") with data.gate_config as fx.config
}

test_unknown_scan_time_only_warns_by_default if {
	every created in [null, "", "yesterday", "2025-02-30T00:00:00Z"] {
		count(rule.warn) == 1 with input as scanned_at(created) with data.gate_config as fx.config
		count(rule.deny) == 0 with input as scanned_at(created) with data.gate_config as fx.config
	}
	found_r := rule.warn with input as scanned_at(null) with data.gate_config as fx.config
	some r in found_r
	r.msg == "vulnerability scan trivy.json: scan time unknown, so its freshness cannot be checked"
	r.severity == "medium"
}

test_unknown_scan_time_blocks_when_configured if {
	cfg := fx.config_with("prod", {}, {"scan_time_unknown_blocks": true})
	count(rule.deny) == 1 with input as scanned_at(null) with data.gate_config as cfg
	count(rule.warn) == 0 with input as scanned_at(null) with data.gate_config as cfg
}

test_unknown_scan_time_blocks_when_setting_missing if {
	cfg := json.patch(fx.config, [{"op": "remove", "path": "/stages/prod/settings/scan_time_unknown_blocks"}])
	count(rule.deny) == 1 with input as scanned_at(null) with data.gate_config as cfg
}

test_unknown_scan_time_off_in_dev if {
	count(rule.deny) + count(rule.warn) == 0 with input as fx.in_stage(scanned_at(null), "dev") with data.gate_config as fx.config
}

test_metadata_scans_are_not_checked if {
	# fx.doc's metadata scan has created null and gives no result.
	count(rule.findings) == 0 with input as fx.doc with data.gate_config as fx.config
}

test_a_scan_within_the_clock_skew_is_fresh if {
	# fx.now is 12:00:00; five minutes of skew are allowed.
	count(rule.findings) == 0 with input as scanned_at("2025-06-01T12:04:59Z") with data.gate_config as fx.config
}

test_a_scan_from_the_future_is_not_fresh if {
	d := scanned_at("2025-06-02T00:00:00Z")
	found := rule.deny with input as d with data.gate_config as fx.config
	count(found) == 1
	some r in found
	r.msg == "vulnerability scan trivy.json is dated 2025-06-02T00:00:00Z, after this evaluation (2025-06-01T12:00:00Z): a scan time in the future is not fresh (5 minutes of clock skew allowed)"
	count(rule.warn) == 1 with input as fx.in_stage(d, "staging") with data.gate_config as fx.config
}

test_the_clock_skew_is_a_setting if {
	cfg := fx.config_with("prod", {}, {"max_clock_skew_minutes": 1440})
	count(rule.findings) == 0 with input as scanned_at("2025-06-02T00:00:00Z") with data.gate_config as cfg
}
