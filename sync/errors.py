"""The one root exception of the sync package and its stable codes.

Each subclass's first docstring line is its problem title (see ``server/problems.py``). The HTTP
status of each protocol code is part of the wire protocol (``docs/protocol.md``), so it is written once
here, in :data:`HTTP_STATUS`: the server answers with it and the device client's in-process transport
imitates it.
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


class AlreadyResolved(SyncError):
    """The quarantined item or conflict was resolved already."""

    # Not a write-conflict: retrying cannot help, the decision was made (by another coordinator, often).
    code = "already-resolved"


class NotFound(SyncError):
    """No such quarantined item or conflict."""

    code = "sync-not-found"


class TransportFailed(SyncError):
    """The device client could not reach the server or read its answer."""

    code = "transport-failed"


class ServerRefused(SyncError):
    """The server refused a device client request; the outbox is kept."""

    code = "server-refused"


#: The HTTP status each protocol code is answered with (the server's ``server/problems.py`` reads it).
HTTP_STATUS: dict[str, int] = {
    EnvelopeInvalid.code: 400,
    CursorInvalid.code: 400,
    ProtocolUnsupported.code: 426,
    PayloadTooLarge.code: 413,
    DeviceMismatch.code: 403,
    DeviceRevoked.code: 403,
    EpochChanged.code: 409,
    StoreUnavailable.code: 503,
    WriteConflict.code: 503,
    AlreadyResolved.code: 409,
    NotFound.code: 404,
}
