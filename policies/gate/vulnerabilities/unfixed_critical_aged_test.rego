package gate.vulnerabilities.unfixed_critical_aged_test

import data.gate.vulnerabilities.unfixed_critical_aged as rule
import data.lib.fixtures_test as fx
import rego.v1

# fx.now is 2025-06-01T12:00:00Z; prod allows 14 days, dev and staging 30.
unfixed(id, published) := object.union(
	fx.vulnerability(id, "critical", "glibc", "2.36-9", []),
	{"published": published, "status": "affected"},
)

test_old_unfixed_critical_warns if {
	d := fx.with_vulnerabilities([unfixed("CVE-2023-0001", "2025-05-01T00:00:00Z")])
	found_r := rule.warn with input as d with data.gate_config as fx.config
	some r in found_r
	r.id == "vuln-unfixed-critical-aged"
	r.msg == "CVE-2023-0001 (critical) in glibc 2.36-9 has had no fix for 31 days since it was published (2025-05-01T00:00:00Z); the grace period in prod is 14 days"
	r.finding.fixed_versions == []
	count(rule.deny) == 0 with input as d with data.gate_config as fx.config
}

test_grace_period_differs_by_stage if {
	# 20 days old: past prod's 14-day grace, within dev's 30.
	d := fx.with_vulnerabilities([unfixed("CVE-2023-0002", "2025-05-12T12:00:00Z")])
	count(rule.warn) == 1 with input as d with data.gate_config as fx.config
	count(rule.warn) == 0 with input as fx.in_stage(d, "dev") with data.gate_config as fx.config
}

test_recent_unfixed_critical_is_not_reported if {
	d := fx.with_vulnerabilities([unfixed("CVE-2025-0003", "2025-05-25T00:00:00Z")])
	count(rule.findings) == 0 with input as d with data.gate_config as fx.config
}

test_fixable_or_high_is_not_reported if {
	vs := [
		fx.vulnerability("CVE-2023-0004", "critical", "glibc", "2.36-9", ["2.36-9+deb12u4"]),
		object.union(unfixed("CVE-2023-0005", "2023-01-01T00:00:00Z"), {"severity": "high"}),
	]
	count(rule.findings) == 0 with input as fx.with_vulnerabilities(vs) with data.gate_config as fx.config
}

test_missing_or_malformed_publication_date_is_skipped_without_error if {
	vs := [
		unfixed("CVE-1", null),
		unfixed("CVE-2", "yesterday"),
		unfixed("CVE-3", "2023-02-30T00:00:00Z"),
		unfixed("CVE-4", "2023-13-01T00:00:00Z"),
		unfixed("CVE-5", "0001-01-01T00:00:00Z"),
		unfixed("CVE-6", "2023-01-01"),
		unfixed("CVE-7", "2023-01-01T25:00:00Z"),
		unfixed("CVE-8", "2020-01-01T00:00:00+01:00"),
	]
	fx.ids(rule.findings) == {"CVE-8"} with input as fx.with_vulnerabilities(vs) with data.gate_config as fx.config
}

test_malformed_evaluation_time_reports_nothing_without_error if {
	d := object.union(fx.with_vulnerabilities([unfixed("CVE-2023-0006", "2020-01-01T00:00:00Z")]), {"context": {"evaluated_at": "now"}})
	count(rule.findings) == 0 with input as d with data.gate_config as fx.config
}

test_missing_grace_setting_falls_back_to_strict_default if {
	# dev's 30 days would keep quiet; without the setting the lib's 14 days apply.
	cfg := json.patch(fx.config, [{"op": "remove", "path": "/stages/dev/settings/unfixed_critical_grace_days"}])
	d := fx.in_stage(fx.with_vulnerabilities([unfixed("CVE-2023-0007", "2025-05-12T12:00:00Z")]), "dev")
	count(rule.warn) == 1 with input as d with data.gate_config as cfg
}

test_deny_when_configured if {
	cfg := fx.config_with("prod", {"vuln-unfixed-critical-aged": "deny"}, {})
	d := fx.with_vulnerabilities([unfixed("CVE-2023-0008", "2025-01-01T00:00:00Z")])
	count(rule.deny) == 1 with input as d with data.gate_config as cfg
	count(rule.warn) == 0 with input as d with data.gate_config as cfg
}

test_vex_suppression if {
	vs := [
		fx.with_vex(unfixed("CVE-2023-0009", "2025-01-01T00:00:00Z"), fx.vex("not_affected", "component_not_present")),
		fx.with_vex(unfixed("CVE-2023-0010", "2025-01-01T00:00:00Z"), fx.vex("not_affected", null)),
		fx.with_vex(unfixed("CVE-2023-0011", "2025-01-01T00:00:00Z"), fx.vex("under_investigation", null)),
	]
	fx.ids(rule.findings) == {"CVE-2023-0010", "CVE-2023-0011"} with input as fx.with_vulnerabilities(vs) with data.gate_config as fx.config
}
