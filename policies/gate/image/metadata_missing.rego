# METADATA
# scope: package
# title: Image metadata missing
# description: >-
#   Nothing describes the image's configuration: no metadata input (docker/crane inspect or
#   an OCI config) was given and the scanner reports carried none. The rules about the image
#   config (root user, labels, healthcheck) then say nothing, so this rule says that they
#   could not run. A warning by default; make it deny in a stage that must not promote
#   unexamined images.
# custom:
#   id: image-metadata-missing
#   severity: medium
#   remediation: Pass the image's config to gate (e.g. `docker image inspect IMAGE > image.json`) or a scanner report that includes it.
package gate.image.metadata_missing

import data.lib.gate as lib
import rego.v1

rule_id := "image-metadata-missing"

findings contains lib.result(rule_id, msg, "medium", remediation, {"kind": "scan", "id": null}) if {
	not data.lib.gate.image_known
	msg := "no image metadata was given: the root-user, label and healthcheck checks could not run"
	remediation := "Pass the image's configuration to gate (e.g. `docker image inspect IMAGE > image.json`, or a scanner report that includes the image config)."
}

deny contains f if {
	lib.action(rule_id) == "deny"
	some f in findings
}

warn contains f if {
	lib.action(rule_id) == "warn"
	some f in findings
}
