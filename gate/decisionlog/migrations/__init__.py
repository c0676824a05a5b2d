"""alembic environment and revisions of the decision log (run by gate.decisionlog.store)."""
