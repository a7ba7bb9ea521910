"""A real HTTP server on 127.0.0.1 for tests that cross the network: werkzeug, threaded."""

from __future__ import annotations

import threading
from contextlib import contextmanager

from werkzeug.serving import make_server


def closing_body(app):
    """``app`` whose response bodies are closed even when the client resets the connection.

    werkzeug's server drains the socket before it calls the body's ``close()``; when the peer has reset the
    connection (a browser closing a page while its favicon is in flight), the drain raises and ``close()`` is
    skipped, so a static file is left open for the garbage collector: a ResourceWarning that the suite's
    ``filterwarnings = error`` turns into an error in whichever test runs next. The generator closes the body
    when it is exhausted, closed, or collected. (gunicorn, which production runs, closes it itself.)
    """
    def wrapped(environ, start_response):
        body = app(environ, start_response)

        def chunks():
            try:
                yield from body
            finally:
                if hasattr(body, "close"):
                    body.close()
        return chunks()
    return wrapped


@contextmanager
def live_server(app, *, wrap=None):
    """Serve ``app`` (optionally wrapped in WSGI middleware) on a free loopback port; yield its URL."""
    server = make_server("127.0.0.1", 0, closing_body(wrap(app) if wrap else app), threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(10)
