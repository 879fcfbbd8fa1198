"""Errors the admin use cases raise; the admin function turns them into JSON answers."""

from __future__ import annotations


class OperationsError(Exception):
    status = 400
    # True when the change was stored before the failure (what had to follow it did not happen): the answer
    # is an error, and the audit log still records the change.
    committed = False

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class BadRequest(OperationsError):
    status = 400


class Forbidden(OperationsError):
    status = 403


class PermissionMissing(Forbidden):
    """A 403 that names the permission the caller lacks (`missingPermission` in the answer)."""

    def __init__(self, message: str, permission: str) -> None:
        super().__init__(message)
        self.permission = permission


class NotFound(OperationsError):
    status = 404


class Conflict(OperationsError):
    status = 409


class Unavailable(OperationsError):
    status = 503
