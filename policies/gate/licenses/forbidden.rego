# METADATA
# scope: package
# title: Forbidden licences
# description: >-
#   A package or file under a licence on gate_config.forbidden_licenses (glob patterns,
#   matched case-insensitively; e.g. AGPL, SSPL) must not ship to staging or prod. The
#   scanner's own licence category is ignored so that the verdict depends on this policy
#   only. SPDX expressions are read conservatively - "A OR B" is forbidden only when every
#   alternative is, "A AND B" when any part is, "A WITH exception" is matched as A and as a
#   whole; an expression with parentheses is forbidden when any licence in it is.
# custom:
#   id: license-forbidden
#   severity: high
#   remediation: >-
#     Replace the package with one under an acceptable licence, or obtain a legal approval
#     and record it as a waiver.
package gate.licenses.forbidden

import data.lib.gate as lib
import rego.v1

rule_id := "license-forbidden"

patterns := lib.list_config("forbidden_licenses")

findings contains lib.result(rule_id, msg, "high", remediation, finding) if {
	forbidden_names := _forbidden_names
	l := input.licenses[_]
	name := l.name
	forbidden_names[name]
	pkg := lib.license_package(l)
	finding := {"kind": "license", "id": name, "package": pkg}
	msg := sprintf("%s is licensed under %s, which is forbidden", [_what(l), name])
	remediation := sprintf("Replace %s with an alternative under an acceptable licence, or obtain legal approval and record it as a waiver.", [_what(l)])
}

# The distinct licence names that are forbidden, each judged once: a scanner reports one
# finding per package and licence, thousands of them sharing a few dozen names.
_forbidden_names := {name | some name in {n | n := input.licenses[_].name}; lib.str(name); forbidden(name)}

_what(l) := sprintf("package %s", [pkg]) if {
	pkg := lib.license_package(l)
	lib.str(pkg)
}
else := sprintf("file %s", [l.target]) if lib.str(l.target)
else := "a component"

# forbidden(name): the licence name or SPDX expression is forbidden.
forbidden(name) if _term_forbidden(name)

forbidden(name) if {
	not _has_parens(name)
	alternatives := regex.split(`(?i)\s+or\s+`, trim_space(name))
	every alternative in alternatives {
		_conjunction_forbidden(alternative)
	}
}

# With parentheses the precedence is not parsed: forbidden when any licence in it is.
forbidden(name) if {
	_has_parens(name)
	some term in regex.split(`(?i)\s+(?:and|or)\s+`, replace(replace(name, "(", " "), ")", " "))
	_term_forbidden(term)
}

_has_parens(name) if contains(name, "(")

_has_parens(name) if contains(name, ")")

_conjunction_forbidden(alternative) if {
	some term in regex.split(`(?i)\s+and\s+`, alternative)
	_term_forbidden(term)
}

# A term is forbidden as a whole ("GPL-2.0-only WITH Classpath-exception-2.0") or by the
# licence before WITH.
_term_forbidden(term) if lib.glob_any(patterns, trim_space(term))

_term_forbidden(term) if {
	base := regex.split(`(?i)\s+with\s+`, trim_space(term))[0]
	lib.glob_any(patterns, trim_space(base))
}

deny contains f if {
	lib.action(rule_id) == "deny"
	some f in findings
}

warn contains f if {
	lib.action(rule_id) == "warn"
	some f in findings
}
