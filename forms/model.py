"""Ferry's form model: plain dataclasses that serialise to JSON for devices and the web form."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from dataclasses import field
from dataclasses import fields
from functools import cached_property
from typing import Any

from forms.errors import FormJSONInvalid
from forms.scoring import ScoringItem
from forms.scoring import score
from forms.scoring import scoring_items
from forms.validate import CompiledForm
from forms.validate import flatten

FORMAT = "ferry-form/1"

CONTAINERS = ("group", "repeat")


@dataclass
class Choice:
    """One option of a choice list; ``filters`` holds the extra columns choice_filter reads."""

    name: str
    label: dict[str, str] = field(default_factory=dict)
    filters: dict[str, str] = field(default_factory=dict)
    correct: bool = False

    def to_json(self) -> dict:
        """Serialise to a JSON-ready dict, omitting empty fields."""
        out: dict[str, Any] = {"name": self.name, "label": self.label}
        if self.filters:
            out["filters"] = self.filters
        if self.correct:
            out["correct"] = True
        return out

    @classmethod
    def from_json(cls, data: dict) -> Choice:
        """Rebuild from ``to_json`` output."""
        return cls(
            name=data["name"],
            label=dict(data.get("label") or {}),
            filters=dict(data.get("filters") or {}),
            correct=bool(data.get("correct", False)),
        )


@dataclass
class Question:
    """A survey row: a question, a note, a calculate, or a group/repeat holding ``children``.

    ``type`` is normalised (``select_one``, ``select_multiple``, ``integer``, ``group``, ...);
    expressions keep their XLSForm spelling (``${name}``); ``required`` is ``""`` (optional),
    ``"true()"`` or an expression. ``ferry`` holds the ``ferry::*`` columns (domain, score,
    correct).
    """

    name: str
    type: str
    label: dict[str, str] = field(default_factory=dict)
    hint: dict[str, str] = field(default_factory=dict)
    required: str = ""
    required_message: dict[str, str] = field(default_factory=dict)
    relevant: str = ""
    constraint: str = ""
    constraint_message: dict[str, str] = field(default_factory=dict)
    calculation: str = ""
    read_only: bool = False
    default: str = ""
    appearance: str = ""
    choices: str = ""
    choices_file: str = ""
    choice_filter: str = ""
    repeat_count: str = ""
    parameters: dict[str, Any] = field(default_factory=dict)
    ferry: dict[str, str] = field(default_factory=dict)
    row: int = 0
    children: list[Question] = field(default_factory=list)

    def to_json(self) -> dict:
        """Serialise to a JSON-ready dict, omitting fields at their defaults."""
        out: dict[str, Any] = {}
        for f in fields(self):
            value = getattr(self, f.name)
            if f.name == "children":
                if self.type in CONTAINERS:
                    out["children"] = [c.to_json() for c in value]
            elif f.name in ("name", "type") or value not in ("", {}, [], False, 0):
                out[f.name] = value
        return out

    @classmethod
    def from_json(cls, data: dict) -> Question:
        """Rebuild from ``to_json`` output."""
        known = {f.name for f in fields(cls)}
        unknown = set(data) - known
        if unknown:
            raise FormJSONInvalid(f"unknown question fields {sorted(unknown)}")
        kwargs = {k: v for k, v in data.items() if k != "children"}
        kwargs["children"] = [cls.from_json(c) for c in data.get("children", [])]
        return cls(**kwargs)

    def walk(self):
        """Yield this question and every descendant, in document order."""
        yield self
        for child in self.children:
            yield from child.walk()


@dataclass(eq=False, frozen=True)
class Form:
    """One form version: model, choice lists, XForm, and the checks compiled from them.

    Frozen because a published version never changes; ``content_hash`` is computed once.
    """

    form_id: str
    version: str
    title: str
    languages: list[str]
    default_language: str
    questions: list[Question]
    choices: dict[str, list[Choice]]
    xform: str
    root_name: str = "data"
    attachments: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @cached_property
    def content_hash(self) -> str:
        """sha256 over the canonical JSON of the model and its XForm."""
        body = self._body()
        text = json.dumps(body, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(text.encode("utf-8")).hexdigest()

    def _body(self) -> dict:
        return {
            "format": FORMAT,
            "form_id": self.form_id,
            "version": self.version,
            "title": self.title,
            "languages": self.languages,
            "default_language": self.default_language,
            "root_name": self.root_name,
            "attachments": self.attachments,
            "questions": [q.to_json() for q in self.questions],
            "choices": {k: [c.to_json() for c in v] for k, v in self.choices.items()},
            "xform": self.xform,
            "warnings": self.warnings,
        }

    def to_json(self) -> dict:
        """The JSON document devices receive (also carries ``content_hash`` and ``scoring``)."""
        body = self._body()
        body["content_hash"] = self.content_hash
        body["scoring"] = [s.to_json() for s in self.scoring]
        return body

    @classmethod
    def from_json(cls, data: dict | str | bytes) -> Form:
        """Rebuild a form (and recompile its expressions) from ``to_json`` output."""
        try:
            if isinstance(data, (str, bytes)):
                data = json.loads(data)
            if not isinstance(data, dict) or data.get("format") != FORMAT:
                raise FormJSONInvalid(f"not a {FORMAT} document")
            form = cls(
                form_id=data["form_id"],
                version=data["version"],
                title=data["title"],
                languages=list(data["languages"]),
                default_language=data["default_language"],
                questions=[Question.from_json(q) for q in data["questions"]],
                choices={
                    k: [Choice.from_json(c) for c in v] for k, v in data["choices"].items()
                },
                xform=data["xform"],
                root_name=data.get("root_name", "data"),
                attachments=list(data.get("attachments", [])),
                warnings=list(data.get("warnings", [])),
            )
        except FormJSONInvalid:
            raise
        except (KeyError, TypeError, ValueError, AttributeError) as err:
            raise FormJSONInvalid(f"not a serialised form: {err!r}") from None
        claimed = data.get("content_hash")
        if claimed is not None and claimed != form.content_hash:
            raise FormJSONInvalid("content_hash does not match the content")
        form.compiled  # noqa: B018 - compile now so a bad document fails here, not mid-sync
        return form

    @cached_property
    def compiled(self):
        """The expressions of this version, compiled once."""
        return CompiledForm(self)

    @cached_property
    def scoring(self) -> list[ScoringItem]:
        """The scoring keys declared by ``ferry::domain`` / ``ferry::score`` columns."""
        return scoring_items(self)

    def validate(self, answers: Any) -> list:
        """Check an answer document; returns a list of ``Issue`` (empty when valid)."""
        return self.compiled.validate(answers)

    def relevance(self, answers: Any) -> dict[str, bool]:
        """JSON pointer → relevant for every group, repeat and question, as validation sees it.

        Computed by the same walk and compiled expressions as ``validate``; questions inside a
        repeat appear once per entry given (``/kids/0/age``). See ``CompiledForm.check``.
        """
        return self.compiled.relevance(answers)

    def check(self, answers: Any) -> tuple[list, dict[str, bool]]:
        """``(validate(answers), relevance(answers))`` from one walk."""
        return self.compiled.check(answers)

    def flatten(self, answers: dict) -> dict:
        """Question name → value (repeats: name → list of values), for the analysis."""
        return flatten(self, answers)

    def score(self, answers: dict, flat: dict | None = None) -> dict:
        """Item name → points for every scoring item (None when unanswered).

        ``flat``: ``flatten(answers)`` when the caller has it already (ingestion does; it saves a walk).
        """
        return score(self, answers, flat)

    def walk(self):
        """Every question in document order, containers included."""
        for q in self.questions:
            yield from q.walk()

    def question(self, name: str) -> Question:
        """The question with that name (KeyError if none)."""
        return self.compiled.by_name[name]

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Form) and self.content_hash == other.content_hash

    def __hash__(self) -> int:
        return hash(self.content_hash)
