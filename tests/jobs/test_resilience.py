"""What the worker waits out (the database unreachable) and what it does not (a query the database refused)."""

from __future__ import annotations

import psycopg
import psycopg_pool
import pytest
from procrastinate.exceptions import ConnectorException

from pipeline.jobs.resilience import is_connection_loss


def _wrapped(cause: BaseException) -> ConnectorException:
    try:
        raise ConnectorException() from cause
    except ConnectorException as exc:
        return exc


@pytest.mark.parametrize(("cause", "lost"), [
    (psycopg.OperationalError("connection refused"), True),
    (psycopg_pool.PoolTimeout("couldn't get a connection after 30 s"), True),
    (ConnectionResetError("reset by peer"), True),
    (psycopg.errors.RaiseException("Job was not found or has an invalid status to retry"), False),
    (psycopg.errors.UniqueViolation("duplicate key"), False),
])
def test_only_an_unreachable_database_is_waited_out(cause, lost):
    assert is_connection_loss(_wrapped(cause)) is lost
