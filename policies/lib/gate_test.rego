package lib.gate_test

import data.lib.fixtures_test as fx
import data.lib.gate as lib
import rego.v1

test_action_from_data if {
	lib.action("image-tag-latest") == "off" with input as fx.in_stage(fx.doc, "dev") with data.gate_config as fx.config
	lib.action("image-tag-latest") == "deny" with input as fx.doc with data.gate_config as fx.config
	lib.action("image-tag-convention") == "warn" with input as fx.in_stage(fx.doc, "staging") with data.gate_config as fx.config
}

test_action_fails_closed if {
	lib.action("image-tag-latest") == "deny" with input as fx.in_stage(fx.doc, "qa") with data.gate_config as fx.config
	lib.action("no-such-rule") == "deny" with input as fx.in_stage(fx.doc, "dev") with data.gate_config as fx.config
	lib.action("image-tag-latest") == "deny" with input as fx.in_stage(fx.doc, "dev") with data.gate_config as {}
	lib.action("image-tag-latest") == "deny" with input as fx.in_stage(fx.doc, "dev") with data.gate_config as "junk"
	cfg := fx.config_with("dev", {"image-tag-latest": "ignore"}, {})
	lib.action("image-tag-latest") == "deny" with input as fx.in_stage(fx.doc, "dev") with data.gate_config as cfg
	cfg2 := json.patch(fx.config, [{"op": "remove", "path": "/stages/dev"}])
	lib.action("image-tag-latest") == "deny" with input as fx.in_stage(fx.doc, "dev") with data.gate_config as cfg2
}

test_stage_defaults_to_strictest if {
	d := json.patch(fx.doc, [{"op": "remove", "path": "/context/stage"}])
	data.lib.gate.stage == "prod" with input as d with data.gate_config as fx.config
	cfg := object.union(fx.config, {"stage_order": ["a", "b"]})
	data.lib.gate.stage == "b" with input as d with data.gate_config as cfg
	data.lib.gate.stage == "prod" with input as d with data.gate_config as {}
}

test_setting_falls_back_to_strict_defaults if {
	lib.setting("max_scan_age_hours") == 168 with input as fx.in_stage(fx.doc, "dev") with data.gate_config as fx.config
	lib.setting("max_scan_age_hours") == 24 with input as fx.in_stage(fx.doc, "qa") with data.gate_config as fx.config
	cfg := fx.config_with("dev", {}, {"max_scan_age_hours": "168", "require_vulnerability_scan": "no"})
	lib.setting("max_scan_age_hours") == 24 with input as fx.in_stage(fx.doc, "dev") with data.gate_config as cfg
	lib.setting("require_vulnerability_scan") == true with input as fx.in_stage(fx.doc, "dev") with data.gate_config as cfg
	lib.setting("max_scan_age_hours") == 24 with input as fx.in_stage(fx.doc, "dev") with data.gate_config as {}
}

test_valid_timestamps if {
	every ts in [
		"2024-02-29T00:00:00Z", "2000-02-29T23:59:60Z", "2025-06-01T12:00:00.123456789Z",
		"2025-06-01T12:00:00+05:30", "1678-01-01T00:00:00Z", "2261-12-31T23:59:59Z",
	] {
		lib.valid_timestamp(ts)
		lib.parse_ns(ts)
	}
}

test_invalid_timestamps_are_undefined_not_errors if {
	every ts in [
		null, 42, "", "now", "2023-02-29T00:00:00Z", "1900-02-29T00:00:00Z", "2024-04-31T00:00:00Z",
		"2024-00-10T00:00:00Z", "2024-13-01T00:00:00Z", "2024-01-00T00:00:00Z", "2024-01-01T24:00:00Z",
		"2024-01-01T00:60:00Z", "2024-01-01T00:00:00", "2024-01-01T00:00:00+24:00", "0001-01-01T00:00:00Z",
		"9999-12-31T23:59:59Z", "1677-09-21T00:00:00Z", "2262-04-12T00:00:00Z", "2024-1-1T00:00:00Z",
		"2025-06-01t12:00:00z", "2025-06-01 12:00:00Z", "2025-06-01T12:00:00.1234567891Z",
	] {
		not lib.valid_timestamp(ts)
		not lib.parse_ns(ts)
	}
}

