# METADATA
# scope: package
# title: Image older than its base image's support window
# description: >-
#   A base image's maintainers ship security fixes continuously; an image stops receiving
#   them the day it is built. Each family of base images gets a window in days
#   (gate_config.base_support_windows, a list of {"base": glob, "days": n}: the first entry
#   whose glob matches image.base.name wins; "*" stays within one path segment, "**"
#   crosses them) after which an image built on it must be rebuilt. A base that no entry
#   matches, or an image that records no base, gets gate_config.default_support_window_days.
#   The age is image.created relative to the evaluation time. Not checked when the build
#   time is unknown or a reproducible-build placeholder (before 2000): it says nothing
#   about the image's age.
# custom:
#   id: org-base-support-window
#   severity: medium
#   remediation: Rebuild the image on the current version of its base image.
package gate.org.base_support_window

import data.lib.org as lib
import rego.v1

rule_id := "org-base-support-window"

remediation := "Rebuild the image on the current version of its base image (a scheduled weekly rebuild keeps it inside the window)."

# Build times before 2000-01-01 are placeholders (ko, Bazel and Nix write 1970-01-01).
placeholder_before_ns := 946684800000000000

findings contains lib.result(rule_id, msg, "medium", remediation, finding) if {
	created := input.image.created
	lib.parse_ns(created) >= placeholder_before_ns
	age := lib.age_days(created)
	age > window.days
	finding := {"kind": "image", "field": "created", "value": created}
	msg := sprintf("image was built %d days ago (%s); images on %s must be rebuilt within %v days", [age, created, window.base, window.days])
}

# window: the first entry of the table whose glob matches the base image, else the default.
window := {"base": base, "days": matching[0]} if {
	base := lib.text(input.image.base.name)
	matching := [row.days |
		some row in lib.config_value("base_support_windows", [])
		is_string(row.base)
		is_number(row.days)
		glob.match(row.base, ["/"], base)
	]
	count(matching) > 0
} else := {"base": base, "days": default_days} if {
	base := lib.text(input.image.base.name)
} else := {"base": "an unrecorded base image", "days": default_days}

default_days := lib.config_value("default_support_window_days", 30)

deny contains r if {
	lib.action(rule_id) == "deny"
	some r in findings
}

warn contains r if {
	lib.action(rule_id) == "warn"
	some r in findings
}
