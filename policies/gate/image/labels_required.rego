# METADATA
# scope: package
# title: Required OCI labels
# description: >-
#   Every label in gate_config.required_labels (by default the OCI source, revision and
#   version annotations) must be set to a non-empty value, so that an image can be traced
#   back to the code and build it came from. One result per missing label. Only checked when
#   the image configuration is known.
# custom:
#   id: image-labels-required
#   severity: medium
#   remediation: Add the missing LABELs in the Dockerfile or at build time (docker build --label, docker/metadata-action).
package gate.image.labels_required

import data.lib.gate as lib
import rego.v1

rule_id := "image-labels-required"

findings contains lib.result(rule_id, msg, "medium", remediation, finding) if {
	data.lib.gate.image_known
	some label in lib.list_config("required_labels")
	is_string(label)
	not lib.str(data.lib.gate.image.labels[label])
	finding := {"kind": "label", "id": label}
	msg := sprintf("required label %s is missing or empty", [label])
	remediation := sprintf("Set the label at build time, e.g. `docker build --label %s=...` or a LABEL instruction (docker/metadata-action sets the OCI labels).", [label])
}

deny contains f if {
	lib.action(rule_id) == "deny"
	some f in findings
}

warn contains f if {
	lib.action(rule_id) == "warn"
	some f in findings
}
