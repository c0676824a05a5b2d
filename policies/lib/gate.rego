# Shared helpers of the default gate policy pack.
#
# This package lives OUTSIDE `gate.` on purpose: the core evaluates `data.gate` and collects
# every `deny`/`warn` set at any depth, so nothing here may be named deny or warn, and nothing
# here may live under `data.gate`.
#
# Design rules:
# - Fail closed. A stage or rule missing from data.json means "deny"; a missing or mistyped
#   setting falls back to the strict default below; a missing list falls back to a default list.
# - Never raise on what the schema allows. regorus turns builtin errors (bad timestamps,
#   count(null), lower(null), some x in null, to_number("08")) into errors that kill the whole
#   evaluation, so builtins are called only on values whose type (and, for timestamps, whose
#   shape) has been checked: nulls, empty strings, missing keys and malformed times give "no
#   result" or "unknown", never an error. Where the schema guarantees a type (a
#   vulnerability's package is an object, its fixed_versions strings), the hot paths over
#   thousands of findings rely on it: a document that breaks the schema may then stop the
#   evaluation - no verdict, which fails closed - but never passes silently.
# - Never drop silently. A function called with an undefined argument is undefined, and a
#   result built from it disappears; keys that may be missing are read with object.get or
#   text_or.
# - Reproducible. "Now" is input.context.evaluated_at, never time.now_ns().
package lib.gate

import rego.v1

# ---------------------------------------------------------------------------------------
# Configuration (data.gate_config, owned by the security team: policies/data.json)
# ---------------------------------------------------------------------------------------

default config := {}

config := data.gate_config if is_object(data.gate_config)

# Strict fallbacks: the value a setting takes when the stage does not give one (or gives
# one of the wrong type). They are at least as strict as the prod defaults in data.json, so
# a missing setting can only make the gate stricter, never switch a rule off.
default_settings := {
	"unfixed_critical_grace_days": 14,
	"max_image_age_days": 90,
	"max_scan_age_hours": 24,
	"require_vulnerability_scan": true,
	"misconfiguration_severities": ["critical", "high"],
	"scan_time_unknown_blocks": true,
	"max_clock_skew_minutes": 5,
	"max_verdict_age_hours": 72,
	# Read by the core (baseline gating), not by a rule: whether violations a --baseline
	# verdict already had still block.
	"block_existing": true,
}

# Fallbacks for the top-level lists of gate_config when data.json lacks them.
# approved_base_images falls back to [] (every known base image is then unapproved) and the
# allowlist to [] (nothing is excused).
default_lists := {
	"forbidden_licenses": [
		"AGPL-1.0*", "AGPL-3.0*", "SSPL-1.0", "BUSL-1.1", "CC-BY-NC-*", "Commons-Clause",
		"*Affero General Public License*", "*Server Side Public License*",
	],
	"required_labels": [
		"org.opencontainers.image.source",
		"org.opencontainers.image.revision",
		"org.opencontainers.image.version",
	],
	"approved_base_images": [],
	"secret_env_patterns": [
		"*PASSWORD*", "*PASSWD*", "*SECRET*", "*TOKEN*", "*API_KEY*", "*APIKEY*",
		"*PRIVATE_KEY*", "*ACCESS_KEY*", "*CREDENTIAL*", "AWS_SECRET_ACCESS_KEY",
	],
	"secret_env_allowlist": [],
	# The same lists as data.json: the copyleft check and the builder check stay on.
	"copyleft_licenses": [
		"GPL-1.0*", "GPL-2.0*", "GPL-3.0*", "AGPL-1.0*", "AGPL-3.0*", "LGPL-*", "MPL-*",
		"EPL-*", "CDDL-*", "CPL-1.0", "EUPL-*", "OSL-*", "MS-RL", "CECILL-1.*", "CECILL-2.*",
		"CECILL-C", "CC-BY-SA-*", "SSPL-1.0", "Sleepycat", "RPL-*", "GPL", "LGPL", "AGPL",
		"GPLv*", "LGPLv*", "AGPLv*", "*General Public License*", "*Mozilla Public License*",
		"*Eclipse Public License*", "*Common Development and Distribution License*",
		"*European Union Public Licen?e*",
	],
	# [] when missing: no exception lifts copyleft, no package type is exempt (stricter).
	"copyleft_exceptions": [],
	"copyleft_exempt_package_types": [],
	"trusted_builders": [
		"https://github.com/slsa-framework/slsa-github-generator/.github/workflows/*_slsa3.yml@refs/tags/v*",
		"https://github.com/actions/runner/github-hosted",
		"https://cloudbuild.googleapis.com/GoogleHostedWorker*",
	],
}

