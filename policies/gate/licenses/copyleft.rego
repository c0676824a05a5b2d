# METADATA
# scope: package
# title: Copyleft licences
# description: >-
#   A package under a copyleft licence (gate_config.copyleft_licenses: strong copyleft such
#   as GPL and AGPL, weak copyleft such as LGPL, MPL and EPL) puts obligations on whoever
#   distributes the image - a source offer, and for the weak ones the conditions of linking
#   or of modified files - so it needs a legal review before prod. One result per package,
#   from the SBOM inventory (packages[].licenses, SPDX expressions) and from scanners'
#   licence findings (licenses[], by package name); a package both report is reported once,
#   from the SBOM. SPDX expressions are evaluated: "A OR B" is copyleft only when both are
#   (a choice), "A AND B" when either is, parentheses as written, operators in any case;
#   a LicenseRef-/DocumentRef- licence is unknown, not copyleft. "X WITH exception" is
#   copyleft when X is, unless the exception is on gate_config.copyleft_exceptions: linking
#   and runtime-library exceptions (Classpath, GCC runtime, Linux syscall note, ...) exist so
#   that programs using the code are not covered, which is the distribution question this
#   rule asks (so OpenJDK's "GPL-2.0-only WITH Classpath-exception-2.0" passes). Text that
#   is not a well-formed expression is copyleft when it or any word of it matches a pattern.
#   Packages whose type is on gate_config.copyleft_exempt_package_types (default: the
#   distribution's own packages, apk/deb/rpm/alpm, whose sources the distribution publishes)
#   are not checked; scanners record no type for their licence findings, so those Trivy
#   files under "OS Packages" are exempt when the list names any OS package type. Licences
#   of loose files (no package) are not checked: they are mostly licence texts such as
#   /usr/share/common-licenses/GPL-3, present in every Debian image (license-forbidden still
#   reports them). AGPL is also on forbidden_licenses: such a package gets both results.
# custom:
#   id: license-copyleft
#   severity: medium
#   remediation: >-
#     Have the licence obligations reviewed (source offer, notices, linking conditions) and
#     record the approval as a waiver for the package, or replace the package.
package gate.licenses.copyleft

import data.lib.gate as lib
import rego.v1

rule_id := "license-copyleft"

findings contains lib.result(rule_id, msg, "medium", _remediation(p.name), finding) if {
	copyleft := data.lib.gate.copyleft_texts
	some p in _sbom_hits
	texts := [e | e := p.licenses[_]; copyleft[e]]
	finding := {"kind": "license", "id": texts[0], "package": p.name, "purl": object.get(p, "purl", null)}
	msg := sprintf("package %s is under copyleft licence %s (from %s)", [
		_label(p), _distinct(texts), _reported_by([s | s := p.sources[_]]),
	])
}

findings contains lib.result(rule_id, msg, "medium", _remediation(name), finding) if {
	some g, start in _scanner_groups
	rows := array.slice(_scanner_rows, start, _scanner_groups[g + 1])
	name := rows[0][0]
	not _sbom_names[name]
	texts := [row[2] | some row in rows]
	finding := {"kind": "license", "id": texts[0], "package": name, "purl": null}
	msg := sprintf("package %s is under copyleft licence %s (from %s)", [
		name, _distinct(texts), _reported_by([s | some row in rows; s := input.licenses[row[1]].sources[_]]),
	])
}

# SBOM packages with a copyleft licence, not exempt by type. The set lookup comes first: it
# is the cheapest test and most packages fail it. (A lib value referenced inside a loop is
# looked up again on every iteration: bound first, the loop costs half as much.)
_sbom_hits contains p if {
	texts := data.lib.gate.copyleft_texts
	p := input.packages[_]
	texts[p.licenses[_]]
	not _exempt_type(p)
	lib.str(p.name)
}

_sbom_names := {p.name | some p in _sbom_hits}

# Scanners' licence findings about a package, with a copyleft licence, not exempt, as
# [package, position, licence]; sorted, so that one package's findings are adjacent and in
# input order. (Grouping by sorting: filtering the list once per package is quadratic.)
_scanner_rows := sort(rows) if {
	texts := data.lib.gate.copyleft_texts
	rows := [[pkg, i, l.name] |
		l := input.licenses[i]
		texts[l.name]
		not _exempt_os_finding(l)
		pkg := lib.license_package(l)
		lib.str(pkg)
	]
}

# Where each package's rows start, then the end of the last.
_scanner_groups := array.concat(
	[j | some j, row in _scanner_rows; not _scanner_rows[j - 1][0] == row[0]],
	[count(_scanner_rows)],
)

_exempt_types := {lower(t) | t := lib.list_config("copyleft_exempt_package_types")[_]; is_string(t)}

_exempt_type(p) if {
	is_string(p.type)
	lower(p.type) in _exempt_types
}

# Trivy files the distribution's packages under the target "OS Packages".
_exempt_os_finding(l) if {
	l.target == "OS Packages"
	count(_exempt_types & {"alpm", "apk", "deb", "rpm"}) > 0
}

# "busybox 1.36.1-r2 (pkg:apk/alpine/busybox@1.36.1-r2)", as much of it as is known.
_label(p) := sprintf("%s %s (%s)", [p.name, p.version, p.purl]) if {
	is_string(p.version)
	is_string(p.purl)
} else := sprintf("%s %s", [p.name, p.version]) if {
	is_string(p.version)
} else := p.name

# The distinct texts, in the order first seen.
_distinct(texts) := concat(", ", [t | some i, t in texts; not t in array.slice(texts, 0, i)])

# The input files that reported it ("sbom.json, trivy.json").
_reported_by(sources) := concat(", ", sort(files)) if {
	files := {s.input | some s in sources; is_string(s.input)}
	count(files) > 0
} else := "an unnamed input"

_remediation(name) := sprintf("Have the licence obligations of %s reviewed (source offer, notices, linking conditions) and record the approval as a waiver, or replace the package.", [name])

deny contains f if {
	lib.action(rule_id) == "deny"
	some f in findings
}

warn contains f if {
	lib.action(rule_id) == "warn"
	some f in findings
}
