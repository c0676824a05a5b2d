# METADATA
# scope: package
# title: Fixable critical vulnerabilities
# description: >-
#   A critical vulnerability with a released fix must be patched before promotion: the fix
#   exists, so shipping the vulnerable version is a choice. One result per vulnerability in
#   each package version. A vulnerability counts as fixable when a fixed version is known or
#   the scanner marks its status "fixed".
# custom:
#   id: vuln-fixable-critical
#   severity: critical
#   remediation: Upgrade the package to a fixed version and rebuild the image.
package gate.vulnerabilities.fixable_critical

import data.lib.gate as lib
import rego.v1

rule_id := "vuln-fixable-critical"

findings contains lib.fixable_result(rule_id, "critical", v) if {
	some v in data.lib.gate.fixable_critical
}

deny contains f if {
	lib.action(rule_id) == "deny"
	some f in findings
}

warn contains f if {
	lib.action(rule_id) == "warn"
	some f in findings
}
