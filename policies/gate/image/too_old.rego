# METADATA
# scope: package
# title: Image too old
# description: >-
#   An image built longer ago than the stage's max_image_age_days (by image.created,
#   relative to the evaluation time) has missed every base-image and package fix since;
#   rebuild it. Skipped when the build time is unknown or malformed, and when it is a
#   reproducible-build placeholder before 2000-01-01 (ko, Bazel and Nix write 1970-01-01).
#   A build time after the evaluation by more than max_clock_skew_minutes is judged as too
#   old: a time that cannot be right would make any image look new.
# custom:
#   id: image-too-old
#   severity: medium
#   remediation: Rebuild the image from an up-to-date base image and promote the new build.
package gate.image.too_old

import data.lib.gate as lib
import rego.v1

rule_id := "image-too-old"

# Build times before this are placeholders of reproducible builds, not real ages.
placeholder_before_ns := 946684800000000000 # 2000-01-01T00:00:00Z

findings contains lib.result(rule_id, msg, "medium", remediation, finding) if {
	created := data.lib.gate.image.created
	lib.parse_ns(created) >= placeholder_before_ns
	max_days := lib.setting("max_image_age_days")
	lib.age_ns(created) > lib.days(max_days)
	finding := {"kind": "image", "field": "created", "value": created}
	msg := sprintf("image was built %d days ago (%s); %s allows at most %v days", [lib.age_days(created), created, data.lib.gate.stage, max_days])
	remediation := "Rebuild the image from an up-to-date base image (a scheduled rebuild keeps it fresh) and promote the new build."
}

# A build time after the evaluation (beyond the allowed clock skew) cannot be right, and
# would make any image look new: it is judged as too old.
findings contains lib.result(rule_id, msg, "medium", remediation, finding) if {
	created := data.lib.gate.image.created
	skew := lib.setting("max_clock_skew_minutes")
	lib.age_ns(created) < 0 - lib.minutes(skew)
	finding := {"kind": "image", "field": "created", "value": created}
	msg := sprintf("image build time %s is after this evaluation (%s): a build time in the future cannot be checked for age (%v minutes of clock skew allowed)", [created, input.context.evaluated_at, skew])
	remediation := "Rebuild the image on a builder with a correct clock (or one that writes a real build time) and promote the new build."
}

deny contains f if {
	lib.action(rule_id) == "deny"
	some f in findings
}

warn contains f if {
	lib.action(rule_id) == "warn"
	some f in findings
}
