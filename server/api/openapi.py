"""An OpenAPI 3.1 description of the JSON API, generated from the routes and the marshmallow schemas.

Served at ``/api/v1/openapi.json``. Every ``/api/v1`` route is described (summary from the view's
docstring, path parameters, who may call it, the problem answer every endpoint can give); the
operations that parse or dump a marshmallow schema carry it as their request body or answer, through
apispec's marshmallow plugin, so the description cannot drift from the code that validates.
"""

from __future__ import annotations

import re

from apispec import APISpec
from apispec.ext.marshmallow import MarshmallowPlugin
from flask import Blueprint
from flask import current_app

from server.api import schemas
from server.api.access import PUBLIC
from server.api.access import access
from server.api.console import AppUserCreateSchema
from server.api.console import AuditQuerySchema
from server.api.console import ConflictDecisionSchema
from server.api.console import ExportQuerySchema
from server.api.console import ProgressQuerySchema
from server.api.console import SubmissionsQuerySchema
from server.api.devices import DeviceCreateSchema
from server.api.devices import DeviceSchema
from server.api.outreach_plans import ProposeSchema
from server.api.outreach_plans import RowSchema
from server.api.plans import PlanChoicesSchema
from server.api.plans import PlanProposeSchema
from server.api.plans import PlanQuerySchema
from server.api.review import RevalidateSchema
from server.reports.request import ReportArgsSchema

bp = Blueprint("openapi", __name__, url_prefix="/api/v1")

#: endpoint -> (request body schema, answer schema, answer status); ``many`` answers are lists.
SCHEMAS = {
    "tokens.create_token": (schemas.LoginSchema, schemas.TokenSchema, "201"),
    "users.add_user": (schemas.UserCreateSchema, schemas.UserSchema, "201"),
    "forms.get_version": (None, "FormDefinition", "200"),
    "forms.change_state": (schemas.FormStateSchema, schemas.FormVersionSchema, "200"),
    "forms.publish": (None, schemas.FormVersionSchema, "200"),
    "places.list_places": (None, schemas.UnitListSchema, "200"),
    "assignments.replace_assignments": (schemas.AssignmentsPutSchema, None, "200"),
    "blobs.create_blob": (schemas.BlobCreateSchema, schemas.BlobSchema, "201"),
    "devices.create": (DeviceCreateSchema, None, "201"),
    "review.revalidate": (RevalidateSchema, None, "200"),
    "console_api.create_app_user": (AppUserCreateSchema, None, "201"),
    "console_api.decide_conflict": (ConflictDecisionSchema, None, "200"),
    "plans.propose": (PlanProposeSchema, None, "201"),
    "plans.edit": (PlanChoicesSchema, None, "200"),
    "outreach_plans.propose": (ProposeSchema, None, "201"),
    "outreach_plans.add_row": (RowSchema, None, "201"),
    "outreach_plans.change_row": (RowSchema, None, "200"),
    "outreach_plans.delete_row": (None, None, "204"),
}
#: endpoint -> (the key of the list in the answer, the schema of each item)
LISTS = {
    "users.list_users": ("users", schemas.UserSchema),
    "forms.list_forms": ("versions", schemas.FormVersionSchema),
    "devices.list_devices": ("devices", DeviceSchema),
    "assignments.list_assignments": ("assignments", schemas.AssignmentSchema),
}
#: query parameters parsed by a schema (described so that a client, and schemathesis, can send them)
_REPORT_QUERY = ReportArgsSchema(exclude=("min_cell",))  # the threshold comes from the reader's role
QUERIES = {
    "assignments.list_assignments": schemas.AssignmentsQuerySchema,
    "console_api.progress": ProgressQuerySchema, "console_api.submissions": SubmissionsQuerySchema,
    "console_api.export": ExportQuerySchema, "console_api.audit": AuditQuerySchema,
    "plans.list_plans": PlanQuerySchema,
    **{f"reports.{name}": _REPORT_QUERY for name in (
        "indicators", "groups", "change", "priorities", "small_areas", "channels", "yearly",
        "gap_report_html", "gap_report_json", "gap_report_xlsx", "gap_report_csv")},
}

