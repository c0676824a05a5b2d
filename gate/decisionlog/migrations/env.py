"""alembic environment: migrate on the connection (and in the transaction) gate passes.

gate runs alembic programmatically (gate.decisionlog.store.DecisionLog._migrate) inside
its own transaction, holding the migration lock; there is no alembic.ini and no offline mode.
"""

from __future__ import annotations

from alembic import context

connection = context.config.attributes["connection"]
context.configure(
    connection=connection,
    version_table=context.config.attributes["version_table"],
    target_metadata=None,
)
with context.begin_transaction():
    context.run_migrations()
