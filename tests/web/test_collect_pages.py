"""How /collect/ is served (no browser): the shell, its assets gzipped and cached for good, the service
worker's scope, the manifest, a clear 503 when the app is not built, and the enrolment QR code."""

from __future__ import annotations

import gzip
import json
import re
from urllib.parse import urljoin

import pytest

from server.collect.views import BUILD
from tests.problem_shape import assert_problem


def fetch(client, path: str, **kwargs):
    """GET ``path``, read the body and close the file the answer streams from."""
    response = client.get(path, **kwargs)
    response.get_data()
    response.close()
    return response


built = pytest.mark.skipif(not (BUILD / "index.html").is_file(),
                           reason="the web form is not built (make collect: npm ci and vite build)")


@built
def test_shell_is_revalidated_and_loads_nothing_from_other_sites(client):
    page = fetch(client, "/collect/")
    assert page.status_code == 200 and page.mimetype == "text/html"
    assert page.headers["Cache-Control"] == "no-cache"
    csp = page.headers["Content-Security-Policy"]
    assert "default-src 'self'" in csp and "connect-src 'self'" in csp and "frame-ancestors 'none'" in csp
    html = page.get_data(as_text=True)
    assert 'rel="manifest" href="/collect/manifest.webmanifest"' in html
    sources = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert sources and all(s.startswith("/collect/") for s in sources), sources


@built
def test_assets_are_sent_gzipped_and_cached_for_good(client):
    html = fetch(client, "/collect/").get_data(as_text=True)
    script = re.search(r'src="(/collect/assets/[^"]+\.js)"', html).group(1)
    packed = fetch(client, script, headers={"Accept-Encoding": "gzip, deflate"})
    assert packed.status_code == 200 and packed.headers["Content-Encoding"] == "gzip"
    assert packed.mimetype == "text/javascript"
    assert packed.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    assert packed.headers["Vary"] == "Accept-Encoding"
    plain = fetch(client, script)
    assert "Content-Encoding" not in plain.headers
    assert gzip.decompress(packed.get_data()) == plain.get_data()
    assert len(packed.get_data()) < len(plain.get_data()) / 2


@built
def test_service_worker_and_manifest(client):
    worker = fetch(client, "/collect/sw.js")
    assert worker.status_code == 200 and worker.headers["Cache-Control"] == "no-cache"
    assert worker.headers["Service-Worker-Allowed"] == "/collect/"
    shell = json.loads(re.search(r"const SHELL = (\[.*?\]);", worker.get_data(as_text=True)).group(1))
    for path in shell:
        assert fetch(client, urljoin("/collect/", path)).status_code == 200, path  # each precached file
    manifest = fetch(client, "/collect/manifest.webmanifest")
    assert manifest.mimetype == "application/manifest+json"
    body = json.loads(manifest.get_data())
    assert body["start_url"] == "/collect/" and body["display"] == "standalone" and body["lang"] == "vi"


@built
@pytest.mark.parametrize("path", ["/collect/assets/nope.js", "/collect/assets/../index.html",
                                  "/collect/assets/%2e%2e/%2e%2e/views.py"])
def test_unknown_files_are_404_problems(client, path):
    assert_problem(fetch(client, path), 404, "not-found")


def test_a_missing_build_says_how_to_build_it(app, tmp_path):
    app.config["COLLECT_BUILD"] = str(tmp_path / "nothing-here")
    response = fetch(app.test_client(), "/collect/")
    assert_problem(response, 503, "service-unavailable")
    assert "make collect" in response.get_json()["detail"]


def test_enroll_device_writes_the_link_as_a_qr_png(app, runner, accounts, tmp_path):
    import segno
    from PIL import Image

    username, _, _ = accounts.user("enumerator")
    png = tmp_path / "code.png"
    result = runner.invoke(args=["enroll-device", username, "--qr", str(png), "--url", "https://ferry.example.org/"])
    assert result.exit_code == 0, result.output
    code = re.search(r"shown once\): (\S+)", result.output).group(1)
    link = f"https://ferry.example.org/collect/#code={code}"
    assert f"Web form link: {link}" in result.output
    image = Image.open(png).convert("L")
    matrix = segno.make(link, error="m", boost_error=False).matrix
    modules = len(matrix)
    assert image.size == ((modules + 8) * 8,) * 2  # 8 px per module and a quiet zone of 4 modules
    read = [[image.getpixel(((x + 4) * 8 + 4, (y + 4) * 8 + 4)) < 128 for x in range(modules)]
            for y in range(modules)]
    assert read == [[bool(cell) for cell in row] for row in matrix]
