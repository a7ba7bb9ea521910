"""A stand-in for ODK Collect on the wire: the requests it makes, with its headers and multipart layout.

Modelled on Collect's ``OkHttpConnection`` and ``OpenRosaServerInstanceUploader``: every request
carries ``X-OpenRosa-Version: 1.0``, a ``Date`` in Collect's own format and Collect's user agent;
a submission starts with ``HEAD <server>/submission?deviceID=…`` (which must answer 204 and says
how many bytes one POST may carry), then POSTs ``multipart/form-data`` with ``xml_submission_file``
first (``text/xml``), then the files, each part named by the file's basename (OkHttp writes a
``Content-Length`` per part). When the next file would take a POST over the advertised size, or
past 100 files, Collect ends that POST with the form field ``*isIncomplete*=yes`` and sends the
XML again with the remaining files in the next one. It marks the form sent only on 201 or 202.
"""

from __future__ import annotations

import datetime as dt
import gzip
import http.client
import mimetypes
import uuid
from dataclasses import dataclass
from dataclasses import field
from urllib.parse import urlsplit

USER_AGENT = "org.odk.collect.android/v2024.3.1 okhttp/4.12.0 Dalvik/2.1.0 (Linux; U; Android 13)"
DEFAULT_ACCEPT = 10_000_000  # Collect's default when HEAD does not say
MAX_FILES_PER_POST = 100


@dataclass
class Answer:
    """One HTTP answer as Collect sees it."""

    status: int
    headers: dict[str, str]
    body: bytes

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", "replace")


@dataclass
class Collect:
    """One phone: its server URL (an app user's), its deviceID, and what it sent."""

    server_url: str
    device_id: str = field(default_factory=lambda: "collect:" + uuid.uuid4().hex[:16])
    log: list[tuple[str, str, int, int]] = field(default_factory=list)  # method, path, status, bytes
    timeout: float = 60.0  # seconds to wait for an answer, as Collect's own socket timeout

    def _headers(self) -> dict[str, str]:
        # Collect formats Date with "E, dd MMM yyyy hh:mm:ss zz": 12-hour clock, not quite RFC 1123.
        date = dt.datetime.now(dt.UTC).strftime("%a, %d %b %Y %I:%M:%S GMT")
        return {"X-OpenRosa-Version": "1.0", "Date": date, "User-Agent": USER_AGENT,
                "Accept-Encoding": "gzip"}

    def request(self, method: str, url: str, body: bytes | None = None, headers: dict | None = None,
                *, chunked: bool = False) -> Answer:
        """Send one request; ``chunked`` sends the body with Transfer-Encoding: chunked."""
        parts = urlsplit(url)
        conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=self.timeout)
        path = parts.path + (f"?{parts.query}" if parts.query else "")
        all_headers = {**self._headers(), **(headers or {})}
        try:
            if chunked:
                conn.putrequest(method, path)
                for name, value in all_headers.items():
                    conn.putheader(name, value)
                conn.putheader("Transfer-Encoding", "chunked")
                conn.endheaders()
                for start in range(0, len(body or b""), 8192):
                    piece = body[start:start + 8192]
                    conn.send(f"{len(piece):x}\r\n".encode() + piece + b"\r\n")
                conn.send(b"0\r\n\r\n")
            else:
                conn.request(method, path, body=body, headers=all_headers)
            response = conn.getresponse()
            wire = response.read()
            headers = {k.lower(): v for k, v in response.getheaders()}
        finally:
            conn.close()
        # OkHttp asks for gzip and unpacks it transparently; the log counts the bytes on the wire.
        data = gzip.decompress(wire) if headers.get("content-encoding") == "gzip" else wire
        answer = Answer(response.status, headers, data)
        sent = len(body or b"") + len(method) + len(path) + 12 + sum(
            len(k) + len(v) + 4 for k, v in all_headers.items())
        received = len(wire) + 17 + sum(len(k) + len(v) + 4 for k, v in headers.items())
        self.log.append((method, parts.path, answer.status, sent + received))
        return answer

    def get(self, url: str) -> Answer:
        """GET an absolute URL (formList, a downloadUrl, a manifestUrl...)."""
        return self.request("GET", url)

    def form_list(self, query: str = "") -> Answer:
        """``GET {server}/formList``."""
        return self.get(f"{self.server_url}/formList{query}")

    def head_submission(self) -> Answer:
        """``HEAD {server}/submission?deviceID=…`` (Collect's preflight)."""
        return self.request("HEAD", self._submission_url())

    def _submission_url(self) -> str:
        return f"{self.server_url}/submission?deviceID={self.device_id}"

    def post(self, xml: bytes, files: list[tuple[str, bytes]] = (), *, incomplete: bool = False,
             instance_name: str = "instance.xml", chunked: bool = False) -> Answer:
        """One submission POST in Collect's multipart layout."""
        body, content_type = multipart(xml, files, incomplete=incomplete, instance_name=instance_name)
        return self.request("POST", self._submission_url(), body, {"Content-Type": content_type},
                            chunked=chunked)

    def send(self, xml: bytes, files: list[tuple[str, bytes]] = (), *, instance_name: str = "instance.xml"
             ) -> list[Answer]:
        """Send one finished form as Collect does: HEAD, then as many POSTs as the size limit needs."""
        head = self.head_submission()
        if head.status != 204:
            return [head]
        limit = int(head.headers.get("x-openrosa-accept-content-length") or DEFAULT_ACCEPT)
        answers = []
        for batch, last in batches(xml, files, limit):
            answer = self.post(xml, batch, incomplete=not last, instance_name=instance_name)
            answers.append(answer)
            if answer.status not in (201, 202):
                break
        return answers


def batches(xml: bytes, files: list[tuple[str, bytes]], limit: int):
    """Split files as Collect does: a POST holds the XML and files up to ``limit`` bytes or 100 files."""
    files = list(files)
    if not files:
        yield [], True
        return
    start = 0
    while start < len(files):
        size = len(xml)
        end = start
        while end < len(files):
            if end > start and (end - start >= MAX_FILES_PER_POST or size + len(files[end][1]) > limit):
                break
            size += len(files[end][1])
            end += 1
        yield files[start:end], end == len(files)
        start = end


def multipart(xml: bytes, files: list[tuple[str, bytes]], *, incomplete: bool = False,
              instance_name: str = "instance.xml") -> tuple[bytes, str]:
    """The multipart body OkHttp builds for Collect, and its Content-Type."""
    boundary = str(uuid.uuid4())
    out = bytearray()

    def part(disposition: str, content_type: str | None, data: bytes) -> None:
        out.extend(f"--{boundary}\r\nContent-Disposition: {disposition}\r\n".encode())
        if content_type:
            out.extend(f"Content-Type: {content_type}\r\n".encode())
        out.extend(f"Content-Length: {len(data)}\r\n\r\n".encode())
        out.extend(data + b"\r\n")

    part(f'form-data; name="xml_submission_file"; filename="{instance_name}"', "text/xml", xml)
    for name, data in files:
        kind = mimetypes.guess_type(name)[0] or "application/octet-stream"
        part(f'form-data; name="{name}"; filename="{name}"', kind, data)
    if incomplete:
        part('form-data; name="*isIncomplete*"', None, b"yes")
    out.extend(f"--{boundary}--\r\n".encode())
    return bytes(out), f"multipart/form-data; boundary={boundary}"
