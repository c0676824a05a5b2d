package gate.supply_chain.promotion_order_test

import data.gate.supply_chain.promotion_order as rule
import data.lib.fixtures_test as fx
import rego.v1

staging := fx.earlier_verdict("staging")

other_digest := "sha256:9999999999999999999999999999999999999999999999999999999999999999"

# with_promotion(fields) is the clean document (at prod) with some promotion fields replaced.
with_promotion(fields) := object.union(fx.doc, {"promotion": fields})

with_verdicts(vs) := with_promotion({"verdicts": vs})

# A plain check: no promotion, no registry subject.
plain(d) := object.union(d, {"promotion": {"enforced": false}})

# What the message says after the requirement when the stage promoted from is staging.
requires := "promotion to prod requires a passing staging verdict of this image (sha256:111111111111…) evaluated in the last 168 hours and signed by a trusted key: "

# findings_of(d) / deny_of(d) / warn_of(d) are the rule's results for d under the test configuration.
findings_of(d) := found if {
	found := rule.findings with input as d with data.gate_config as fx.config
}

deny_of(d) := found if {
	found := rule.deny with input as d with data.gate_config as fx.config
}

warn_of(d) := found if {
	found := rule.warn with input as d with data.gate_config as fx.config
}

# the_message(d) is the message of d's one finding.
the_message(d) := m if {
	found := findings_of(d)
	count(found) == 1
	some r in found
	m := r.msg
}

# not_counted(v) is the message when v is the only verdict of the previous stage.
not_counted(v) := the_message(with_verdicts([fx.earlier_verdict("dev"), v]))

test_a_signed_passing_verdict_of_the_previous_stage_passes if {
	count(findings_of(fx.doc)) == 0
	count(findings_of(fx.in_stage(fx.doc, "staging"))) == 0
	count(findings_of(with_verdicts([staging]))) == 0
}

test_nothing_to_check_at_the_first_stage if {
	d := fx.in_stage(with_verdicts([]), "dev")
	found := rule.findings with input as d with data.gate_config as fx.config_with("dev", {"promotion-order": "deny"}, {})
	count(found) == 0
}

test_off_in_dev if {
	d := fx.in_stage(with_promotion({"verdicts": [], "enforced": true}), "dev")
	count(deny_of(d)) + count(warn_of(d)) == 0
}

test_a_promotion_without_a_previous_stage_verdict_is_denied if {
	d := with_verdicts([])
	found := deny_of(d)
	count(found) == 1
	count(warn_of(d)) == 0
	some r in found
	r.id == "promotion-order"
	r.severity == "high"
	r.msg == concat("", [requires, "no earlier verdict was given"])
	r.finding == {"kind": "promotion", "id": "staging", "stage": "prod"}
}

test_staging_needs_a_dev_verdict if {
	d := fx.in_stage(with_verdicts([staging]), "staging")
	found := deny_of(d)
	count(found) == 1
	some r in found
	r.msg == "promotion to staging requires a passing dev verdict of this image (sha256:111111111111…) evaluated in the last 336 hours and signed by a trusted key: found verdicts only for stages: staging"
	r.finding == {"kind": "promotion", "id": "dev", "stage": "staging"}
}

test_a_plain_check_without_a_previous_stage_verdict_only_warns if {
	d := plain(with_verdicts([fx.earlier_verdict("dev"), object.union(fx.earlier_verdict("prod"), {"stage": null})]))
	count(deny_of(d)) == 0
	found := warn_of(d)
	count(found) == 1
	some r in found
	r.msg == concat("", [requires, "found verdicts only for stages: dev, unknown"])
	count(warn_of(plain(with_verdicts([])))) == 1
	count(deny_of(fx.in_stage(plain(with_verdicts([])), "staging"))) == 0
}

test_a_document_without_promotion_only_warns if {
	d := json.patch(fx.doc, [{"op": "remove", "path": "/promotion"}])
	count(deny_of(d)) == 0
	found := warn_of(d)
	count(found) == 1
	some r in found
	r.msg == "promotion to prod requires a passing staging verdict of this image (sha256:111111111111…) evaluated in the last 168 hours: no earlier verdict was given"
}

test_a_plain_check_with_a_previous_stage_verdict_that_does_not_count_is_denied if {
	d := plain(with_verdicts([object.union(staging, {"decision": "fail"})]))
	count(deny_of(d)) == 1
	count(warn_of(d)) == 0
}

test_the_warn_action_warns_even_for_a_promotion if {
	d := with_verdicts([])
	lax := fx.config_with("prod", {"promotion-order": "warn"}, {})
	count(rule.warn) == 1 with input as d with data.gate_config as lax
	count(rule.deny) == 0 with input as d with data.gate_config as lax
}

