# METADATA
# scope: package
# title: Vulnerability scan required
# description: >-
#   At least one input must be a vulnerability scan of this image (a scan whose evidence
#   counts for "vulnerability": about the gated image by digest or name): with none, an image
#   with no vulnerability results would look clean. A scan of another image, or one that
#   names no image, does not count (evidence-not-about-image reports it).
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
	count(data.lib.gate.image_vulnerability_scans) == 0
	msg := sprintf("no vulnerability scan of this image was given (%s)%s", [data.lib.gate.input_names, _not_counted])
	remediation := "Scan the image (e.g. `trivy image --format json -o trivy.json IMAGE` or `grype IMAGE -o json`) and pass the report to gate."
}

# The vulnerability scans given that are not about this image.
_not_counted := sprintf("; not about this image: %s", [concat(", ", sort(names))]) if {
	names := {lib.scan_name(s) | some s in data.lib.gate.vulnerability_scans; not lib.proves(s, "vulnerability")}
	count(names) > 0
} else := ""

deny contains f if {
	lib.action(rule_id) == "deny"
	some f in findings
}

warn contains f if {
	lib.action(rule_id) == "warn"
	some f in findings
}