test_time_arithmetic if {
	lib.parse_ns("1970-01-02T00:00:00Z") == lib.days(1)
	lib.parse_ns("1970-01-01T02:00:00+01:00") == lib.hours(1)
	d := fx.doc
	lib.age_ns("2025-06-01T00:00:00Z") == lib.hours(12) with input as d
	data.lib.gate.now_ns == lib.parse_ns("2025-06-01T12:00:00Z") with input as d
	not data.lib.gate.now_ns with input as object.union(fx.doc, {"context": {"evaluated_at": "soon"}})
}

test_glob_any_is_case_insensitive_without_delimiters if {
	lib.glob_any(["agpl-3.0*"], "AGPL-3.0-only")
	lib.glob_any(["*password*"], "db.PASSWORD/x")
	not lib.glob_any(["AGPL-3.0"], "AGPL-3.0-only")
	not lib.glob_any([], "x")
	not lib.glob_any(["*"], null)
}

test_image_known if {
	data.lib.gate.image_known with input as fx.doc
	not data.lib.gate.image_known with input as {}
	not data.lib.gate.image_known with input as {"image": null, "scans": null}
}

test_digest_part if {
	lib.digest_part("ghcr.io/acme/api@SHA256:ABC") == "sha256:abc"
	lib.digest_part("sha256:abc") == "sha256:abc"
	not lib.digest_part(null)
}

test_fixable if {
	lib.fixable({"fix_available": true})
	lib.fixable({"status": "fixed"})
	lib.fixable({"fixed_versions": ["1.2"]})
	not lib.fixable({"fix_available": false, "status": "affected", "fixed_versions": []})
	not lib.fixable({})
}

test_image_and_subject_are_always_objects if {
	data.lib.gate.image == {} with input as {}
	data.lib.gate.subject == {} with input as {"subject": "ghcr.io/acme/api"}
	data.lib.gate.image.user == "app" with input as fx.with_image({"user": "app"})
}

test_vex_suppresses if {
	lib.vex_suppresses({"vex": {"status": "fixed"}})
	lib.vex_suppresses({"vex": {"status": "not_affected", "justification": "component_not_present"}})
	lib.vex_suppresses({"vex": {"status": "not_affected", "impact_statement": "never loaded"}})
	not lib.vex_suppresses({"vex": {"status": "not_affected"}})
	not lib.vex_suppresses({"vex": {"status": "not_affected", "justification": " ", "impact_statement": null}})
	not lib.vex_suppresses({"vex": {"status": "affected", "justification": "component_not_present"}})
	not lib.vex_suppresses({"vex": {"status": "under_investigation"}})
	not lib.vex_suppresses({"vex": null})
	not lib.vex_suppresses({})
}

test_vex_lists_skip_lower_severities if {
	vs := [
		fx.with_vex(fx.vulnerability("CVE-1", "critical", "a", "1", []), fx.vex("not_affected", "component_not_present")),
		fx.with_vex(fx.vulnerability("CVE-2", "high", "a", "1", ["2"]), fx.vex("not_affected", null)),
		fx.with_vex(fx.vulnerability("CVE-3", "medium", "a", "1", []), fx.vex("fixed", null)),
		fx.with_vex(fx.vulnerability("CVE-4", "low", "a", "1", []), fx.vex("not_affected", null)),
		fx.vulnerability("CVE-5", "critical", "a", "1", []),
	]
	d := fx.with_vulnerabilities(vs)
	{v.id | some v in data.lib.gate.vex_suppressed} == {"CVE-1"} with input as d
	{v.id | some v in data.lib.gate.vex_unsupported} == {"CVE-2"} with input as d
	{v.id | some v in data.lib.gate.unfixed_critical} == {"CVE-5"} with input as d
}

# spdx(e, marked) is spdx_unavoidable over e's terms whose licence is in marked.
spdx(e, marked) := r if {
	p := lib.spdx_parse(e)
	r := lib.spdx_unavoidable(p, {t | some t in p.terms; t[0] in marked})
}

