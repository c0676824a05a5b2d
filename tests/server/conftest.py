"""Fixtures of the `gate serve` tests (defined in server/support.py with their helpers)."""

from server.support import make_client, serve  # noqa: F401 - fixtures
