# METADATA
# scope: package
# title: Image tagged latest or untagged
# description: >-
#   Outside dev, the image must carry an explicit tag other than "latest": a moving or
#   missing tag makes it impossible to tell from a deployment what was promoted, or to roll
#   back to it. An image referenced only by digest counts as untagged. Off in dev.
# custom:
#   id: image-tag-latest
#   severity: medium
#   remediation: Tag the image with an immutable version (e.g. 1.4.2 or main-3f9c2ab) and promote that tag.
package gate.image.tag_latest

import data.lib.gate as lib
import rego.v1

rule_id := "image-tag-latest"

remediation := "Tag the image with an immutable version (e.g. 1.4.2 or main-3f9c2ab) and promote that tag."

findings contains lib.result(rule_id, msg, "medium", remediation, finding) if {
	tag := object.get(data.lib.gate.subject, "tag", null)
	not lib.str(tag)
	finding := {"kind": "image", "field": "tag", "value": tag}
	msg := sprintf("image %s has no tag", [_reference])
}

findings contains lib.result(rule_id, msg, "medium", remediation, finding) if {
	tag := lib.str(data.lib.gate.subject.tag)
	lower(trim_space(tag)) == "latest"
	finding := {"kind": "image", "field": "tag", "value": tag}
	msg := sprintf("image %s is tagged %q, a moving tag", [_reference, tag])
}

_reference := data.lib.gate.subject.reference if lib.str(data.lib.gate.subject.reference) else := "(reference unknown)"

deny contains f if {
	lib.action(rule_id) == "deny"
	some f in findings
}

warn contains f if {
	lib.action(rule_id) == "warn"
	some f in findings
}
