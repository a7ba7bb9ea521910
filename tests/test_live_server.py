"""The tests' own HTTP server leaves nothing open when a client resets a connection mid-response."""

from __future__ import annotations

import gc
import socket
import struct
import time
import warnings
from pathlib import Path

from flask import Flask

from tests.live_server import live_server

STATIC = Path(__file__).resolve().parents[1] / "server" / "static"


def _reset_after_request(port: int, path: str, pause: float) -> None:
    """Send a GET and close with RST (SO_LINGER 0), as a browser closing its page does."""
    with socket.create_connection(("127.0.0.1", port)) as client:
        client.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        client.sendall(f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".encode())
        time.sleep(pause)


def test_a_static_file_is_closed_when_the_client_resets_the_connection():
    app = Flask("static_only", static_folder=str(STATIC))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with live_server(app) as url:
            port = int(url.rsplit(":", 1)[1])
            for attempt in range(60):  # some resets land before the response, some while it drains
                _reset_after_request(port, "/static/favicon.svg", pause=0.001 * (attempt % 3))
            time.sleep(0.5)
        gc.collect()
    unclosed = [str(w.message) for w in caught if issubclass(w.category, ResourceWarning)]
    assert unclosed == []
