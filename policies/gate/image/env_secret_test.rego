package gate.image.env_secret_test

import data.gate.image.env_secret as rule
import data.lib.fixtures_test as fx
import rego.v1

with_env(env) := json.patch(fx.doc, [{"op": "replace", "path": "/image/env", "value": env}])

test_secret_names_with_values_are_reported_without_the_value if {
	d := with_env({"DB_PASSWORD": "hunter2", "github_token": "ghp_abc", "PATH": "/bin", "Stripe_Api_Key": "sk_live_x"})
	fx.ids(rule.deny) == {"DB_PASSWORD", "github_token", "Stripe_Api_Key"} with input as d with data.gate_config as fx.config
	results := rule.deny with input as d with data.gate_config as fx.config
	every r in results {
		r.id == "image-env-secret"
		r.severity == "high"
		r.finding.kind == "env"
		object.keys(r.finding) == {"kind", "id"}
		not contains(r.msg, "hunter2")
		not contains(r.msg, "ghp_abc")
		not contains(r.msg, "sk_live_x")
	}
}

test_allowlisted_and_empty_values_pass if {
	d := with_env({"POSTGRES_PASSWORD_FILE": "/run/secrets/pg", "API_KEY": "", "SECRET": "   ", "HOME": "/root"})
	count(rule.findings) == 0 with input as d with data.gate_config as fx.config
}

test_aws_key_and_private_key_values_whatever_the_name if {
	d := with_env({
		"CONFIG": "region=eu-west-1 key=AKIAIOSFODNN7EXAMPLE",
		"X_FILE": "ASIAIOSFODNN7EXAMPLE",
		"TLS": "-----BEGIN RSA PRIVATE KEY-----\nMIIE...",
		"SSH": "-----BEGIN OPENSSH PRIVATE KEY-----",
		"NOT_A_KEY": "AKIAIOSFODNN7EXAMPLEXX",
		"CERT": "-----BEGIN CERTIFICATE-----",
	})
	fx.ids(rule.findings) == {"CONFIG", "X_FILE", "TLS", "SSH"} with input as d with data.gate_config as fx.config
	found_r := rule.findings with input as d with data.gate_config as fx.config
	some r in found_r
	r.finding.id == "CONFIG"
	r.severity == "critical"
	r.msg == "environment variable CONFIG holds what looks like an AWS access key id"
	not contains(r.msg, "AKIA")
}

test_one_result_per_variable if {
	d := with_env({"AWS_SECRET_TOKEN": "AKIAIOSFODNN7EXAMPLE"})
	count(rule.findings) == 1 with input as d with data.gate_config as fx.config
}

test_warn_in_dev if {
	d := fx.in_stage(with_env({"DB_PASSWORD": "hunter2"}), "dev")
	count(rule.warn) == 1 with input as d with data.gate_config as fx.config
	count(rule.deny) == 0 with input as d with data.gate_config as fx.config
}

test_missing_pattern_list_falls_back_to_defaults if {
	cfg := object.remove(fx.config, ["secret_env_patterns", "secret_env_allowlist"])
	d := with_env({"MY_PASSWD": "x", "DB_PASSWORD_FILE": "/run/secrets/db"})
	fx.ids(rule.findings) == {"MY_PASSWD", "DB_PASSWORD_FILE"} with input as d with data.gate_config as cfg
}

test_bad_env_does_not_crash if {
	count(rule.findings) == 0 with input as with_env(null) with data.gate_config as fx.config
	count(rule.findings) == 0 with input as with_env(["DB_PASSWORD=x"]) with data.gate_config as fx.config
	count(rule.findings) == 0 with input as with_env({"DB_PASSWORD": null}) with data.gate_config as fx.config
}

test_missing_env_key_does_not_crash if {
	d := json.patch(fx.doc, [{"op": "remove", "path": "/image/env"}])
	count(rule.findings) == 0 with input as d with data.gate_config as fx.config
}
