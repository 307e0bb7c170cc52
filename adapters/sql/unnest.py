"""Many rows in one PostgreSQL statement: INSERT ... SELECT FROM unnest() of one array parameter per column.

The batch path writes this way rather than with COPY when the statement runs under the ledger's head lock: a COPY
costs two round trips, and a statement can carry several tables' rows at once (as data-modifying CTEs)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Table
from sqlalchemy.dialects import postgresql


def unnest_insert(table: Table, columns: Sequence[str], first_parameter: int) -> str:
    """INSERT INTO table (columns) from parameters $first_parameter... (one array per column, cast to the column's
    type), the rows inserted in array order: a column filled from a sequence (the mailbox's seq) numbers them so."""
    names = ", ".join(f'"{name}"' for name in columns)
    dialect = postgresql.dialect()
    arrays = ", ".join(
        f"${first_parameter + i}::{table.c[name].type.compile(dialect=dialect)}[]" for i, name in enumerate(columns)
    )
    return (
        f'INSERT INTO "{table.name}" ({names}) SELECT {names}'
        f" FROM unnest({arrays}) WITH ORDINALITY AS v({names}, position_in_batch) ORDER BY position_in_batch"
    )


def columns_of(records: Sequence[tuple[Any, ...]], width: int) -> list[list[Any]]:
    """Rows as one list per column: the parameters of unnest_insert (width empty lists for no rows)."""
    return [list(column) for column in zip(*records, strict=True)] if records else [[] for _ in range(width)]
