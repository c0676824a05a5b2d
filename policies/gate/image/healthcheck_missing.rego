# METADATA
# scope: package
# title: No HEALTHCHECK
# description: >-
#   The image defines no HEALTHCHECK (or disables it with HEALTHCHECK NONE), so Docker and
#   Swarm cannot tell a hung container from a healthy one. Kubernetes ignores HEALTHCHECK and
#   uses probes instead: teams deploying only to Kubernetes may switch this rule off. Only
#   checked when the image configuration is known.
# custom:
#   id: image-healthcheck-missing
#   severity: low
#   remediation: Add a HEALTHCHECK instruction to the Dockerfile (or define liveness/readiness probes where it runs).
package gate.image.healthcheck_missing

import data.lib.gate as lib
import rego.v1

rule_id := "image-healthcheck-missing"

remediation := "Add a HEALTHCHECK instruction (e.g. `HEALTHCHECK CMD wget -qO- http://localhost:8080/healthz || exit 1`), or define liveness/readiness probes where the image runs."

findings contains lib.result(rule_id, "image defines no HEALTHCHECK", "low", remediation, finding) if {
	data.lib.gate.image_known
	not _defined(object.get(data.lib.gate.image, "healthcheck", null))
	finding := {"kind": "image", "field": "healthcheck", "value": null}
}

findings contains lib.result(rule_id, "image disables its HEALTHCHECK (HEALTHCHECK NONE)", "low", remediation, finding) if {
	data.lib.gate.image_known
	_disabled(object.get(data.lib.gate.image, "healthcheck", null))
	finding := {"kind": "image", "field": "healthcheck", "value": "NONE"}
}

_defined(hc) if {
	is_object(hc)
	count(lib.array_or_empty(hc.test)) > 0
}

_disabled(hc) if {
	_defined(hc)
	hc.test[0] == "NONE"
}

deny contains f if {
	lib.action(rule_id) == "deny"
	some f in findings
}

warn contains f if {
	lib.action(rule_id) == "warn"
	some f in findings
}
