"""gate: a policy-as-code quality gate for container images."""

__version__ = "0.1.0"
