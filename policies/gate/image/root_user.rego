# METADATA
# scope: package
# title: Image runs as root
# description: >-
#   The image's configured USER is root - unset or empty, "root", "0", or a root user with
#   any group ("0:0", "root:root", "0:1000", "root:wheel"). A container escape or a writable
#   mount is far more dangerous as root. Only checked when the image configuration is known
#   (docker inspect, an image config, or a scanner's copy of it); when it is not,
#   image-metadata-missing reports that instead.
# custom:
#   id: image-root-user
#   severity: high
#   remediation: >-
#     Add a non-root USER to the Dockerfile (e.g. USER 65532:65532), or build on a base image
#     that runs as non-root.
package gate.image.root_user

import data.lib.gate as lib
import rego.v1

rule_id := "image-root-user"

findings contains lib.result(rule_id, msg, "high", remediation, finding) if {
	data.lib.gate.image_known
	user := object.get(data.lib.gate.image, "user", null)
	root(user)
	finding := {"kind": "image", "field": "user", "value": user}
	msg := sprintf("image runs as root (%s)", [_describe(user)])
	remediation := "Add a non-root USER to the Dockerfile (e.g. `USER 65532:65532` after creating the user), or build on a base image that runs as non-root; make files the process must write owned by that user."
}

# root(user): the USER value means uid 0. Names other than "root" are trusted to be
# non-root: only the image's /etc/passwd could tell, and the document does not carry it.
root(user) if {
	is_string(user)
	trim_space(user) == ""
}

root(user) if {
	is_string(user)
	split(trim_space(user), ":")[0] in {"root", "0"}
}

root(user) if user == 0

_describe(user) := sprintf("USER is %q", [user]) if lib.str(user) else := "no USER is set"

deny contains f if {
	lib.action(rule_id) == "deny"
	some f in findings
}

warn contains f if {
	lib.action(rule_id) == "warn"
	some f in findings
}