# The stage being gated: input.context.stage; when absent, the strictest (last) stage of
# stage_order, as the core does when --stage is omitted; "prod" as a last resort (a stage
# unknown to data.json makes every action "deny" anyway).
stage := s if {
	s := input.context.stage
	is_string(s)
	s != ""
} else := s if {
	order := config.stage_order
	is_array(order)
	count(order) > 0
	s := order[count(order) - 1]
	is_string(s)
} else := "prod"

# action(rule_id) is "deny", "warn" or "off" as data.json says for the current stage, and
# "deny" when the stage, the rule or a valid action is missing (fail closed).
action(rule_id) := a if {
	a := config.stages[stage].actions[rule_id]
	a in {"deny", "warn", "off"}
} else := "deny"

# setting(name) is the stage's setting when present and of the same JSON type as its strict
# default; otherwise the strict default. Only names in default_settings are valid (a test
# checks that every lib.setting("...") call in the pack names one).
setting(name) := v if {
	v := config.stages[stage].settings[name]
	type_name(v) == type_name(default_settings[name])
} else := default_settings[name]

# list_config(name) is gate_config[name] when it is an array, else the fallback list.
list_config(name) := v if {
	v := config[name]
	is_array(v)
} else := default_lists[name]

# ---------------------------------------------------------------------------------------
# Results
# ---------------------------------------------------------------------------------------

severities := {"critical", "high", "medium", "low", "negligible", "unknown"}

# severity_of(x) is x.severity when it is one of the contract's severities, else "unknown".
severity_of(x) := s if {
	s := x.severity
	s in severities
} else := "unknown"

# result builds one deny/warn object of the rule contract.
result(rule_id, msg, severity, remediation, finding) := {
	"id": rule_id,
	"msg": msg,
	"severity": severity,
	"remediation": remediation,
	"finding": finding,
}

# ---------------------------------------------------------------------------------------
# Small safe accessors
# ---------------------------------------------------------------------------------------

# str(x) is x when it is a non-empty string (after trimming), undefined otherwise.
str(x) := x if {
	is_string(x)
	trim_space(x) != ""
}

# str_or(x, d) is x when it is a non-empty string, else d. NOTE: a function called with an
# undefined argument is undefined, so for a key that may be missing use text_or instead.
str_or(x, d) := x if str(x) else := d

# text_or(obj, key, d) is obj[key] when it is a non-empty string, else d - also when obj has
# no such key or is not an object (indexing never errors, unlike object.get).
text_or(obj, key, d) := v if {
	v := obj[key]
	str(v)
} else := d

# array_or_empty(x) is x when it is an array, else [].
array_or_empty(x) := x if is_array(x) else := []

# object_or_empty(x) is x when it is an object, else {}.
object_or_empty(x) := x if is_object(x) else := {}

# glob_any(patterns, value) is true when value matches one of the glob patterns, ignoring
# case. The delimiter list is null (no delimiters), so "*" matches any run of characters,
# dots and slashes included: glob.match(p, [], v) would use "." as the delimiter, like OPA,
# and "agpl-3.0*" would then not match "agpl-3.0-only".
glob_any(patterns, value) if {
	is_string(value)
	v := lower(value)
	p := patterns[_]
	is_string(p)
	glob.match(lower(p), null, v)
}

