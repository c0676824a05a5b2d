# METADATA
# scope: package
# title: Owning team label
# description: >-
#   Every image must say which team owns it, so that a finding reaches the people who can
#   fix it: the label named by gate_config.owner_label must be set, and when
#   gate_config.owner_teams is not empty its value must be one of those teams (compared
#   case-insensitively). Without image metadata (docker inspect output or the image config)
#   the labels are unknown, and that is reported too rather than passed.
# custom:
#   id: org-team-label
#   severity: medium
#   remediation: >-
#     Add the label to the Dockerfile (LABEL com.acme.team="<team>") with one of the teams of
#     gate_config.owner_teams, and give gate the image metadata (docker inspect output).
package gate.org.team_label

import data.lib.org as lib
import rego.v1

rule_id := "org-team-label"

label := lib.config_value("owner_label", "com.acme.team")

teams := {lower(t) | some t in lib.config_value("owner_teams", []); lib.text(t)}

remediation := sprintf("Add LABEL %s=\"<team>\" to the Dockerfile, naming one of gate_config.owner_teams, and rebuild.", [label])

findings contains lib.result(rule_id, msg, "medium", remediation, finding) if {
	lib.image_known
	not lib.text(lib.labels[label])
	finding := {"kind": "label", "id": label}
	msg := sprintf("label %s is missing: the image does not say which team owns it", [label])
}

findings contains lib.result(rule_id, msg, "medium", remediation, finding) if {
	lib.image_known
	team := lib.text(lib.labels[label])
	count(teams) > 0
	not lower(trim_space(team)) in teams
	finding := {"kind": "label", "id": label, "value": team}
	msg := sprintf("label %s names %q, which is not a team of gate_config.owner_teams", [label, team])
}

findings contains lib.result(rule_id, msg, "medium", remediation, finding) if {
	not lib.image_known
	finding := {"kind": "label", "id": label}
	msg := sprintf("cannot check label %s: no image metadata was given (add docker inspect output to the inputs)", [label])
}

deny contains r if {
	lib.action(rule_id) == "deny"
	some r in findings
}

warn contains r if {
	lib.action(rule_id) == "warn"
	some r in findings
}
