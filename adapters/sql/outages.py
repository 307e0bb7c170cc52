"""Database outages as the ports name them: an adapter method that could not reach the database, or was cut off by
it for a transient reason, raises gateway.ledger.ports.StorageUnavailable, so that nothing above the adapters needs
to know SQLAlchemy's or asyncpg's exceptions to answer 503 and retry later."""

from __future__ import annotations

import functools
import inspect
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import asyncpg
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from gateway.ledger.ports import StorageUnavailable

# asyncpg's errors that mean "the server cannot take the work now", not "the work is wrong": connection loss or
# refusal (including a database closed to connections, SQLSTATE 55000), a client-side connection state broken by
# such a loss, serialisation failures, deadlocks, cancelled statements (statement_timeout), admin shutdowns.
transient_asyncpg_errors = (
    asyncpg.PostgresConnectionError,
    asyncpg.InterfaceError,
    asyncpg.InternalClientError,
    asyncpg.ObjectNotInPrerequisiteStateError,
    asyncpg.SerializationError,
    asyncpg.DeadlockDetectedError,
    asyncpg.QueryCanceledError,
    asyncpg.AdminShutdownError,
    asyncpg.CannotConnectNowError,
    asyncpg.TooManyConnectionsError,
)


def is_transient(error: BaseException) -> bool:
    """True for database errors worth retrying later (connection loss, serialisation failure, lock timeout), also
    when SQLAlchemy wraps them."""
    if isinstance(error, (StorageUnavailable, OSError, TimeoutError, PoolTimeout, *transient_asyncpg_errors)):
        return True
    if isinstance(error, DBAPIError):
        if error.connection_invalidated or isinstance(error, OperationalError):
            return True
        cause = error.orig.__cause__ if error.orig is not None else None
        transient = (OSError, *transient_asyncpg_errors)
        return isinstance(error.orig, transient) or isinstance(cause, transient)
    return False


_Class = TypeVar("_Class", bound=type)


def outages_unavailable(cls: _Class) -> _Class:
    """Wrap every public coroutine method of an adapter class so that a transient database error leaves it as
    StorageUnavailable (chained to the original, which the logs keep)."""
    for name, member in list(vars(cls).items()):
        if name.startswith("_") or not inspect.iscoroutinefunction(member):
            continue
        setattr(cls, name, _translated(member))
    return cls


def _translated(method: Callable[..., Awaitable[Any]]) -> Callable[..., Awaitable[Any]]:
    @functools.wraps(method)
    async def translated(*args: Any, **kwargs: Any) -> Any:
        try:
            return await method(*args, **kwargs)
        except StorageUnavailable:
            raise
        except Exception as error:
            if is_transient(error):
                raise StorageUnavailable(f"the database is unavailable: {type(error).__name__}: {error}") from error
            raise

    return translated
