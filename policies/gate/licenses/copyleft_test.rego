package gate.licenses.copyleft_test

import data.gate.licenses.copyleft as rule
import data.lib.fixtures_test as fx
import rego.v1

npm(name, licenses) := object.union(fx.inventory_package(name, "3.2.3", "npm", licenses), {"purl": sprintf("pkg:npm/%s@3.2.3", [name])})

# A scanner's (Trivy's) licence finding.
lic(name, pkg, target) := {
	"name": name, "severity": "unknown", "category": "restricted", "package": fx.license_package(pkg),
	"target": target, "confidence": null,
	"sources": [{"tool": "trivy", "input": "trivy.json", "severity": "unknown", "severity_source": null}],
}

with_packages(ps) := json.patch(fx.doc, [{"op": "replace", "path": "/packages", "value": ps}])

with_licenses(ls) := object.union(fx.doc, {"licenses": ls})

packages_found(d) := {r.finding.package | some r in found} if {
	found := rule.findings with input as d with data.gate_config as fx.config
}

test_copyleft_sbom_package_by_stage if {
	d := with_packages([npm("mariadb", ["LGPL-2.1-or-later"])])
	found := rule.deny with input as d with data.gate_config as fx.config
	count(found) == 1
	some r in found
	r.id == "license-copyleft"
	r.severity == "medium"
	r.finding == {"kind": "license", "id": "LGPL-2.1-or-later", "package": "mariadb", "purl": "pkg:npm/mariadb@3.2.3"}
	r.msg == "package mariadb 3.2.3 (pkg:npm/mariadb@3.2.3) is under copyleft licence LGPL-2.1-or-later (from sbom.spdx.json)"
	count(rule.warn) == 0 with input as d with data.gate_config as fx.config
	count(rule.warn) == 1 with input as fx.in_stage(d, "staging") with data.gate_config as fx.config
	count(rule.deny) == 0 with input as fx.in_stage(d, "staging") with data.gate_config as fx.config
	count(rule.deny) + count(rule.warn) == 0 with input as fx.in_stage(d, "dev") with data.gate_config as fx.config
}

test_spdx_expressions if {
	d := with_packages([
		npm("gpl", ["GPL-3.0-only"]),
		npm("mit", ["MIT"]),
		npm("choice", ["MIT OR GPL-2.0-or-later"]),
		npm("choice-lower", ["mit or gpl-2.0"]),
		npm("all-copyleft-choice", ["GPL-2.0-only OR LGPL-2.1-only"]),
		npm("conjunction", ["MIT AND GPL-2.0-only"]),
		npm("conjunction-lower", ["MIT and LGPL-3.0-only"]),
		npm("parens-choice", ["(MIT OR GPL-2.0-only) AND Apache-2.0"]),
		npm("parens-forced", ["(MIT OR Apache-2.0) AND MPL-2.0"]),
		npm("nested", ["((MIT OR GPL-2.0-only) AND (LGPL-2.1-only OR LGPL-3.0-only)) OR BSD-3-Clause"]),
		npm("nested-forced", ["(MIT OR GPL-2.0-only) AND (LGPL-2.1-only OR LGPL-3.0-only)"]),
		npm("precedence", ["MIT OR Apache-2.0 AND GPL-2.0-only"]),
		npm("precedence-forced", ["GPL-2.0-only OR LGPL-3.0-only AND MIT"]),
		npm("plus", ["GPL-2.0+"]),
		npm("unbalanced", ["(MIT OR GPL-2.0-only"]),
		npm("free-text", ["GNU Lesser General Public License v2.1 or later"]),
		npm("licenseref", ["LicenseRef-GPL-2.0-like"]),
		npm("noassertion", ["NOASSERTION"]),
	])
	packages_found(d) == {
		"gpl", "all-copyleft-choice", "conjunction", "conjunction-lower", "parens-forced",
		"nested-forced", "precedence-forced", "plus", "unbalanced", "free-text",
	}
}

test_with_exceptions if {
	d := with_packages([
		npm("openjdk", ["GPL-2.0-only WITH Classpath-exception-2.0"]),
		npm("openjdk-lower", ["gpl-2.0-only with classpath-exception-2.0"]),
		npm("deprecated-id", ["GPL-2.0-with-classpath-exception"]),
		npm("headers", ["GPL-2.0-only WITH Linux-syscall-note OR MIT"]),
		npm("other-exception", ["GPL-3.0-or-later WITH Bison-exception-2.2"]),
		npm("exception-and", ["GPL-2.0-only WITH Classpath-exception-2.0 AND LGPL-2.1-only"]),
	])
	packages_found(d) == {"other-exception", "exception-and"}
	cfg := object.union(fx.config, {"copyleft_exceptions": []})
	count(rule.findings) == 5 with input as d with data.gate_config as cfg
}