# ---------------------------------------------------------------------------------------
# Time: every helper is undefined (never an error) on a missing or malformed timestamp.
# ---------------------------------------------------------------------------------------

day_ns := 86400000000000

hour_ns := 3600000000000

days(n) := n * day_ns

hours(n) := n * hour_ns

minutes(n) := n * 60000000000

# RFC 3339 date-time. regorus's time.parse_rfc3339_ns errors on anything else, and also on
# impossible dates (month 13, 30 February) and on years outside the signed 64-bit nanosecond
# range (1677-09-21 .. 2262-04-11), so valid_timestamp checks all of that first. Only the
# upper-case "T"/"Z" form with at most nanosecond fractions is accepted: regorus also takes
# "t", "z" and a space, OPA (Go) does not, and the gate's verdict must not depend on the
# engine. Digits are written [0-9], never \d: in regorus (Rust) \d is any Unicode digit, and
# \d{1,9} compiles past regorus's regex size limit - a hard error; in OPA (Go) it is ASCII.
rfc3339_re := `^(167[89]|16[89][0-9]|1[7-9][0-9]{2}|2[01][0-9]{2}|22[0-5][0-9]|226[01])-((0[13578]|1[02])-(0[1-9]|[12][0-9]|3[01])|(0[469]|11)-(0[1-9]|[12][0-9]|30)|02-(0[1-9]|1[0-9]|2[0-9]))T([01][0-9]|2[0-3]):[0-5][0-9]:([0-5][0-9]|60)(\.[0-9]{1,9})?(Z|[+-]([01][0-9]|2[0-3]):[0-5][0-9])$`

# The regex bounds the year (1678-2261), the day by month and the time; only 29 February needs
# the calendar. (to_number is safe on the year: the regex makes it four digits, no leading 0.)
valid_timestamp(ts) if {
	is_string(ts)
	regex.match(rfc3339_re, ts)
	not _missing_leap_day(ts)
}

_missing_leap_day(ts) if {
	substring(ts, 5, 5) == "02-29"
	not _leap(to_number(substring(ts, 0, 4)))
}

_leap(y) if {
	y % 4 == 0
	y % 100 != 0
}

_leap(y) if y % 400 == 0

# parse_ns(ts) is the timestamp in ns since the epoch; undefined unless valid_timestamp(ts).
parse_ns(ts) := time.parse_rfc3339_ns(ts) if valid_timestamp(ts)

# now_ns is the evaluation time (input.context.evaluated_at); undefined when malformed.
now_ns := parse_ns(input.context.evaluated_at)

# age_ns(ts) is how long before "now" ts is (negative when in the future).
age_ns(ts) := now_ns - parse_ns(ts)

# age_days(ts) / age_hours(ts) are whole days / hours, rounded down, for messages.
age_days(ts) := floor(age_ns(ts) / day_ns)

age_hours(ts) := floor(age_ns(ts) / hour_ns)

# ---------------------------------------------------------------------------------------
# Image
# ---------------------------------------------------------------------------------------

# image and subject are always objects ({} when missing or not objects), so that rules can
# pass them and their fields to functions without becoming undefined.
default image := {}

image := input.image if is_object(input.image)

default subject := {}

subject := input.subject if is_object(input.subject)

# Iterating with x[_] (never `some x in`) is deliberate: `some x in null` is an error in
# regorus, x[_] over null or a string is simply empty.
scans := [s | s := input.scans[_]; is_object(s)]

# image_known: an image configuration was seen. Every source that reads one (docker
# inspect, an image config, a scanner's copy of it) records the USER as a string, "" being
# root; a manifest or a scanner that saw no config leaves it null. Rules about the image
# config (user, labels, healthcheck) say nothing when it is unknown: an unknown user is not
# root, and image-metadata-missing reports the gap instead.
image_known if is_string(image.user)

# ---------------------------------------------------------------------------------------
# Scans
# ---------------------------------------------------------------------------------------