test_a_failing_verdict_does_not_count if {
	not_counted(object.union(staging, {"decision": "fail"})) == concat("", [requires, "found, but not counted: staging-verdict.json (of sha256:111111111111…): a failing verdict"])
	not_counted(object.union(staging, {"decision": null})) == concat("", [requires, "found, but not counted: staging-verdict.json (of sha256:111111111111…): no decision recorded"])
}

test_a_verdict_of_another_image_does_not_count if {
	v := object.union(staging, {"subject_digests": [other_digest], "about_subject": false})
	not_counted(v) == concat("", [requires, "found, but not counted: staging-verdict.json (of sha256:999999999999…): not this image"])
	w := object.union(staging, {"subject_digests": [], "about_subject": null})
	not_counted(w) == concat("", [requires, "found, but not counted: staging-verdict.json (of no digest): not this image"])
}

test_an_unsigned_verdict_does_not_count_when_trust_keys_are_configured if {
	v := object.union(staging, {"signature": "unsigned", "signer": null})
	not_counted(v) == concat("", [requires, "found, but not counted: staging-verdict.json (of sha256:111111111111…): not signed while trust keys are configured"])
	count(findings_of(object.union(with_verdicts([v]), {"promotion": {"trust_keys": 0}}))) == 0
}

test_a_verdict_signed_by_an_untrusted_key_does_not_count if {
	v := object.union(staging, {"signature": "untrusted", "signer": other_digest})
	not_counted(v) == concat("", [requires, "found, but not counted: staging-verdict.json (of sha256:111111111111…): signed by an untrusted key (sha256:999999999999…)"])
}

test_an_unverified_signature_counts_only_without_trust_keys if {
	v := object.union(staging, {"signature": "unverified", "signature_reason": "no key to check it"})
	not_counted(v) == concat("", [requires, "found, but not counted: staging-verdict.json (of sha256:111111111111…): signature not verified (no key to check it)"])
	count(findings_of(object.union(with_verdicts([v]), {"promotion": {"trust_keys": 0}}))) == 0
}

test_an_invalid_signature_never_counts if {
	v := object.union(staging, {"signature": "invalid", "signature_reason": "the signature does not match the payload"})
	d := object.union(with_verdicts([v]), {"promotion": {"trust_keys": 0}})
	the_message(d) == "promotion to prod requires a passing staging verdict of this image (sha256:111111111111…) evaluated in the last 168 hours: found, but not counted: staging-verdict.json (of sha256:111111111111…): invalid signature (the signature does not match the payload)"
	count(deny_of(plain(d))) == 1
}

test_an_unknown_signature_state_never_counts if {
	v := object.union(staging, {"signature": "trusted-enough"})
	d := object.union(with_verdicts([v]), {"promotion": {"trust_keys": 0}})
	count(deny_of(d)) == 1
	w := json.patch(staging, [{"op": "remove", "path": "/signature"}, {"op": "remove", "path": "/signature_reason"}])
	the_message(object.union(with_verdicts([w]), {"promotion": {"trust_keys": 0}})) == "promotion to prod requires a passing staging verdict of this image (sha256:111111111111…) evaluated in the last 168 hours: found, but not counted: staging-verdict.json (of sha256:111111111111…): signature not verified (no reason recorded)"
}

test_a_malformed_trust_key_count_is_strict if {
	v := object.union(staging, {"signature": "unsigned"})
	every keys in [null, "0", -1, 2] {
		d := object.union(with_verdicts([v]), {"promotion": {"trust_keys": keys}})
		count(findings_of(d)) == 1
	}
}

test_a_verdict_older_than_the_stage_allows_does_not_count if {
	# 168 hours (prod) before 2025-06-01T12:00:00Z is 2025-05-25T12:00:00Z: still counts.
	count(findings_of(with_verdicts([object.union(staging, {"evaluated_at": "2025-05-25T12:00:00Z"})]))) == 0
	old := object.union(staging, {"evaluated_at": "2025-05-25T11:59:59Z"})
	not_counted(old) == concat("", [requires, "found, but not counted: staging-verdict.json (of sha256:111111111111…): older than 168 hours (evaluated at 2025-05-25T11:59:59Z)"])
	# The setting comes from the stage: a day is too much when it allows 12 hours.
	strict := fx.config_with("prod", {}, {"max_verdict_age_hours": 12})
	count(rule.deny) == 1 with input as fx.doc with data.gate_config as strict
}

test_a_verdict_dated_in_the_future_does_not_count if {
	# 5 minutes of clock skew are allowed.
	count(findings_of(with_verdicts([object.union(staging, {"evaluated_at": "2025-06-01T12:05:00Z"})]))) == 0
	future := object.union(staging, {"evaluated_at": "2025-06-01T12:05:01Z"})
	not_counted(future) == concat("", [requires, "found, but not counted: staging-verdict.json (of sha256:111111111111…): dated in the future (evaluated at 2025-06-01T12:05:01Z)"])
}

