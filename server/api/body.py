"""Reading request bodies."""

from flask import request

from server.problems import ApiError


def json_body() -> dict:
    """Return the request's JSON object; a missing or non-object body is a problem."""
    body = request.get_json()
    if not isinstance(body, dict):
        raise ApiError("validation-failed", "The body must be a JSON object.",
                       errors=[{"pointer": "", "detail": "expected an object"}])
    return body
