package gate.licenses.forbidden_test

import data.gate.licenses.forbidden as rule
import data.lib.fixtures_test as fx
import rego.v1

lic(name, pkg) := {
	"name": name, "severity": "unknown", "category": null, "package": fx.license_package(pkg),
	"target": null, "confidence": null, "sources": [],
}

with_licenses(ls) := object.union(fx.doc, {"licenses": ls})


test_agpl_denied_in_prod_warned_in_dev if {
	d := with_licenses([lic("AGPL-3.0-only", "ghostscript")])
	found_r := rule.deny with input as d with data.gate_config as fx.config
	some r in found_r
	r.id == "license-forbidden"
	r.finding == {"kind": "license", "id": "AGPL-3.0-only", "package": "ghostscript"}
	r.msg == "package ghostscript is licensed under AGPL-3.0-only, which is forbidden"
	count(rule.warn) == 1 with input as fx.in_stage(d, "dev") with data.gate_config as fx.config
	count(rule.deny) == 0 with input as fx.in_stage(d, "dev") with data.gate_config as fx.config
	count(rule.deny) == 1 with input as fx.in_stage(d, "staging") with data.gate_config as fx.config
}

test_case_insensitive_globs_and_ids if {
	ls := [
		lic("agpl-3.0-or-later", "a"), lic("SSPL-1.0", "b"), lic("sspl-1.0", "c"),
		lic("GNU Affero General Public License v3 or later", "d"),
		lic("MIT", "e"), lic("GPL-3.0-only", "f"), lic("LGPL-2.1", "g"), lic("SSPL-1.0-extra", "h"),
	]
	{r.finding.package | some r in rule.findings} == {"a", "b", "c", "d"} with input as with_licenses(ls) with data.gate_config as fx.config
}

test_spdx_expressions if {
	ls := [
		lic("MIT OR AGPL-3.0-only", "or-choice"),
		lic("AGPL-3.0-only OR SSPL-1.0", "or-both-forbidden"),
		lic("MIT AND AGPL-3.0-only", "and"),
		lic("AGPL-3.0-only WITH Some-exception", "with"),
		lic("(MIT OR Apache-2.0) AND AGPL-3.0-only", "parens"),
		lic("(MIT OR Apache-2.0)", "parens-clean"),
		lic("mit or agpl-3.0-only", "lower-or"),
	]
	{r.finding.package | some r in rule.findings} == {"or-both-forbidden", "and", "with", "parens"} with input as with_licenses(ls) with data.gate_config as fx.config
}

test_file_licence_without_package if {
	l := object.union(lic("AGPL-3.0", null), {"target": "/usr/share/doc/foo/LICENSE"})
	found_r := rule.findings with input as with_licenses([l]) with data.gate_config as fx.config
	some r in found_r
	r.finding == {"kind": "license", "id": "AGPL-3.0", "package": null}
	r.msg == "file /usr/share/doc/foo/LICENSE is licensed under AGPL-3.0, which is forbidden"
}

test_scanner_category_is_ignored if {
	l := object.union(lic("MIT", "x"), {"category": "forbidden"})
	count(rule.findings) == 0 with input as with_licenses([l]) with data.gate_config as fx.config
}

test_missing_list_falls_back_to_default_list if {
	cfg := object.remove(fx.config, ["forbidden_licenses"])
	count(rule.findings) == 1 with input as with_licenses([lic("BUSL-1.1", "x")]) with data.gate_config as cfg
	count(rule.findings) == 0 with input as with_licenses([lic("BUSL-1.1", "x")]) with data.gate_config as fx.config
}

test_bad_entries_do_not_crash if {
	ls := [null, {"name": null}, {"name": ""}, lic("AGPL-3.0", "ok")]
	cfg := object.union(fx.config, {"forbidden_licenses": ["AGPL-3.0", 42, null]})
	count(rule.findings) == 1 with input as with_licenses(ls) with data.gate_config as cfg
}