test_one_result_per_package_first_copyleft_licence_as_id if {
	p := npm("multi", ["MIT", "LGPL-3.0-only", "GPL-3.0-only", "LGPL-3.0-only"])
	found := rule.findings with input as with_packages([p]) with data.gate_config as fx.config
	count(found) == 1
	some r in found
	r.finding.id == "LGPL-3.0-only"
	r.msg == "package multi 3.2.3 (pkg:npm/multi@3.2.3) is under copyleft licence LGPL-3.0-only, GPL-3.0-only (from sbom.spdx.json)"
}

test_os_packages_are_exempt_by_type if {
	ps := [
		fx.inventory_package("bash", "5.2.15-2+b2", "deb", ["GPL-3.0-or-later"]),
		fx.inventory_package("busybox", "1.36.1-r15", "APK", ["GPL-2.0-only"]),
		fx.inventory_package("glibc", "2.34-100.el9", "rpm", ["LGPL-2.1-or-later"]),
		object.union(fx.inventory_package("untyped", "1", "generic", ["GPL-2.0-only"]), {"type": null}),
	]
	packages_found(with_packages(ps)) == {"glibc", "untyped"}
	cfg := object.union(fx.config, {"copyleft_exempt_package_types": []})
	count(rule.findings) == 4 with input as with_packages(ps) with data.gate_config as cfg
}

test_scanner_findings_one_result_per_package if {
	ls := [
		lic("GPL-2.0", "readline-sync", "app/package-lock.json"),
		lic("LGPL-2.1", "readline-sync", "app/package-lock.json"),
		lic("MIT", "left-pad", "app/package-lock.json"),
		lic("GPL-2.0", "busybox", "OS Packages"),
		lic("GPL-3.0", null, "/usr/share/common-licenses/GPL-3"),
	]
	d := with_licenses(ls)
	found := rule.deny with input as d with data.gate_config as fx.config
	count(found) == 1
	some r in found
	r.finding == {"kind": "license", "id": "GPL-2.0", "package": "readline-sync", "purl": null}
	r.msg == "package readline-sync is under copyleft licence GPL-2.0, LGPL-2.1 (from trivy.json)"
}

test_scanner_os_packages_count_without_an_os_type_on_the_exempt_list if {
	d := object.union(with_packages([]), {"licenses": [
		lic("GPL-2.0", "readline-sync", "app/package-lock.json"),
		lic("GPL-2.0", "busybox", "OS Packages"),
	]})
	# Without an OS package type on the exempt list, Trivy's OS packages count too. (Its
	# other findings record no package type: "npm" on the list cannot exempt them.)
	cfg := object.union(fx.config, {"copyleft_exempt_package_types": ["npm"]})
	found_cfg := rule.findings with input as d with data.gate_config as cfg
	{x.finding.package | some x in found_cfg} == {"readline-sync", "busybox"}
}

test_a_package_both_sources_report_is_reported_once_from_the_sbom if {
	d := object.union(with_packages([npm("mariadb", ["LGPL-2.1-or-later"])]), {"licenses": [lic("LGPL-2.1", "mariadb", "app/package-lock.json")]})
	found := rule.findings with input as d with data.gate_config as fx.config
	count(found) == 1
	some r in found
	r.finding.purl == "pkg:npm/mariadb@3.2.3"
}

test_scanner_copyleft_counts_when_the_sbom_says_otherwise if {
	d := object.union(with_packages([npm("mariadb", ["MIT"])]), {"licenses": [lic("LGPL-2.1", "mariadb", "app/package-lock.json")]})
	found := rule.findings with input as d with data.gate_config as fx.config
	count(found) == 1
	some r in found
	r.finding == {"kind": "license", "id": "LGPL-2.1", "package": "mariadb", "purl": null}
}

test_missing_list_falls_back_to_the_default_list if {
	d := with_packages([npm("eclipse", ["EPL-2.0"])])
	count(rule.findings) == 0 with input as d with data.gate_config as fx.config
	cfg := object.remove(fx.config, ["copyleft_licenses"])
	count(rule.findings) == 1 with input as d with data.gate_config as cfg
}

test_bad_entries_do_not_crash if {
	ps := [
		null, "junk", {"name": null, "licenses": ["GPL-2.0-only"]}, {"name": "x", "licenses": null},
		{"name": "y", "licenses": [null, 42, ""]}, {"name": "ok", "licenses": ["GPL-2.0-only"]},
	]
	ls := [null, {"name": "GPL-2.0", "package": null}, {"name": null, "package": {"name": "z"}}, {"name": "GPL-2.0", "package": "v1-string"}]
	d := object.union(with_packages(ps), {"licenses": ls})
	found := rule.findings with input as d with data.gate_config as fx.config
	count(found) == 1
	some r in found
	r.finding == {"kind": "license", "id": "GPL-2.0-only", "package": "ok", "purl": null}
	r.msg == "package ok is under copyleft licence GPL-2.0-only (from an unnamed input)"
	count(rule.findings) == 0 with input as object.union(fx.doc, {"packages": null, "licenses": null}) with data.gate_config as fx.config
}