test_spdx_parse if {
	lib.spdx_parse("MIT").terms == [["MIT", null]]
	lib.spdx_parse("(MIT or GPL-2.0-only WITH Classpath-exception-2.0) AND BSD-3-Clause").terms == [
		["MIT", null], ["GPL-2.0-only", "Classpath-exception-2.0"], ["BSD-3-Clause", null],
	]
	every text in [
		"GNU General Public License v2 or later", "MIT WITH", "WITH X", "MIT OR", "AND MIT",
		"MIT OR OR BSD", "()", "MIT (BSD)", "", "A WITH B WITH C", null,
	] {
		not lib.spdx_parse(text)
	}
}

test_spdx_unavoidable if {
	every case in [
		["G", true], ["M", false], ["G OR M", false], ["G OR G2", true], ["G AND M", true],
		["M AND M2", false], ["(M OR G) AND M2", false], ["(M OR G) AND G2", true],
		["M OR M2 AND G", false], ["G OR G2 AND M", true], ["G OR M AND G2", true], ["G OR M AND M2", false],
		["G AND M OR G2 AND M2", true], ["((M OR G) AND (G2 OR M2)) OR G3", false],
		["((M OR G) AND (G2 OR M2)) OR G3 AND M", false], ["((G OR G2) AND (M OR M2)) OR G3", true],
		["(((((G)))))", true], ["(((((M)))))", false],
		# Three ORs in a row: one pass of the OR rewrite cannot reduce them all.
		["G OR G2 OR G3 AND M", true], ["(G OR G2 OR G3) AND M", true], ["G OR G2 OR M OR G3", false],
	] {
		spdx(case[0], {"G", "G2", "G3"}) == case[1]
	}
	# Unbalanced parentheses: undefined, so that callers fall back to reading the text.
	not spdx("(G OR M", {"G"})
	not spdx("G OR M)", {"G"})
}

test_copyleft if {
	cfg := {"copyleft_licenses": ["GPL-2.0*", "LGPL-*", "*General Public License*"], "copyleft_exceptions": ["Classpath-exception*"]}
	every case in [
		["GPL-2.0-only", true], ["gpl-2.0+", true], ["MIT", false], ["MIT OR GPL-2.0-only", false],
		["MIT AND LGPL-2.1-only", true], ["GPL-2.0-only WITH Classpath-exception-2.0", false],
		["GPL-2.0-with-classpath-exception", false], ["GPL-2.0-only WITH Autoconf-exception-2.0", true],
		["LicenseRef-GPL-2.0", false], ["DocumentRef-x:LicenseRef-GPL-2.0", false],
		["GNU Lesser General Public License v2.1 or later", true], ["MIT License or BSD", false],
		["Apache-2.0 or GPL-2.0 licence", true], ["(MIT OR GPL-2.0-only", true],
	] {
		lib.copyleft(case[0]) == case[1] with data.gate_config as cfg
	}
	# A LicenseRef- is unknown even when a pattern would match its name.
	broad := {"copyleft_licenses": ["*GPL*"]}
	lib.copyleft("LicenseRef-GPL-like") == false with data.gate_config as broad
	lib.copyleft("DocumentRef-spdx:LicenseRef-GPL-like") == false with data.gate_config as broad
	lib.copyleft("GPL-2.0-only") == true with data.gate_config as broad
}

test_vex_lists_hold_what_the_vulnerability_rules_weigh if {
	vs := [
		fx.with_vex(fx.vulnerability("CVE-1", "high", "a", "1", ["2"]), fx.vex("fixed", null)),
		fx.with_vex(fx.vulnerability("CVE-2", "high", "a", "1", []), fx.vex("fixed", null)),
		fx.with_vex(fx.vulnerability("CVE-3", "high", "a", "1", ["2"]), fx.vex("not_affected", null)),
		fx.with_vex(fx.vulnerability("CVE-4", "high", "a", "1", []), fx.vex("not_affected", null)),
	]
	d := fx.with_vulnerabilities(vs)
	{v.id | some v in data.lib.gate.vex_suppressed} == {"CVE-1"} with input as d
	{v.id | some v in data.lib.gate.vex_unsupported} == {"CVE-3"} with input as d
}

test_copyleft_of_a_non_string_is_false_not_an_error if {
	every x in [null, 42, ["GPL-2.0-only"], {}] {
		lib.copyleft(x) == false
	}
}