#: A form version as Ferry JSON (``forms.Form.to_json``): what devices and the web form render and check.
FORM_DEFINITION = {
    "type": "object",
    "required": ["form_id", "version", "title", "languages", "questions", "choices", "content_hash"],
    "properties": {
        "format": {"type": "string"}, "form_id": {"type": "string"}, "version": {"type": "string"},
        "title": {"type": "string"}, "languages": {"type": "array", "items": {"type": "string"}},
        "default_language": {"type": "string"}, "root_name": {"type": "string"},
        "attachments": {"type": "array", "items": {"type": "string"}},
        "questions": {"type": "array", "items": {"type": "object"}},
        "choices": {"type": "object"}, "xform": {"type": "string"},
        "warnings": {"type": "array"}, "content_hash": {"type": "string"}, "scoring": {"type": "array"},
    },
}
PROBLEM = {
    "type": "object", "required": ["type", "title", "status", "detail", "code", "errors"],
    "properties": {
        "type": {"type": "string"}, "title": {"type": "string"}, "status": {"type": "integer"},
        "detail": {"type": "string"}, "instance": {"type": "string"}, "code": {"type": "string"},
        "errors": {"type": "array", "items": {"type": "object", "required": ["pointer", "detail"],
                                              "properties": {"pointer": {"type": "string"},
                                                             "detail": {"type": "string"}}}},
    },
}
_PARAM = re.compile(r"<(?:[^:<>]+:)?([^<>]+)>")


def _summary(view) -> str:
    return (view.__doc__ or "").strip().splitlines()[0] if view.__doc__ else ""


def _operation(endpoint: str, view) -> dict:
    problem = {"$ref": "#/components/schemas/Problem"}
    operation = {"operationId": endpoint, "summary": _summary(view), "tags": [endpoint.split(".")[0]],
                 "responses": {"default": {"description": "A problem (RFC 9457)",
                                           "content": {"application/problem+json": {"schema": problem}}}}}
    if PUBLIC not in getattr(view, "access", {PUBLIC}):
        operation["security"] = [{"bearer": []}]
    body, answer, status = SCHEMAS.get(endpoint, (None, None, "200"))
    if body is not None:
        operation["requestBody"] = {"required": True,
                                    "content": {"application/json": {"schema": body}}}
    if answer is not None:
        schema = {"$ref": f"#/components/schemas/{answer}"} if isinstance(answer, str) else answer
        operation["responses"][status] = {"description": "OK",
                                          "content": {"application/json": {"schema": schema}}}
    elif endpoint in LISTS:
        key, item = LISTS[endpoint]
        listing = {"type": "object", "properties": {key: {"type": "array", "items": item}}}
        operation["responses"]["200"] = {"description": "OK",
                                         "content": {"application/json": {"schema": listing}}}
    else:
        operation["responses"][status] = {"description": "OK"}
    if endpoint in QUERIES:
        operation["parameters"] = [{"in": "query", "schema": QUERIES[endpoint]}]
    return operation


def build(app) -> dict:
    """Return the OpenAPI description of ``app``'s JSON API as a dict."""
    spec = APISpec(title="Ferry API", version="1", openapi_version="3.1.0", plugins=[MarshmallowPlugin()],
                   info={"description": "Offline-first field survey sync and reporting (docs/protocol.md)."})
    spec.components.schema("Problem", PROBLEM)
    spec.components.schema("FormDefinition", FORM_DEFINITION)
    spec.components.security_scheme("bearer", {"type": "http", "scheme": "bearer"})
    paths: dict[str, dict] = {}
    parameters: dict[str, list] = {}
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        if not rule.rule.startswith("/api/v1/"):
            continue
        path = _PARAM.sub(r"{\1}", rule.rule)
        view = app.view_functions[rule.endpoint]
        # HEAD is described only where it is its own view (the upload offset of a blob)
        methods = rule.methods - {"OPTIONS"} - ({"HEAD"} if "GET" in rule.methods else set())
        for method in sorted(methods):
            paths.setdefault(path, {})[method.lower()] = _operation(rule.endpoint, view)
        parameters[path] = [{"in": "path", "name": name, "required": True, "schema": {"type": "string"}}
                            for name in _PARAM.findall(rule.rule)]
    for path, operations in paths.items():
        spec.path(path=path, operations=operations, parameters=parameters[path] or None)
    return spec.to_dict()


@bp.get("/openapi.json")
@access(PUBLIC)
def openapi():
    """The OpenAPI 3.1 description of this API."""
    cached = current_app.extensions.get("ferry_openapi")
    if cached is None:
        cached = current_app.extensions["ferry_openapi"] = build(current_app)
    return cached
