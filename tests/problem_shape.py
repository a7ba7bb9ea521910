"""The one check every error response must pass (RFC 9457 problem details, Ferry's fields)."""

PROBLEM_KEYS = {"type", "title", "status", "detail", "instance", "code", "errors"}


def assert_problem(response, status: int, code: str | None = None) -> dict:
    """Assert ``response`` is ``application/problem+json`` with Ferry's shape; return the body."""
    assert response.status_code == status, (response.status_code, response.get_data(as_text=True))
    assert response.mimetype == "application/problem+json", response.mimetype
    body = response.get_json()
    assert PROBLEM_KEYS <= set(body), set(body)
    assert body["status"] == status
    assert isinstance(body["title"], str) and body["title"]
    assert isinstance(body["detail"], str) and body["detail"]
    assert body["type"].endswith("/problems/" + body["code"])
    assert isinstance(body["errors"], list)
    for error in body["errors"]:
        assert set(error) >= {"pointer", "detail"}
        # RFC 6901: "" is the whole document, anything deeper starts with "/".
        assert error["pointer"] == "" or error["pointer"].startswith("/"), error
    if code is not None:
        assert body["code"] == code, body
    return body
