"""Transport schemas: what the JSON API accepts and returns."""

from __future__ import annotations

from marshmallow import Schema
from marshmallow import fields
from marshmallow import validate

from server.models import FORM_STATES
from server.models import ROLES


class LoginSchema(Schema):
    username = fields.String(required=True, validate=validate.Length(min=1, max=80))
    password = fields.String(required=True, load_only=True, validate=validate.Length(min=1, max=1024))


class UserCreateSchema(Schema):
    username = fields.String(required=True, validate=validate.Regexp(
        r"^[a-z0-9][a-z0-9._-]{2,79}$", error="3–80 lower-case letters, digits, '.', '_' or '-'."))
    password = fields.String(required=True, load_only=True, validate=validate.Length(min=10, max=1024))
    role = fields.String(required=True, validate=validate.OneOf(ROLES))


class UserSchema(Schema):
    id = fields.Integer()
    username = fields.String()
    role = fields.String()
    active = fields.Boolean()
    created_at = fields.DateTime()


class TokenSchema(Schema):
    token = fields.String()
    token_type = fields.Constant("Bearer")
    expires_at = fields.DateTime()
    user = fields.Nested(UserSchema)


class CommuneSchema(Schema):
    key = fields.String()
    code = fields.String(allow_none=True)
    name = fields.String()
    kind = fields.String()
    population = fields.Integer(attribute="population_2019")
    urban_population = fields.Integer(attribute="urban_population_2019")
    rural_population = fields.Integer(attribute="rural_population_2019")


class DistrictSchema(Schema):
    code = fields.String()
    name = fields.String()
    kind = fields.String()
    population = fields.Method("_population")
    communes = fields.List(fields.Nested(CommuneSchema))

    def _population(self, district) -> int:
        return sum(c.population_2019 for c in district.communes)


class UnitListSchema(Schema):
    code = fields.String()
    name = fields.String()
    valid_from = fields.String()
    valid_to = fields.String(allow_none=True)
    districts = fields.List(fields.Nested(DistrictSchema))


class FormAttachmentSchema(Schema):
    filename = fields.String()
    sha256 = fields.String()


class FormVersionSchema(Schema):
    form_id = fields.Function(lambda v: v.form.form_id)
    version = fields.String()
    title = fields.Function(lambda v: v.title)
    state = fields.String()
    content_hash = fields.String()
    languages = fields.Function(lambda v: v.definition.get("languages", []))
    attachments = fields.List(fields.Nested(FormAttachmentSchema))
    created_at = fields.DateTime()
    published_at = fields.DateTime(allow_none=True)


class FormStateSchema(Schema):
    state = fields.String(required=True, validate=validate.OneOf(FORM_STATES))


class AssignedCommuneSchema(Schema):
    commune = fields.String(required=True, validate=validate.Length(min=1, max=60))
    quota = fields.Integer(required=True, strict=True, validate=validate.Range(min=1, max=10_000))


#: Rounds are survey years; anything else is refused before it reaches a query (or overflows one).
ROUND_YEARS = validate.Range(min=1900, max=2200)


class AssignmentsPutSchema(Schema):
    round = fields.Integer(required=True, strict=True, validate=ROUND_YEARS)
    communes = fields.List(fields.Nested(AssignedCommuneSchema), required=True,
                           validate=validate.Length(max=500))


class AssignmentsQuerySchema(Schema):
    round = fields.Integer(validate=ROUND_YEARS)


class AssignmentSchema(Schema):
    round = fields.Function(lambda a: a.round.year)
    commune = fields.Function(lambda a: a.commune.key)
    commune_name = fields.Function(lambda a: a.commune.name)
    district = fields.Function(lambda a: a.commune.district.code)
    quota = fields.Integer()


class BlobCreateSchema(Schema):
    sha256 = fields.String(required=True, validate=validate.Regexp(
        r"^[0-9a-f]{64}$", error="64 lower-case hexadecimal digits."))
    size = fields.Integer(required=True, strict=True, validate=validate.Range(min=1, max=(1 << 63) - 1))
    # type/subtype in RFC 6838 characters, parameters (dropped when stored) in printable ASCII: nothing a
    # header or a browser could misread
    content_type = fields.String(required=True, validate=[validate.Length(max=100), validate.Regexp(
        r"^[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,62}/[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,62}(\s*;[ -~]*)?$",
        error="a media type such as image/jpeg.")])


class BlobSchema(Schema):
    sha256 = fields.String()
    size = fields.Integer()
    content_type = fields.String()
    offset = fields.Integer(attribute="received")
    complete = fields.Boolean()
