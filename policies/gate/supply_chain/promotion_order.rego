# METADATA
# scope: package
# title: Passing verdict of the previous stage required
# description: >-
#   An image reaches a stage only through the one before it in gate_config.stage_order:
#   promoting to a stage requires a passing verdict of the previous stage about this same
#   image (its digest, or the image index it was picked from), evaluated no longer ago than
#   the stage's max_verdict_age_hours and not later than this evaluation by more than
#   max_clock_skew_minutes, and - when --trust-key keys are configured - signed by one of
#   them (with none configured, any verdict whose signature is not invalid). Verdicts come
#   from the registry (attached to the image) or from files. The message names every
#   previous-stage verdict that was found but does not count, and why (failing, of another
#   image, unsigned, signed by an untrusted key, invalid signature, too old, in the future).
#   Nothing is checked at the first stage; a stage that stage_order does not list exactly
#   once cannot be ordered and is reported. A plain `gate check` that is no promotion and
#   was given no previous-stage verdict at all only warns; `gate promote` and images read
#   from a registry block. Off in dev, blocking in staging and prod.
# custom:
#   id: promotion-order
#   severity: high
#   remediation: >-
#     Promote the same digest through every stage in order: gate it for the previous stage
#     first (gate promote ... --stage PREVIOUS --sign-key KEY), then promote it with that
#     verdict (attached in the registry, or given as a file) and the signer's --trust-key.
package gate.supply_chain.promotion_order

import data.lib.gate as lib
import rego.v1

rule_id := "promotion-order"

remediation := "Promote the same digest through every stage in order: gate it for the previous stage first (`gate promote ... --stage PREVIOUS --sign-key KEY`), then promote it with that verdict (attached in the registry, or given as a file) and the signer's `--trust-key`."

_order := o if {
	o := data.lib.gate.config.stage_order
	is_array(o)
} else := []

# Where this stage is in stage_order: none when it is not listed, several when listed twice.
_positions := [i | some i, s in _order; s == data.lib.gate.stage]

_previous_index := _positions[0] - 1 if count(_positions) == 1

# The stage promoted from; undefined at the first stage (index -1) or an unordered stage.
previous := _order[_previous_index]

_verdicts := [v | v := lib.array_or_empty(data.lib.gate.promotion.verdicts)[_]; is_object(v)]

_of_previous_stage := [v | some v in _verdicts; v.stage == previous]

_counting := [v | some v in _of_previous_stage; count(_problems(v)) == 0]

findings contains lib.result(rule_id, msg, "high", remediation, _finding(null)) if {
	count(_positions) == 0
	msg := sprintf("stage %s is not in stage_order (%s): the stage it is promoted from cannot be told", [
		data.lib.gate.stage, _order_text,
	])
}

findings contains lib.result(rule_id, msg, "high", remediation, _finding(null)) if {
	count(_positions) > 1
	msg := sprintf("stage %s appears %d times in stage_order (%s): the stage it is promoted from cannot be told", [
		data.lib.gate.stage, count(_positions), _order_text,
	])
}

findings contains lib.result(rule_id, msg, "high", remediation, _finding(from)) if {
	from := previous
	count(_counting) == 0
	msg := sprintf("promotion to %s requires a passing %s verdict of this image (%s) evaluated in the last %v hours%s: %s", [
		data.lib.gate.stage, from, lib.digest_label(object.get(data.lib.gate.subject, "digest", null)),
		lib.setting("max_verdict_age_hours"), _signed_by, _what_was_found,
	])
}

_finding(from) := {"kind": "promotion", "id": from, "stage": data.lib.gate.stage}

_order_text := concat(", ", names) if {
	names := [s | some s in _order; is_string(s)]
	count(names) > 0
} else := "none given"

_signed_by := " and signed by a trusted key" if data.lib.gate.trust_keys_configured else := ""

_what_was_found := "no earlier verdict was given" if {
	count(_verdicts) == 0
} else := sprintf("found verdicts only for stages: %s", [lib.listed(_stages_found, ", ")]) if {
	count(_of_previous_stage) == 0
} else := sprintf("found, but not counted: %s", [lib.listed([_not_counted(v) | some v in _of_previous_stage], "; ")])

_stages_found := sort({lib.text_or(v, "stage", "unknown") | some v in _verdicts})

_not_counted(v) := sprintf("%s (of %s): %s", [lib.text_or(v, "input", "an unnamed verdict"), _digests(v), concat(", ", _problems(v))])

_digests(v) := concat(", ", ds) if {
	ds := [lib.digest_label(d) | d := v.subject_digests[_]; is_string(d)]
	count(ds) > 0
} else := "no digest"

# Why a previous-stage verdict does not count; empty when it does.
_problems(v) := [p | some p in [_subject_problem(v), _decision_problem(v), _signature_problem(v), _time_problem(v)]; p != ""]

_subject_problem(v) := "" if v.about_subject == true else := "not this image"

_decision_problem(v) := "" if v.decision == "pass" else := "a failing verdict" if v.decision == "fail" else := "no decision recorded"

# Without trust keys any signature but an invalid one is taken: the verdict is then as
# trusted as a file given on the command line. An unknown state is never taken.
_signature_problem(v) := "" if {
	not data.lib.gate.trust_keys_configured
	v.signature in {"unverified", "untrusted", "unsigned"}
} else := lib.signature_problem(
	object.get(v, "signature", null),
	object.get(v, "signer", null),
	lib.text_or(v, "signature_reason", "no reason recorded"),
)

_time_problem(v) := "no valid evaluation time" if {
	not lib.valid_timestamp(object.get(v, "evaluated_at", null))
} else := "the time of this evaluation is unknown" if {
	not data.lib.gate.now_ns
} else := sprintf("older than %v hours (evaluated at %s)", [max_hours, v.evaluated_at]) if {
	max_hours := lib.setting("max_verdict_age_hours")
	lib.age_ns(v.evaluated_at) > lib.hours(max_hours)
} else := sprintf("dated in the future (evaluated at %s)", [v.evaluated_at]) if {
	lib.age_ns(v.evaluated_at) < 0 - lib.minutes(lib.setting("max_clock_skew_minutes"))
} else := ""

# A plain check, no promotion, that was given no verdict of the previous stage at all: it
# says what promotion will need without blocking. A promotion, an image read from a
# registry, or a previous-stage verdict that does not count, blocks.
_advisory if {
	not data.lib.gate.promotion.enforced == true
	count(_of_previous_stage) == 0
}

deny contains f if {
	lib.action(rule_id) == "deny"
	not _advisory
	some f in findings
}

warn contains f if {
	lib.action(rule_id) == "warn"
	some f in findings
}

warn contains f if {
	lib.action(rule_id) == "deny"
	_advisory
	some f in findings
}
