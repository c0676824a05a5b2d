# METADATA
# scope: package
# title: Secret-looking environment variables
# description: >-
#   The image config bakes in an environment variable that looks like a secret: its name
#   matches gate_config.secret_env_patterns (case-insensitive globs, e.g. *PASSWORD*) and
#   not gate_config.secret_env_allowlist (e.g. *_FILE, which holds a path) and its value is
#   not empty; or, whatever its name, its value contains an AWS access key id (AKIA/ASIA...)
#   or a private key. Anyone who can pull the image can read its environment. Name matching
#   is a heuristic with false positives, so dev only warns; staging and prod block. Values
#   are never reported.
# custom:
#   id: image-env-secret
#   severity: high
#   remediation: >-
#     Remove the variable from the image (ENV/ARG), inject it at runtime from a secret store
#     or mount it as a file, and rotate the secret.
package gate.image.env_secret

import data.lib.gate as lib
import rego.v1

rule_id := "image-env-secret"

remediation := "Remove the variable from the image (ENV/ARG in the Dockerfile), inject it at runtime from a secret store or mount it as a file (e.g. *_FILE variables), and rotate the secret: it is readable by everyone who can pull the image."

aws_key_re := `(^|[^0-9A-Z])(AKIA|ASIA)[0-9A-Z]{16}([^0-9A-Z]|$)`

private_key_re := `-----BEGIN ([A-Z0-9]+ )*PRIVATE KEY( BLOCK)?-----`

# NOTE: no rule here holds the environment itself: everything in this package is part of the
# data.gate tree the core evaluates and might print, and env values are secrets.
# Values that are secrets whatever the variable is called (reported as critical).
findings contains lib.result(rule_id, msg, "critical", remediation, {"kind": "env", "id": name}) if {
	value := data.lib.gate.image.env[name]
	is_string(name)
	what := value_secret(value)
	msg := sprintf("environment variable %s holds %s", [name, what])
}

# Names that look like secrets, with a value (reported as high) - unless the value already
# gave a critical result above.
findings contains lib.result(rule_id, msg, "high", remediation, {"kind": "env", "id": name}) if {
	patterns := lib.list_config("secret_env_patterns")
	allowlist := lib.list_config("secret_env_allowlist")
	value := data.lib.gate.image.env[name]
	is_string(name)
	lib.str(value)
	lib.glob_any(patterns, name)
	not lib.glob_any(allowlist, name)
	not value_secret(value)
	msg := sprintf("environment variable %s looks like a secret (its name matches secret_env_patterns) and has a value baked into the image", [name])
}

value_secret(value) := "what looks like an AWS access key id" if {
	is_string(value)
	regex.match(aws_key_re, value)
} else := "a private key" if {
	is_string(value)
	regex.match(private_key_re, value)
}

deny contains f if {
	lib.action(rule_id) == "deny"
	some f in findings
}

warn contains f if {
	lib.action(rule_id) == "warn"
	some f in findings
}
