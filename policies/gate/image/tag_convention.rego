# METADATA
# scope: package
# title: Image tag naming convention
# description: >-
#   The tag must be a semantic version or a git-based tag. Semantic version: MAJOR.MINOR.PATCH
#   per semver 2.0 with an optional leading "v" (v1.2.3, as git tags are often written), an
#   optional pre-release (1.2.3-rc.1, and the stage suffixes 1.2.3-dev / -staging / -prod,
#   which are pre-releases to semver) and optional build metadata after "+" or "_" (Docker
#   tags cannot contain "+", so "_" stands in for it, as Helm does). Git-based: a branch-like
#   name, "-", and a 7-40 character lower-case hex commit sha (main-3f9c2ab, sha-3f9c2ab).
#   Floating tags such as 1.2 or 1 fail: they move. A missing tag and "latest" are left to
#   image-tag-latest so that they are not reported twice.
# custom:
#   id: image-tag-convention
#   severity: low
#   remediation: Tag the image as MAJOR.MINOR.PATCH (optionally -prerelease) or <branch>-<git sha>.
package gate.image.tag_convention

import data.lib.gate as lib
import rego.v1

rule_id := "image-tag-convention"

semver_re := `^v?(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)(-(0|[1-9][0-9]*|[0-9]*[a-zA-Z-][0-9a-zA-Z-]*)(\.(0|[1-9][0-9]*|[0-9]*[a-zA-Z-][0-9a-zA-Z-]*))*)?([+_][0-9a-zA-Z-]+(\.[0-9a-zA-Z-]+)*)?$`

git_re := `^[A-Za-z0-9]+([._-][A-Za-z0-9]+)*-[0-9a-f]{7,40}$`

findings contains lib.result(rule_id, msg, "low", remediation, finding) if {
	tag := lib.str(data.lib.gate.subject.tag)
	lower(trim_space(tag)) != "latest"
	not conventional(tag)
	finding := {"kind": "image", "field": "tag", "value": tag}
	msg := sprintf("tag %q is neither a semantic version (1.2.3, v1.2.3, 1.2.3-rc.1, 1.2.3-prod) nor <branch>-<git sha> (main-3f9c2ab)", [tag])
	remediation := "Tag the image as MAJOR.MINOR.PATCH (optionally with a -prerelease or stage suffix) or as <branch>-<git sha>, e.g. with docker/metadata-action's semver and sha tag types."
}

conventional(tag) if regex.match(semver_re, tag)

conventional(tag) if regex.match(git_re, tag)

deny contains f if {
	lib.action(rule_id) == "deny"
	some f in findings
}

warn contains f if {
	lib.action(rule_id) == "warn"
	some f in findings
}