vulnerability_scans := [s | some s in scans; "vulnerability" in s.kinds]

# proves(s, kind): input s is about the image being gated and proves `kind` about it. The
# core decides (scans[].evidence.counts_for): a scan of another image, or one that names no
# image, proves nothing, and an SBOM without packages is no SBOM. An input without that
# record proves nothing either (fail closed).
proves(s, kind) if s.evidence.counts_for[_] == kind

# The vulnerability scans that are about this image: what scan-required counts.
image_vulnerability_scans := [s | some s in vulnerability_scans; proves(s, "vulnerability")]

# Kinds of input that prove something about an image (and so must be about this one).
evidence_kinds := {"vulnerability", "sbom", "vex", "attestation"}

# about_image_matches: how an input may relate to the image and still be about it.
about_image_matches := {"defines", "digest", "name"}

# scan_name(s) names a scan in messages: its input file, else its tool.
scan_name(s) := text_or(s, "input", text_or(s, "tool", "unnamed scan"))

# input_names lists every input for a message about one that is missing: "inputs: a, b".
input_names := sprintf("inputs: %s", [concat(", ", names)]) if {
	names := [scan_name(s) | some s in scans]
	count(names) > 0
} else := "no inputs at all"

# subject_digests: the image's known digests (subject.digest, subject.image_id), normalised
# by digest_part; empty when neither is known.
subject_digests := {d |
	some x in [object.get(subject, "digest", null), object.get(subject, "image_id", null)]
	str(x)
	d := digest_part(x)
}

scan_finding(s) := {"kind": "scan", "id": id} if {
	id := s.input
	is_string(id)
} else := {"kind": "scan", "id": null}

# digest_part("repo@sha256:ab…") and digest_part("sha256:ab…") are both "sha256:ab…".
digest_part(d) := lower(trim_space(parts[count(parts) - 1])) if {
	is_string(d)
	parts := split(d, "@")
}

# ---------------------------------------------------------------------------------------
# Vulnerabilities: memoised partial results. Rules iterate these, never input.vulnerabilities.
#
# Performance: documents carry 10,000+ vulnerabilities. Measured in regorus (per call, on 10k
# items): a user function ~2 µs, one with three bodies ~12 µs (every body is evaluated), a
# builtin 2-3 µs, regex.match ~12 µs, a partial-set insertion ~7 µs. So the filters below do
# one field comparison per vulnerability, call at most one single-body function on the
# critical/high ones, and each result is built by one function call.
#
# NOTE: rules in other packages must reference these values as data.lib.gate.<name>, not
# lib.<name>: through the `lib` import alias regorus evaluates the whole lib package for a
# value reference (~0.5 s at 10,000 vulnerabilities). Function calls through the alias are
# fine. tests/test_rego_policies.py enforces this.
# ---------------------------------------------------------------------------------------

# Every critical / high vulnerability, VEX or not: what the vulnerability rules would weigh.
_critical_all := [v | v := input.vulnerabilities[_]; v.severity == "critical"]

_high_all := [v | v := input.vulnerabilities[_]; v.severity == "high"]

# The ones that count: a VEX statement that suppresses (vex_suppresses) takes a vulnerability
# out of every vulnerability rule here, once, rather than in each rule.
_critical := [v | some v in _critical_all; not vex_suppresses(v)]

_high := [v | some v in _high_all; not vex_suppresses(v)]

fixable_critical := [v | some v in _critical; not unfixed(v)]

fixable_high := [v | some v in _high; not unfixed(v)]

# Inlined rather than `unfixed(v)`: three negations cost less than a function call here.
unfixed_critical := [v |
	some v in _critical
	not v.fix_available == true
	not v.status == "fixed"
	not is_string(v.fixed_versions[0])
]

