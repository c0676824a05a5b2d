# METADATA
# scope: package
# title: Vulnerability scan required
# description: >-
#   At least one input must be a vulnerability scan (a scan whose kinds include
#   "vulnerability"): with none, an image with no vulnerability results would look clean.
#   Checked only when the stage's require_vulnerability_scan setting is true (missing means
#   true); off in dev, a warning in staging, blocking in prod.
# custom:
#   id: scan-required
#   severity: high
#   remediation: Run a vulnerability scanner (e.g. trivy image --format json, grype -o json) on the image and pass its report to gate.
package gate.scans.required

import data.lib.gate as lib
import rego.v1

rule_id := "scan-required"

findings contains lib.result(rule_id, msg, "high", remediation, {"kind": "scan", "id": null}) if {
	lib.setting("require_vulnerability_scan") == true
	count(data.lib.gate.vulnerability_scans) == 0
	msg := sprintf("no vulnerability scan was given (%s)", [data.lib.gate.input_names])
	remediation := "Scan the image (e.g. `trivy image --format json -o trivy.json IMAGE` or `grype IMAGE -o json`) and pass the report to gate."
}

deny contains f if {
	lib.action(rule_id) == "deny"
	some f in findings
}

warn contains f if {
	lib.action(rule_id) == "warn"
	some f in findings
}
