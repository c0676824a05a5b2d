package gate.org.critical_fix_sla_test

import data.gate.org.critical_fix_sla as rule
import rego.v1

config := {
	"stage_order": ["dev", "staging", "prod"],
	"stages": {
		"dev": {"actions": {"org-critical-fix-sla": "warn"}, "settings": {"critical_fix_days": 60}},
		"prod": {"actions": {"org-critical-fix-sla": "deny"}, "settings": {"critical_fix_days": 30}},
	},
}

# vuln(id, severity, published, fixed) is a vulnerability as gate normalises it.
vuln(id, severity, published, fixed) := {
	"id": id,
	"aliases": [],
	"severity": severity,
	"package": {"name": "openssl", "version": "3.0.11-1", "type": "deb", "purl": "pkg:deb/debian/openssl@3.0.11-1"},
	"fixed_versions": fixed,
	"fix_version": first_or_null(fixed),
	"fix_available": count(fixed) > 0,
	"published": published,
	"vex": null,
}

first_or_null(xs) := xs[0] if count(xs) > 0 else := null

# scanned(vulnerabilities, stage) is a document judged on 2026-03-01.
scanned(vulnerabilities, stage) := {
	"vulnerabilities": vulnerabilities,
	"context": {"stage": stage, "evaluated_at": "2026-03-01T00:00:00Z"},
}

old := vuln("CVE-2025-0001", "critical", "2026-01-01T00:00:00Z", ["3.0.13-1"])

with_vex(v, statement) := object.union(v, {"vex": statement})

test_critical_past_the_deadline_is_denied if {
	found := rule.deny with input as scanned([old], "prod") with data.gate_config as config
	found == {{
		"id": "org-critical-fix-sla",
		"msg": "CVE-2025-0001 (critical) in openssl 3.0.11-1 was published 59 days ago; prod allows 30 days to remove it (fixed in 3.0.13-1)",
		"severity": "critical",
		"remediation": "Upgrade openssl to 3.0.13-1 or later and rebuild the image.",
		"finding": {
			"kind": "vulnerability", "id": "CVE-2025-0001", "aliases": [], "package": "openssl",
			"version": "3.0.11-1", "purl": "pkg:deb/debian/openssl@3.0.11-1", "fixed_versions": ["3.0.13-1"],
		},
	}}
}

test_unfixed_critical_past_the_deadline_is_denied_too if {
	v := vuln("CVE-2025-0002", "critical", "2026-01-01T00:00:00Z", [])
	found := rule.deny with input as scanned([v], "prod") with data.gate_config as config
	[[r.msg, r.remediation] | some r in found] == [[
		"CVE-2025-0002 (critical) in openssl 3.0.11-1 was published 59 days ago; prod allows 30 days to remove it (no fix released)",
		"No fix is released: mitigate, publish a VEX statement if the image is not affected, or file a waiver with an owner and an expiry.",
	]]
}

test_within_the_deadline_or_not_critical_passes if {
	vs := [
		vuln("CVE-2025-0003", "critical", "2026-02-01T00:00:00Z", []), # 28 days
		vuln("CVE-2025-0004", "high", "2020-01-01T00:00:00Z", ["1.0"]),
	]
	count(rule.findings) == 0 with input as scanned(vs, "prod") with data.gate_config as config
}

test_the_deadline_is_a_stage_setting if {
	# 59 days old: past prod's 30 days, within dev's 60.
	count(rule.deny) == 1 with input as scanned([old], "prod") with data.gate_config as config
	count(rule.warn) + count(rule.deny) == 0 with input as scanned([old], "dev") with data.gate_config as config
	older := object.union(old, {"published": "2025-12-01T00:00:00Z"})
	count(rule.warn) == 1 with input as scanned([older], "dev") with data.gate_config as config
}

test_a_missing_or_mistyped_deadline_is_30_days if {
	cfg := json.patch(config, [{"op": "replace", "path": "/stages/dev/settings/critical_fix_days", "value": "60"}])
	count(rule.warn) == 1 with input as scanned([old], "dev") with data.gate_config as cfg
	count(rule.deny) == 1 with input as scanned([old], "staging") with data.gate_config as config
}

test_vex_not_affected_with_a_reason_or_fixed_clears if {
	every statement in [
		{"status": "not_affected", "justification": "vulnerable_code_not_in_execute_path", "impact_statement": null},
		{"status": "not_affected", "justification": null, "impact_statement": "TLS is terminated by the proxy."},
		{"status": "fixed", "justification": null, "impact_statement": null},
	] {
		count(rule.findings) == 0 with input as scanned([with_vex(old, statement)], "prod") with data.gate_config as config
	}
}

test_other_vex_statements_do_not_clear if {
	every statement in [
		{"status": "not_affected", "justification": null, "impact_statement": null},
		{"status": "not_affected", "justification": " ", "impact_statement": ""},
		{"status": "affected", "justification": null, "impact_statement": null},
		{"status": "under_investigation", "justification": null, "impact_statement": null},
	] {
		count(rule.deny) == 1 with input as scanned([with_vex(old, statement)], "prod") with data.gate_config as config
	}
}

test_unknown_publication_dates_are_not_judged if {
	vs := [
		object.union(old, {"published": null}),
		object.union(old, {"id": "CVE-2", "published": "2026-01-01"}),
		object.union(old, {"id": "CVE-3", "published": "9999-01-01T00:00:00Z"}),
	]
	count(rule.findings) == 0 with input as scanned(vs, "prod") with data.gate_config as config
}

test_unknown_package_version if {
	v := json.patch(old, [{"op": "replace", "path": "/package/version", "value": null}])
	found := rule.deny with input as scanned([v], "prod") with data.gate_config as config
	[r.msg | some r in found] == ["CVE-2025-0001 (critical) in openssl (unknown version) was published 59 days ago; prod allows 30 days to remove it (fixed in 3.0.13-1)"]
}

test_no_vulnerabilities if {
	every d in [scanned([], "prod"), scanned(null, "prod"), {"context": {"stage": "prod"}}] {
		count(rule.findings) == 0 with input as d with data.gate_config as config
	}
}