# Publication times (ns) of the unfixed critical vulnerabilities, parsed once per distinct
# timestamp (many share one; validating and parsing one costs ~20 µs). Kept here rather than
# in the rule package so that it stays out of the data.gate tree the core serialises.
unfixed_critical_published_ns := {ts: ns |
	some ts in {v.published | some v in unfixed_critical}
	ns := parse_ns(ts)
}

# unfixed(v): no fix is released - no fixed version is known and the scanner does not say
# "fixed". (One body with negations: a function with several bodies costs twice as much.)
unfixed(v) if {
	not v.fix_available == true
	not v.status == "fixed"
	not is_string(v.fixed_versions[0])
}

fixable(v) if not unfixed(v)

# vulnerability_finding(v) is the contract's finding for a vulnerability. Nullable fields are
# read with object.get so that a missing key cannot make the result undefined (a silently
# dropped finding would fail open); fixed_versions keeps strings only, as concat needs.
vulnerability_finding(v) := {
	"kind": "vulnerability",
	"id": v.id,
	"aliases": object.get(v, "aliases", []),
	"advisories": object.get(v, "advisories", []),
	"package": v.package.name,
	"version": object.get(v.package, "version", null),
	"purl": object.get(v.package, "purl", null),
	"fixed_versions": [x | x := v.fixed_versions[_]; is_string(x)],
}

# package_label(v) is "openssl 3.0.1" (or "openssl (unknown version)") for messages.
package_label(v) := sprintf("%s %s", [v.package.name, v.package.version]) if {
	is_string(v.package.version)
} else := sprintf("%s (unknown version)", [v.package.name])

# fixable_result(rule_id, severity, v) is the whole result for a vulnerability with a
# released fix: "CVE-… (critical) in openssl 3.0.1: fixed in 3.0.13", and a remediation that
# names the package, the installed and the fixed version.
fixable_result(rule_id, severity, v) := {
	"id": rule_id,
	"msg": sprintf("%s (%s) in %s: %s", [v.id, severity, label, texts[0]]),
	"severity": severity,
	"remediation": sprintf("Upgrade %s to %s%s and rebuild the image.", [label, texts[1], hint]),
	"finding": finding,
} if {
	finding := vulnerability_finding(v)
	label := package_label(v)
	texts := _fix_texts(finding.fixed_versions, object.get(v, "fix_version", null))
	hint := object.get(_upgrade_hints, object.get(v.package, "type", ""), "")
}

# [summary for the message, target for the remediation]. The target is the core's
# fix_version (the lowest fixed version not below the installed one); without one, never a
# guess from the list - its first entry may be a fix on an older release line, a downgrade.
_fix_texts(fixes, target) := [_fixed_in(fixes), sprintf("%s or later", [target])] if {
	is_string(target)
} else := [_fixed_in(fixes), sprintf("one of %s", [concat(", ", fixes)])] if {
	count(fixes) > 0
} else := ["a fix is released (no fixed version recorded)", "a fixed version (see the advisory)"]

_fixed_in(fixes) := sprintf("fixed in %s", [concat(", ", fixes)]) if {
	count(fixes) > 0
} else := "a fix is released (no fixed version recorded)"

_upgrade_hints := {
	"deb": " (or rebuild on an updated base image)",
	"apk": " (or rebuild on an updated base image)",
	"rpm": " (or rebuild on an updated base image)",
}

# ---------------------------------------------------------------------------------------
# VEX. A vulnerability's `vex` is the VEX statement that applies to it (the latest, chosen
# by the core), or null. A statement suppresses the vulnerability - it no longer counts for
# vuln-fixable-critical, vuln-fixable-high or vuln-unfixed-critical-aged - when its status is
# - "fixed": the image contains the fix (e.g. a backport the scanner cannot see), or
# - "not_affected" with a justification or an impact statement. OpenVEX requires one of the
#   two for not_affected; a statement with neither is an unsupported claim, so it suppresses
#   nothing (fail closed) and vex-missing-justification reports it.
# "affected" and "under_investigation" change nothing. Any non-blank justification is taken:
# OpenVEX, CycloneDX and CSAF each have their own vocabulary and the sources copy it as
# written. The lists below hold only what the vulnerability rules weigh - critical
# vulnerabilities (fixable, or a candidate for the aged check) and fixable high ones: a
# statement about any other changes no verdict.
# ---------------------------------------------------------------------------------------

