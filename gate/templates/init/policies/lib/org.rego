# Helpers shared by the organisation's gate rules.
#
# This package lives OUTSIDE `gate.` on purpose: gate evaluates `data.gate` and collects every
# `deny`/`warn` set under it, so nothing here may be named deny or warn or live under gate.
# It does not import the bundled pack's `lib.gate`: that is not a stable interface, and this
# pack must work both on its own (`--policy policies`) and layered over the bundled pack.
#
# Write defensively: the regorus engine turns a builtin error (a bad timestamp, count(null),
# lower(null)) into an error that stops the whole evaluation - no verdict. Check a value's
# type before handing it to a builtin; a missing key must give "no result", never an error.
package lib.org

import rego.v1

default config := {}

config := data.gate_config if is_object(data.gate_config)

# The stage being gated (gate always sets input.context.stage); without one, the strictest
# (last) stage of stage_order, as `gate check` does when --stage is omitted.
stage := s if {
	s := input.context.stage
	is_string(s)
	s != ""
} else := s if {
	order := config.stage_order
	is_array(order)
	count(order) > 0
	s := order[count(order) - 1]
} else := "prod"

# action(rule_id) is "deny", "warn" or "off" as data.json says for the stage, and "deny"
# when the stage, the rule or a valid action is missing: a typo must not switch a rule off.
action(rule_id) := a if {
	a := config.stages[stage].actions[rule_id]
	a in {"deny", "warn", "off"}
} else := "deny"

# setting(name, fallback) is the stage's setting when it has the fallback's JSON type, else
# the fallback: pick fallbacks at least as strict as the strictest stage.
setting(name, fallback) := v if {
	v := config.stages[stage].settings[name]
	type_name(v) == type_name(fallback)
} else := fallback

# config_value(name, fallback) is gate_config[name] when it has the fallback's JSON type.
config_value(name, fallback) := v if {
	v := config[name]
	type_name(v) == type_name(fallback)
} else := fallback

# result builds one deny/warn object of gate's rule contract.
result(rule_id, msg, severity, remediation, finding) := {
	"id": rule_id,
	"msg": msg,
	"severity": severity,
	"remediation": remediation,
	"finding": finding,
}

# text(x) is x when it is a string that is not blank; undefined otherwise.
text(x) := x if {
	is_string(x)
	trim_space(x) != ""
}

# Image metadata. Every source that reads an image configuration (docker inspect, an image
# config, a scanner's copy of it) records USER as a string - "" meaning root - so a string
# user tells "no labels" apart from "no metadata given".
image_known if is_string(input.image.user)

default labels := {}

labels := input.image.labels if is_object(input.image.labels)

# Time. gate writes every time as RFC 3339 UTC ("2026-01-31T12:00:00Z", valid dates only),
# but time.parse_rfc3339_ns also errors outside 1678-2262, so the shape and year are checked
# first: parse_ns is undefined, never an error, for anything else.
day_ns := 86400000000000

parse_ns(ts) := time.parse_rfc3339_ns(ts) if {
	is_string(ts)
	regex.match(`^(19[7-9][0-9]|2[01][0-9][0-9])-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]{1,9})?Z$`, ts)
}

# now_ns is the evaluation time: input.context.evaluated_at (`gate check --at` sets it), never
# time.now_ns(), so that a verdict can be reproduced.
now_ns := parse_ns(input.context.evaluated_at)

# age_days(ts) is how many whole days before now ts is; undefined for a malformed ts.
age_days(ts) := floor((now_ns - parse_ns(ts)) / day_ns)
