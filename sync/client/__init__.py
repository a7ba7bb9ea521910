"""The device-side sync client: a SQLite outbox, push with backoff, pull into local tables.

Use it as a library (``SyncClient(Outbox(path), HttpTransport(url))``) or from a field laptop as
``python -m sync.client --db outbox.sqlite enrol|status|push|pull|sync``.
"""

from .agent import Backoff
from .agent import SyncClient
from .outbox import Outbox
from .transports import HttpTransport
from .transports import LocalTransport
from .transports import Response

__all__ = ["Backoff", "HttpTransport", "LocalTransport", "Outbox", "Response", "SyncClient"]
