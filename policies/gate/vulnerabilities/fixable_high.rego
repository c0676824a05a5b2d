# METADATA
# scope: package
# title: Fixable high vulnerabilities
# description: >-
#   A high-severity vulnerability with a released fix should be patched before promotion.
#   Developers are warned in dev so they can batch upgrades; staging and prod block.
#   One result per vulnerability in each package version.
# custom:
#   id: vuln-fixable-high
#   severity: high
#   remediation: Upgrade the package to a fixed version and rebuild the image.
package gate.vulnerabilities.fixable_high

import data.lib.gate as lib
import rego.v1

rule_id := "vuln-fixable-high"

findings contains lib.fixable_result(rule_id, "high", v) if {
	some v in data.lib.gate.fixable_high
}

deny contains f if {
	lib.action(rule_id) == "deny"
	some f in findings
}

warn contains f if {
	lib.action(rule_id) == "warn"
	some f in findings
}
