"""Exceptions of the pnnlab package: one class per thing that can go wrong, one line each."""

from __future__ import annotations

from typing import Optional, Sequence


class PnnlabError(Exception):
    """Base of every pnnlab error; also what :func:`pnnlab.cli` raises when the binary fails.

    ``str(error)`` is one line. For a failed command, ``returncode``, ``stderr`` (all of it)
    and ``args_`` (the command line) are kept for inspection.
    """

    def __init__(
        self,
        message: str,
        *,
        returncode: Optional[int] = None,
        stderr: str = "",
        command: Optional[Sequence[str]] = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.returncode = returncode
        self.stderr = stderr
        self.command = list(command) if command is not None else None

    def __str__(self) -> str:
        return self.message


class StoreError(PnnlabError):
    """A run store cannot be opened or read."""


class StoreNotFoundError(StoreError):
    """There is no store file at the path (a reader never creates one)."""


class NotAStoreError(StoreError):
    """The file is not a pnnlab store (not SQLite, or another program's database)."""


class NewerSchemaError(StoreError):
    """The store was written by a newer pnnlab whose schema this package does not know."""


class CorruptStoreError(StoreError):
    """The store is damaged (malformed database, a value that does not decode)."""


class RunNotFoundError(StoreError, LookupError):
    """No run with this number in the store."""