# vex_suppresses(v): v's VEX statement takes it out of the vulnerability rules. (An else
# chain: the second test runs only for not_affected statements.)
vex_suppresses(v) := true if {
	v.vex.status == "fixed"
} else := true if {
	v.vex.status == "not_affected"
	vex_reasoned(v.vex)
}

# vex_reasoned(vex): the statement says why (a justification or an impact statement).
vex_reasoned(vex) := true if str(vex.justification) else := true if str(vex.impact_statement)

# What the vulnerability rules weigh, VEX or not: every critical, and the fixable highs.
_weighed := array.concat(_critical_all, [v | some v in _high_all; not unfixed(v)])

# The weighed vulnerabilities that a VEX statement takes out of the vulnerability rules.
vex_suppressed := [v | some v in _weighed; vex_suppresses(v)]

# The weighed vulnerabilities whose not_affected statement gives no reason: they count.
vex_unsupported := [v |
	some v in _weighed
	v.vex.status == "not_affected"
	not vex_reasoned(v.vex)
]

# vex_finding(v) is v's vulnerability finding plus the statement that applies to it.
vex_finding(v) := object.union(vulnerability_finding(v), {"vex": {
	"status": v.vex.status,
	"justification": text_or(v.vex, "justification", null),
	"input": text_or(v.vex, "input", null),
}})

# ---------------------------------------------------------------------------------------
# Licences: SPDX licence expressions, and which licence texts of the document are copyleft.
# ---------------------------------------------------------------------------------------

# license_package(l) names the package licence finding l is about; null for a file's licence.
license_package(l) := name if {
	name := l.package.name
	str(name)
} else := null

# spdx_parse(e) reads an SPDX licence expression: {"tokens", "kinds", "terms"}, where terms
# are [licence, exception or null] in order. Operators (AND, OR, WITH) are matched in any
# case. Undefined when e is not a well-formed expression - free text such as "GNU General
# Public License v2 or later", or "A WITH" - so that callers fall back to reading it as text.
# (Balanced parentheses are checked by spdx_unavoidable.)
spdx_parse(e) := {"tokens": tokens, "kinds": kinds, "terms": terms} if {
	is_string(e)
	tokens := regex.find_n(`\(|\)|[^\s()]+`, e, -1)
	kinds := [_spdx_kind(t) | some t in tokens]
	regex.match(`^\(*t(wt)?\)*([&|]\(*t(wt)?\)*)*$`, concat("", kinds))
	terms := [_spdx_term(tokens, i) | some i, k in kinds; k == "t"; not kinds[i - 1] == "w"]
}

_spdx_kind(t) := "(" if t == "("
else := ")" if t == ")"
else := "&" if upper(t) == "AND"
else := "|" if upper(t) == "OR"
else := "w" if upper(t) == "WITH"
else := "t"

_spdx_term(tokens, i) := [tokens[i], tokens[i + 2]] if upper(tokens[i + 1]) == "WITH" else := [tokens[i], null]

# spdx_unavoidable(parsed, marked) is true when every way of complying with the expression
# involves a term in the set `marked`: "A OR B" only when both do, "A AND B" when either
# does, parentheses as written. (So "GPL-2.0-only OR MIT" is not copyleft: MIT may be
# chosen.) When some terms are marked and others not, undefined if the parentheses do not
# balance or nest deeper than the reduction below handles.
spdx_unavoidable(parsed, marked) := false if {
	count(marked) == 0
} else := true if {
	count({t | some t in parsed.terms} - marked) == 0
} else := r if {
	bits := concat("", [_spdx_bit(parsed, i, marked) | some i, _ in parsed.kinds])
	reduced := _spdx_reduce(bits)
	reduced in {"0", "1"}
	r := reduced == "1"
}

