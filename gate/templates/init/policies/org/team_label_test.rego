package gate.org.team_label_test

import data.gate.org.team_label as rule
import rego.v1

config := {
	"stage_order": ["dev", "staging", "prod"],
	"stages": {
		"dev": {"actions": {"org-team-label": "warn"}},
		"staging": {"actions": {"org-team-label": "warn"}},
		"prod": {"actions": {"org-team-label": "deny"}},
	},
	"owner_label": "com.acme.team",
	"owner_teams": ["payments", "Platform"],
}

# labelled(labels, stage) is an image with metadata (user "app") and these labels.
labelled(labels, stage) := {
	"image": {"user": "app", "labels": labels},
	"context": {"stage": stage, "evaluated_at": "2026-01-15T12:00:00Z"},
}

test_known_team_passes if {
	every team in ["payments", "platform", " PLATFORM "] {
		count(rule.findings) == 0 with input as labelled({"com.acme.team": team}, "prod") with data.gate_config as config
	}
}

test_missing_or_blank_label_is_denied_in_prod if {
	every labels in [{}, {"com.acme.team": ""}, {"com.acme.team": "  "}, {"team": "payments"}] {
		found := rule.deny with input as labelled(labels, "prod") with data.gate_config as config
		[r.msg | some r in found] == ["label com.acme.team is missing: the image does not say which team owns it"]
	}
}

test_unknown_team_is_denied if {
	found := rule.deny with input as labelled({"com.acme.team": "marketing"}, "prod") with data.gate_config as config
	found == {{
		"id": "org-team-label",
		"msg": "label com.acme.team names \"marketing\", which is not a team of gate_config.owner_teams",
		"severity": "medium",
		"remediation": "Add LABEL com.acme.team=\"<team>\" to the Dockerfile, naming one of gate_config.owner_teams, and rebuild.",
		"finding": {"kind": "label", "id": "com.acme.team", "value": "marketing"},
	}}
}

test_any_team_when_no_teams_are_listed if {
	d := labelled({"com.acme.team": "marketing"}, "prod")
	count(rule.findings) == 0 with input as d with data.gate_config as object.union(config, {"owner_teams": []})
	count(rule.findings) == 0 with input as d with data.gate_config as object.remove(config, ["owner_teams"])
}

test_label_name_comes_from_data if {
	cfg := object.union(config, {"owner_label": "team"})
	count(rule.findings) == 0 with input as labelled({"team": "payments"}, "prod") with data.gate_config as cfg
	found := rule.deny with input as labelled({"com.acme.team": "payments"}, "prod") with data.gate_config as cfg
	[r.finding | some r in found] == [{"kind": "label", "id": "team"}]
}

test_no_image_metadata_is_reported if {
	every d in [
		{"image": {"user": null, "labels": {}}, "context": {"stage": "prod"}},
		{"image": {}, "context": {"stage": "prod"}},
		{"context": {"stage": "prod"}},
	] {
		found := rule.deny with input as d with data.gate_config as config
		[r.msg | some r in found] == ["cannot check label com.acme.team: no image metadata was given (add docker inspect output to the inputs)"]
	}
}

test_labels_null_counts_as_missing if {
	found := rule.deny with input as {"image": {"user": "", "labels": null}, "context": {"stage": "prod"}} with data.gate_config as config
	count(found) == 1
}

test_warns_before_prod if {
	every stage in ["dev", "staging"] {
		count(rule.warn) == 1 with input as labelled({}, stage) with data.gate_config as config
		count(rule.deny) == 0 with input as labelled({}, stage) with data.gate_config as config
	}
}
