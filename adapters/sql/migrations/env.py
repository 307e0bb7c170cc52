"""Alembic environment. The gateway always hands in an open connection (see ../migrate.py)."""

from alembic import context
from gateway_adapters.sql.models import Base

connection = context.config.attributes.get("connection")
if connection is None:
    raise SystemExit("run migrations through `gateway db upgrade`, which supplies the database connection")

context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    render_as_batch=connection.dialect.name == "sqlite",  # SQLite alters tables by copying them
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
