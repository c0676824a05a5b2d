package gate.vulnerabilities.fixable_critical_test

import data.gate.vulnerabilities.fixable_critical as rule
import data.lib.fixtures_test as fx
import rego.v1

openssl := fx.vulnerability("CVE-2024-0001", "critical", "openssl", "3.0.11-1", ["3.0.13-1", "3.1.5-1"])

test_fixable_critical_denied_with_specific_message if {
	results := rule.deny with input as fx.with_vulnerabilities([openssl]) with data.gate_config as fx.config
	count(results) == 1
	some r in results
	r.id == "vuln-fixable-critical"
	r.severity == "critical"
	r.msg == "CVE-2024-0001 (critical) in openssl 3.0.11-1: fixed in 3.0.13-1, 3.1.5-1"
	r.remediation == "Upgrade openssl 3.0.11-1 to 3.0.13-1 or later (or rebuild on an updated base image) and rebuild the image."
	r.finding == {
		"kind": "vulnerability", "id": "CVE-2024-0001", "aliases": [], "advisories": [], "package": "openssl",
		"version": "3.0.11-1", "purl": "pkg:deb/debian/openssl@3.0.11-1",
		"fixed_versions": ["3.0.13-1", "3.1.5-1"],
	}
}

test_denied_in_every_stage if {
	d := fx.with_vulnerabilities([openssl])
	every stage in ["dev", "staging", "prod"] {
		count(rule.deny) == 1 with input as fx.in_stage(d, stage) with data.gate_config as fx.config
		count(rule.warn) == 0 with input as fx.in_stage(d, stage) with data.gate_config as fx.config
	}
}

test_unfixed_critical_is_not_reported if {
	v := fx.vulnerability("CVE-2024-0002", "critical", "zlib", "1.2.13", [])
	count(rule.findings) == 0 with input as fx.with_vulnerabilities([v]) with data.gate_config as fx.config
}

test_fixable_high_is_not_reported if {
	v := fx.vulnerability("CVE-2024-0003", "high", "zlib", "1.2.13", ["1.3"])
	count(rule.findings) == 0 with input as fx.with_vulnerabilities([v]) with data.gate_config as fx.config
}

test_status_fixed_without_versions_counts_as_fixable if {
	v := object.union(fx.vulnerability("CVE-2024-0004", "critical", "curl", null, []), {"status": "fixed"})
	results := rule.deny with input as fx.with_vulnerabilities([v]) with data.gate_config as fx.config
	some r in results
	r.msg == "CVE-2024-0004 (critical) in curl (unknown version): a fix is released (no fixed version recorded)"
	r.finding.version == null
	r.finding.fixed_versions == []
}

test_one_result_per_vulnerability_and_package if {
	vs := [
		openssl,
		object.union(openssl, {"package": {"name": "libssl3", "purl": null}}),
		fx.vulnerability("CVE-2024-0005", "critical", "openssl", "3.0.11-1", ["3.0.12"]),
	]
	results := rule.deny with input as fx.with_vulnerabilities(vs) with data.gate_config as fx.config
	{[r.finding.id, r.finding.package] | some r in results} == {
		["CVE-2024-0001", "openssl"], ["CVE-2024-0001", "libssl3"], ["CVE-2024-0005", "openssl"],
	}
}

test_language_package_remediation_has_no_base_image_hint if {
	v := object.union(fx.vulnerability("GHSA-aaaa-bbbb-cccc", "critical", "lodash", "4.17.20", ["4.17.21"]), {"package": {"type": "npm"}})
	found_r := rule.deny with input as fx.with_vulnerabilities([v]) with data.gate_config as fx.config
	some r in found_r
	r.remediation == "Upgrade lodash 4.17.20 to 4.17.21 or later and rebuild the image."
}