test_a_verdict_without_a_valid_time_does_not_count if {
	every t in [null, "", "yesterday", "2025-02-30T00:00:00Z", 1748779200] {
		v := object.union(staging, {"evaluated_at": t})
		not_counted(v) == concat("", [requires, "found, but not counted: staging-verdict.json (of sha256:111111111111…): no valid evaluation time"])
	}
}

test_no_verdict_counts_when_the_evaluation_time_is_unknown if {
	d := object.union(fx.doc, {"context": {"evaluated_at": "now"}})
	the_message(d) == concat("", [requires, "found, but not counted: staging-verdict.json (of sha256:111111111111…): the time of this evaluation is unknown"])
}

test_every_verdict_and_every_reason_is_listed if {
	bad := object.union(staging, {
		"input": "registry://ghcr.io/acme/api@sha256:9999", "decision": "fail",
		"subject_digests": [other_digest, "sha256:abc"], "about_subject": false,
		"signature": "invalid", "signature_reason": "bad signature", "evaluated_at": "2024-01-01T00:00:00Z",
	})
	unsigned := object.union(staging, {"signature": "unsigned"})
	d := with_verdicts([bad, fx.earlier_verdict("dev"), unsigned])
	the_message(d) == concat("", [requires, "found, but not counted: registry://ghcr.io/acme/api@sha256:9999 (of sha256:999999999999…, sha256:abc): not this image, a failing verdict, invalid signature (bad signature), older than 168 hours (evaluated at 2024-01-01T00:00:00Z); staging-verdict.json (of sha256:111111111111…): not signed while trust keys are configured"])
}

test_one_counting_verdict_is_enough if {
	failing := object.union(staging, {"decision": "fail"})
	count(findings_of(with_verdicts([failing, staging, object.union(staging, {"signature": "invalid"})]))) == 0
}

test_a_stage_missing_from_stage_order_cannot_be_ordered if {
	d := fx.in_stage(fx.doc, "qa")
	found := rule.deny with input as d with data.gate_config as fx.config
	count(found) == 1
	some r in found
	r.msg == "stage qa is not in stage_order (dev, staging, prod): the stage it is promoted from cannot be told"
	r.finding == {"kind": "promotion", "id": null, "stage": "qa"}
	count(warn_of(plain(d))) == 1
	no_order := json.patch(fx.config, [{"op": "remove", "path": "/stage_order"}])
	unordered := rule.deny with input as fx.doc with data.gate_config as no_order
	some u in unordered
	u.msg == "stage prod is not in stage_order (none given): the stage it is promoted from cannot be told"
}

test_a_stage_listed_twice_cannot_be_ordered if {
	twice := object.union(fx.config, {"stage_order": ["dev", "prod", "staging", "prod"]})
	found := rule.deny with input as fx.doc with data.gate_config as twice
	count(found) == 1
	some r in found
	r.msg == "stage prod appears 2 times in stage_order (dev, prod, staging, prod): the stage it is promoted from cannot be told"
}

test_malformed_promotion_data_does_not_crash if {
	d := with_verdicts([null, 7, "staging", {}, {"stage": "staging"}])
	found := findings_of(d)
	count(found) == 1
	some r in found
	r.msg == concat("", [requires, "found, but not counted: an unnamed verdict (of no digest): not this image, no decision recorded, signature not verified (no reason recorded), no valid evaluation time"])
	every junk in [null, 7, "x", {"staging": staging}] {
		count(deny_of(with_verdicts(junk))) == 1
	}
	count(deny_of(object.union(fx.doc, {"promotion": "yes"}))) == 0
	count(warn_of(object.union(fx.doc, {"promotion": "yes"}))) == 1
}

test_a_flood_of_verdicts_is_cut_short_in_the_message if {
	failing := [object.union(staging, {"input": sprintf("v%d.json", [i]), "decision": "fail"}) | some i in numbers.range(1, 25)]
	m := the_message(with_verdicts(failing))
	endswith(m, "; v10.json (of sha256:111111111111…): a failing verdict; and 15 more")
	not contains(m, "v11.json")
	others := [object.union(staging, {"stage": sprintf("s%02d", [i])}) | some i in numbers.range(1, 12)]
	endswith(the_message(with_verdicts(others)), "found verdicts only for stages: s01, s02, s03, s04, s05, s06, s07, s08, s09, s10, and 2 more")
	# Exactly ten: all listed.
	endswith(the_message(with_verdicts(array.slice(failing, 0, 10))), "; v10.json (of sha256:111111111111…): a failing verdict")
}
