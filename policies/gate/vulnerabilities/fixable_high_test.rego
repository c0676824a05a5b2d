package gate.vulnerabilities.fixable_high_test

import data.gate.vulnerabilities.fixable_high as rule
import data.lib.fixtures_test as fx
import rego.v1

zlib := fx.vulnerability("CVE-2023-45853", "high", "zlib1g", "1:1.2.13.dfsg-1", ["1:1.2.13.dfsg-1+deb12u1"])

test_warn_in_dev if {
	d := fx.in_stage(fx.with_vulnerabilities([zlib]), "dev")
	count(rule.deny) == 0 with input as d with data.gate_config as fx.config
	found_r := rule.warn with input as d with data.gate_config as fx.config
	some r in found_r
	r.id == "vuln-fixable-high"
	r.severity == "high"
	r.msg == "CVE-2023-45853 (high) in zlib1g 1:1.2.13.dfsg-1: fixed in 1:1.2.13.dfsg-1+deb12u1"
}

test_deny_in_staging_and_prod if {
	every stage in ["staging", "prod"] {
		d := fx.in_stage(fx.with_vulnerabilities([zlib]), stage)
		count(rule.deny) == 1 with input as d with data.gate_config as fx.config
		count(rule.warn) == 0 with input as d with data.gate_config as fx.config
	}
}

test_unfixed_high_and_fixable_medium_are_not_reported if {
	vs := [
		fx.vulnerability("CVE-2024-1000", "high", "zlib1g", "1.2", []),
		fx.vulnerability("CVE-2024-1001", "medium", "zlib1g", "1.2", ["1.3"]),
	]
	count(rule.findings) == 0 with input as fx.with_vulnerabilities(vs) with data.gate_config as fx.config
}

test_aliases_and_advisories_are_carried_for_waivers if {
	v := object.union(zlib, {"aliases": ["GHSA-jg8p-5hg2-5pf4"], "advisories": ["DLA-3625-1"]})
	found_r := rule.findings with input as fx.with_vulnerabilities([v]) with data.gate_config as fx.config
	some r in found_r
	r.finding.aliases == ["GHSA-jg8p-5hg2-5pf4"]
	r.finding.advisories == ["DLA-3625-1"]
}

test_vex_suppression if {
	vs := [
		fx.with_vex(zlib, fx.vex("not_affected", "vulnerable_code_not_in_execute_path")),
		fx.with_vex(object.union(zlib, {"id": "CVE-1"}), fx.vex("fixed", null)),
		fx.with_vex(object.union(zlib, {"id": "CVE-2"}), fx.vex("not_affected", null)),
		fx.with_vex(object.union(zlib, {"id": "CVE-3"}), fx.vex("affected", "vulnerable_code_not_present")),
	]
	fx.ids(rule.findings) == {"CVE-2", "CVE-3"} with input as fx.with_vulnerabilities(vs) with data.gate_config as fx.config
}