# Most expressions reduce in one round; otherwise eight rounds, enough for the reference test
# of the reduction (random expressions four levels deep) and for flat chains of 24 terms.
_spdx_reduce(bits) := r if {
	r := _spdx_round(bits)
	count(r) == 1
} else := _spdx_round(_spdx_round(_spdx_round(_spdx_round(_spdx_round(_spdx_round(_spdx_round(_spdx_round(bits))))))))

# _spdx_bit: "1" for a marked term, "0" for another, "" for WITH and its exception, the
# operator or parenthesis otherwise (& for AND, | for OR).
_spdx_bit(p, i, marked) := "" if p.kinds[i] == "w"
else := "" if p.kinds[i - 1] == "w"
else := "1" if {
	p.kinds[i] == "t"
	_spdx_term(p.tokens, i) in marked
} else := "0" if p.kinds[i] == "t"
else := p.kinds[i]

# One reduction round over the bit string. The values are "is a marked term unavoidable",
# so AND is "either" and OR is "both". Every rewrite is sound wherever it applies: AND binds
# tighter than OR, so two atoms joined by & are always its operands, and an OR is reduced
# only between atoms not bound to a neighbouring AND (context "(", "|" or an end). Go and
# Rust regexes have no look-around, so the context is matched and written back ($1, $3).
_spdx_round(s) := regex.replace(
	regex.replace(
		regex.replace(
			regex.replace(regex.replace(regex.replace(regex.replace(s, `\(([01])\)`, "${1}"), `1&[01]`, "1"), `0&1`, "1"), `0&0`, "0"),
			`(^|[(|])1\|1($|[)|])`, "${1}1${2}",
		),
		`(^|[(|])(0\|[01]|1\|0)($|[)|])`, "${1}0${3}",
	),
	`\(([01])\)`, "${1}",
)

_copyleft_patterns := list_config("copyleft_licenses")

_copyleft_exceptions := list_config("copyleft_exceptions")

# copyleft(e) is true when the licence text e (an SPDX expression, or a licence name as a
# scanner writes it) leaves no way to comply without a licence of copyleft_licenses:
# - a term is copyleft when its licence matches copyleft_licenses, unless it is a
#   LicenseRef-/DocumentRef- (unknown: not evidence) or carries an exception on
#   copyleft_exceptions ("GPL-2.0-only WITH Classpath-exception-2.0", and the deprecated
#   ids that spell one in, "GPL-2.0-with-classpath-exception");
# - "A OR B" is copyleft only when both are, "A AND B" when either is (spdx_unavoidable);
# - text that is not a well-formed expression (or nests too deep) is copyleft when it as a
#   whole, or any word of it, matches a pattern - conservative, and what catches scanners'
#   long names ("GNU Lesser General Public License v2.1 or later").
copyleft(e) := _copyleft_given(e, {t | some t in _terms_of(e); _copyleft_term(t)})

# copyleft_texts: the distinct licence texts of the document (SBOM packages' expressions and
# scanners' licence names) that are copyleft. Thousands of packages share a few dozen texts,
# and the texts share their terms: each text and each term is judged once (matching a term
# against the patterns is the expensive part, ~0.2 ms).
copyleft_texts := {e | some e in _license_texts; _copyleft_given(e, _copyleft_terms)}

_license_texts := {e | e := input.packages[_].licenses[_]; is_string(e)} | {e | e := input.licenses[_].name; is_string(e)}

_copyleft_terms := {t | some t in {u | some e in _license_texts; some u in _terms_of(e)}; _copyleft_term(t)}

# _copyleft_given(e, copyleft_terms) is copyleft(e), given (at least) the copyleft terms of e.
_copyleft_given(e, copyleft_terms) := false if {
	not is_string(e)
} else := r if {
	_one_licence(e)
	r := _member(copyleft_terms, [e, null])
} else := r if {
	parsed := spdx_parse(e)
	r := spdx_unavoidable(parsed, {t | some t in parsed.terms; copyleft_terms[t]})
} else := true if {
	_copyleft_text(e)
} else := false

