"""The device-side sync client: a SQLite outbox, push with backoff, pull into local tables.

Use it as a library (``SyncClient(Outbox(path), HttpTransport(url))``) or from a field laptop as
``python -m sync.client --db outbox.sqlite enrol|status|push|pull|sync``.
"""

from sync.client.agent import Backoff
from sync.client.agent import SyncClient
from sync.client.outbox import Outbox
from sync.client.transports import HttpTransport
from sync.client.transports import LocalTransport
from sync.client.transports import Response

__all__ = ["Backoff", "HttpTransport", "LocalTransport", "Outbox", "Response", "SyncClient"]