test_remediation_names_the_core_fix_version_not_the_first_listed if {
	# tomcat 10.1.33: 9.0.99 fixes the 9.x line, upgrading "to 9.0.99" would be a downgrade.
	tomcat := object.union(
		fx.vulnerability("CVE-2025-0007", "critical", "tomcat-embed-core", "10.1.33", ["9.0.99", "10.1.34", "11.0.2"]),
		{"package": {"type": "maven"}, "fix_version": "10.1.34"},
	)
	some r in rule.deny with input as fx.with_vulnerabilities([tomcat]) with data.gate_config as fx.config
	r.msg == "CVE-2025-0007 (critical) in tomcat-embed-core 10.1.33: fixed in 9.0.99, 10.1.34, 11.0.2"
	r.remediation == "Upgrade tomcat-embed-core 10.1.33 to 10.1.34 or later and rebuild the image."
}

test_remediation_lists_every_fix_when_the_core_names_none if {
	v := object.union(
		fx.vulnerability("CVE-2025-0008", "critical", "widget", "2.0", ["1.9.9", "3.1"]),
		{"package": {"type": "unknown-ecosystem"}, "fix_version": null},
	)
	some r in rule.deny with input as fx.with_vulnerabilities([v]) with data.gate_config as fx.config
	r.remediation == "Upgrade widget 2.0 to one of 1.9.9, 3.1 and rebuild the image."
}

test_off_action_reports_nothing if {
	cfg := fx.config_with("prod", {"vuln-fixable-critical": "off"}, {})
	count(rule.deny) + count(rule.warn) == 0 with input as fx.with_vulnerabilities([openssl]) with data.gate_config as cfg
}

test_null_and_missing_fields_do_not_crash if {
	v := {"id": "CVE-2024-0006", "severity": "critical", "package": {"name": "bash"}, "fix_available": true, "sources": []}
	found_r := rule.deny with input as fx.with_vulnerabilities([v, null, "junk", {"severity": "critical"}]) with data.gate_config as fx.config
	some r in found_r
	r.finding == {"kind": "vulnerability", "id": "CVE-2024-0006", "aliases": [], "advisories": [], "package": "bash", "version": null, "purl": null, "fixed_versions": []}
}

test_vulnerabilities_null_does_not_crash if {
	count(rule.deny) == 0 with input as object.union(fx.doc, {"vulnerabilities": null}) with data.gate_config as fx.config
}

test_warn_when_configured if {
	cfg := fx.config_with("dev", {"vuln-fixable-critical": "warn"}, {})
	d := fx.in_stage(fx.with_vulnerabilities([openssl]), "dev")
	count(rule.warn) == 1 with input as d with data.gate_config as cfg
	count(rule.deny) == 0 with input as d with data.gate_config as cfg
}

test_vex_not_affected_with_a_reason_or_fixed_does_not_count if {
	vs := [
		fx.with_vex(openssl, fx.vex("not_affected", "vulnerable_code_not_present")),
		fx.with_vex(object.union(openssl, {"id": "CVE-1"}), object.union(fx.vex("not_affected", null), {"impact_statement": "not reachable"})),
		fx.with_vex(object.union(openssl, {"id": "CVE-2"}), fx.vex("fixed", null)),
	]
	count(rule.findings) == 0 with input as fx.with_vulnerabilities(vs) with data.gate_config as fx.config
}

test_other_vex_statements_still_count if {
	vs := [
		fx.with_vex(openssl, fx.vex("affected", null)),
		fx.with_vex(object.union(openssl, {"id": "CVE-1"}), fx.vex("under_investigation", null)),
		fx.with_vex(object.union(openssl, {"id": "CVE-2"}), fx.vex("not_affected", null)),
		fx.with_vex(object.union(openssl, {"id": "CVE-3"}), fx.vex("not_affected", "")),
	]
	fx.ids(rule.deny) == {"CVE-2024-0001", "CVE-1", "CVE-2", "CVE-3"} with input as fx.with_vulnerabilities(vs) with data.gate_config as fx.config
}