# _terms_of(e) is e's terms: itself for one licence id, the parsed terms of an expression,
# none for text that is not an expression.
_terms_of(e) := [[e, null]] if {
	_one_licence(e)
} else := parsed.terms if {
	parsed := spdx_parse(e)
} else := []

# One licence id, the common case: no need to parse.
_one_licence(e) if {
	is_string(e)
	not regex.match(`[\s()]`, e)
}

_member(set, x) := true if set[x] else := false

_copyleft_term(term) if {
	not regex.match(`(?i)^(licenseref|documentref)-`, term[0])
	glob_any(_copyleft_patterns, term[0])
	not _exception_lifts_copyleft(term)
}

_exception_lifts_copyleft(term) if glob_any(_copyleft_exceptions, term[1])

_exception_lifts_copyleft(term) if {
	spelled_in := regex.find_all_string_submatch_n(`(?i)^.+-with-(.+-exception)$`, term[0], 1)
	glob_any(_copyleft_exceptions, spelled_in[0][1])
}

_copyleft_text(e) if glob_any(_copyleft_patterns, trim_space(e))

_copyleft_text(e) if {
	some word in regex.split(`[\s()]+`, e)
	glob_any(_copyleft_patterns, word)
}

# ---------------------------------------------------------------------------------------
# Attestations (presence only: gate records whether an envelope is signed, it does not
# verify signatures).
# ---------------------------------------------------------------------------------------

attestations := [a | a := input.attestations[_]; is_object(a)]

provenance := [a | some a in attestations; a.kind == "provenance"]

# ---------------------------------------------------------------------------------------
# Image signatures and earlier verdicts (input.signatures, input.promotion). The core checks
# every signature; a state is "verified" only when a --trust-key key verified it.
# ---------------------------------------------------------------------------------------

# promotion is input.promotion, completed with the values of a run that is no promotion (a
# document written before it existed): not enforced, no trust keys, no earlier verdicts.
promotion := object.union(_no_promotion, p) if {
	p := input.promotion
	is_object(p)
} else := _no_promotion

_no_promotion := {"enforced": false, "trust_keys": 0, "verdicts": []}

# trust_keys_configured: --trust-key keys were given, so only what one of them verified is
# trusted. Any count but the number 0 (null, "2") is taken as configured: the stricter reading.
trust_keys_configured if not promotion.trust_keys == 0

# digest_label("sha256:0123456789abcdef…") is "sha256:0123456789ab…" for messages (an
# attacker-chosen string is cut short too).
digest_label(d) := sprintf("%s…", [substring(d, 0, 19)]) if {
	is_string(d)
	count(d) > 19
} else := d if is_string(d) else := "digest unknown"

# listed(texts, separator) joins at most 10 texts for a message and says how many more
# there are: a registry can hold any number of artifacts, a message stays readable.
listed(texts, separator) := concat(separator, texts) if {
	count(texts) <= 10
} else := sprintf("%s%sand %d more", [concat(separator, array.slice(texts, 0, 10)), separator, count(texts) - 10])

# signature_problem(state, key_id, reason) is why a signature in that state does not make
# what it signs trusted, for messages; "" when verified.
signature_problem(state, key_id, reason) := "" if {
	state == "verified"
} else := "not signed while trust keys are configured" if {
	state == "unsigned"
	trust_keys_configured
} else := "not signed" if {
	state == "unsigned"
} else := "signed but not verified (no --trust-key is configured)" if {
	state == "unverified"
	not trust_keys_configured
} else := sprintf("signed by an untrusted key (%s)", [digest_label(key_id)]) if {
	state == "untrusted"
} else := sprintf("invalid signature (%s)", [reason]) if {
	state == "invalid"
} else := sprintf("signature not verified (%s)", [reason])
