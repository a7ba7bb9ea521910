"""A real HTTP server on 127.0.0.1 for tests that cross the network: werkzeug, threaded."""

from __future__ import annotations

import threading
from contextlib import contextmanager

from werkzeug.serving import make_server


@contextmanager
def live_server(app, *, wrap=None):
    """Serve ``app`` (optionally wrapped in WSGI middleware) on a free loopback port; yield its URL."""
    server = make_server("127.0.0.1", 0, wrap(app) if wrap else app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(10)
