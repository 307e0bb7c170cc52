"""What every command shares: the usage error that ends it with exit status 2 and a message saying what to do."""

from __future__ import annotations


class UsageError(Exception):
    """The command cannot run as asked: a bad argument, a missing file or database. Printed, exit status 2."""
