"""One report request, parsed and checked once: the API, the pages and the CLI all call :func:`parse`.

The arguments (round, previous, from, to, level, language, indicator) come from a query string or the
CLI's options; the small-cell threshold ``min_cell`` always comes from the caller (the reader's role or
``--min-cell``), never from the query. Every round is checked here, and only here: it must be a survey
round with respondents.

``previous``
    Absent from the arguments, it means "the latest earlier round with respondents". The parsed
    request holds the resolved round, or None when there is none; in a :class:`ReportRequest`, as in
    ``analysis/``, ``previous=None`` means "no comparison".
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from marshmallow import EXCLUDE
from marshmallow import Schema
from marshmallow import ValidationError
from marshmallow import fields
from marshmallow import pre_load
from marshmallow import validate

from analysis.report_estimates import HEADLINE
from server.models.errors import ServerError

LEVELS = ("commune", "district")
#: Indicators with commune small-area estimates (a score in [0, 1] or a 0/1 indicator).
SMALL_AREA_INDICATORS = (*HEADLINE, "at_risk")
_ROUNDS = ("round", "previous", "from", "to")
#: The problem detail of a survey round asked for that has no respondents yet.
NO_RESPONDENTS = "no respondents in this round"


class ReportArgsSchema(Schema):
    """The report arguments a query string or the CLI may carry (others are ignored)."""

    class Meta:
        unknown = EXCLUDE

    round = fields.Integer(load_default=None)
    previous = fields.Integer(load_default=None)
    from_ = fields.Integer(data_key="from", load_default=None)
    to = fields.Integer(load_default=None)
    level = fields.String(load_default="commune", validate=validate.OneOf(
        LEVELS, error="level must be commune or district."))
    language = fields.String(load_default=None)
    indicator = fields.String(load_default="knowledge", validate=validate.OneOf(
        SMALL_AREA_INDICATORS, error=f"indicator must be one of {', '.join(SMALL_AREA_INDICATORS)}."))
    min_cell = fields.Integer(required=True, validate=validate.Range(min=1))

    @pre_load
    def _blank_is_absent(self, data, **kwargs):
        """An empty query value (``?previous=``, a select left blank) is the same as no value."""
        return {k: v for k, v in dict(data).items() if not (k in _ROUNDS and v in ("", None))}


@dataclass(frozen=True)
class ReportRequest:
    """A checked report request. ``rounds``: the survey rounds with respondents, oldest first."""

    rounds: tuple[int, ...]
    min_cell: int
    round: int | None = None
    previous: int | None = None
    a: int | None = None
    b: int | None = None
    level: str = "commune"
    language: str | None = None
    indicator: str = "knowledge"


def rounds_with_data(survey_rounds, respondents) -> tuple[int, ...]:
    """The survey rounds that have respondents, oldest first."""
    present = set(int(r) for r in respondents["round"].unique()) if len(respondents) else set()
    return tuple(r for r in sorted(int(x) for x in survey_rounds) if r in present)


def parse(data, args, *, min_cell: int, required=(), latest: bool = False, languages=None,
          default_language=None) -> ReportRequest:
    """Parse and check report arguments against ``data`` (:class:`server.reports.service.Data`).

    Raises ``ServerError`` ``validation-failed`` (a bad argument, not a survey round) or ``not-found`` (a
    survey round without respondents).

    ``required``: argument names that must be given (the API's ``round``, ``from``, ``to``).
    ``latest``: the pages' defaults: the latest round with respondents, change to it from the first other.
    ``languages``: the languages this output has (the language is checked only then), with its default.
    """
    for name in required:
        if args.get(name) in (None, ""):
            raise ServerError("validation-failed", f"The query parameter {name!r} is required.",
                              errors=[{"pointer": f"/{name}", "detail": "missing"}])
    try:
        values = ReportArgsSchema().load({**dict(args.items()), "min_cell": min_cell})
    except ValidationError as exc:
        name, messages = next(iter(exc.normalized_messages().items()))
        detail = messages[0] if isinstance(messages, list) else str(messages)
        said = detail if name in ("level", "indicator") else f"{name}: {detail}"
        pointer = [{"pointer": f"/{name}", "detail": detail}]
        raise ServerError("validation-failed", said, errors=pointer) from exc
    language = values["language"] or default_language
    if languages is not None and language not in languages:
        said = ", ".join(languages[:-1]) + " or " + languages[-1]
        raise ServerError("validation-failed", f"language must be {said}.",
                          errors=[{"pointer": "/language", "detail": f"unknown: {language}"}])

    survey = sorted(int(r) for r in data.rounds)
    present = rounds_with_data(survey, data.respondents)

    def check(value, name):
        if value is None:
            return None
        if value not in survey:
            raise ServerError("validation-failed", f"{name} must be one of the survey rounds {survey}.",
                              errors=[{"pointer": f"/{name}", "detail": f"not a survey round: {value}"}])
        if value not in present:
            raise ServerError("not-found", f"No respondents in round {value}.",
                              errors=[{"pointer": f"/{name}", "detail": NO_RESPONDENTS}])
        return value

    round_, b, a = values["round"], values["to"], values["from_"]
    if latest and present:
        round_ = present[-1] if round_ is None else round_
        b = present[-1] if b is None else b
    round_, b, a = check(round_, "round"), check(b, "to"), check(a, "from")
    if latest and present and a is None:
        a = next((r for r in present if r != b), None)
    if a is not None and a == b:
        raise ServerError("validation-failed", "from and to must be different rounds.",
                          errors=[{"pointer": "/to", "detail": "same as from"}])
    previous = check(values["previous"], "previous")
    if round_ is not None:
        if previous is None:  # not given: the latest earlier round with respondents, if any
            previous = next((r for r in reversed(present) if r < round_), None)
        if previous is not None and previous >= round_:
            raise ServerError("validation-failed", "previous must be an earlier round than round.",
                              errors=[{"pointer": "/previous", "detail": f"not before {round_}: {previous}"}])
    return ReportRequest(rounds=present, min_cell=values["min_cell"], round=round_, previous=previous, a=a,
                         b=b, level=values["level"], language=language, indicator=values["indicator"])


def wants_codes(args) -> bool:
    """Whether a download asks for the analysts' tables (``codes=1``: codes and full-precision figures)
    rather than the tables as the page shows them."""
    return args.get("codes") in ("1", "true")


def document_date(value) -> dt.date:
    """The date a document bears: ``value`` (YYYY-MM-DD) or today when absent; ``validation-failed`` else."""
    if value in (None, ""):
        return dt.date.today()
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError:
        raise ServerError("validation-failed", "date must be a day written YYYY-MM-DD.",
                          errors=[{"pointer": "/date", "detail": f"not a date: {value}"}]) from None
