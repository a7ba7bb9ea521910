"""The one root exception of the sync package and its stable codes.

Each subclass's first docstring line is its problem title (see ``server/problems.py``). The HTTP
status of each code is decided by the server; the intended one is noted in ``docs/problems.md``.
"""

from __future__ import annotations


class SyncError(Exception):
    """Base for every error the sync package raises; carries a stable ``code``."""

    code = "sync-error"

    def __init__(self, detail: str, *, errors: list[dict] | None = None, **fields):
        super().__init__(detail)
        self.detail = detail
        self.errors = errors or []
        self.fields = fields


class EnvelopeInvalid(SyncError):
    """The sync request envelope is malformed."""

    code = "envelope-invalid"


class CursorInvalid(SyncError):
    """The pull cursor cannot be read."""

    code = "cursor-invalid"


class ProtocolUnsupported(SyncError):
    """The client speaks a protocol version this server does not support."""

    code = "protocol-unsupported"


class PayloadTooLarge(SyncError):
    """The request body is too large."""

    # Same code as the server's own 413: a client handles both alike (split and resend).
    code = "payload-too-large"


class DeviceMismatch(SyncError):
    """The request names a device other than the one its token belongs to."""

    code = "device-mismatch"


class DeviceRevoked(SyncError):
    """The device has been revoked; it must keep its unsent data."""

    code = "device-revoked"


class EpochChanged(SyncError):
    """The server database was restored or replaced; re-push the sent archive."""

    code = "epoch-changed"


class StoreUnavailable(SyncError):
    """The store failed transiently; retry later."""

    code = "store-unavailable"


class WriteConflict(SyncError):
    """A concurrent transaction wrote the same row; the operation is retried."""

    code = "write-conflict"


class NotFound(SyncError):
    """No such quarantined item or conflict."""

    code = "sync-not-found"


class TransportFailed(SyncError):
    """The device client could not reach the server or read its answer."""

    code = "transport-failed"


class ServerRefused(SyncError):
    """The server refused a device client request; the outbox is kept."""

    code = "server-refused"
