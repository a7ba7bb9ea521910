"""Turn pyxform's internal form dict into Ferry's model (Form, Question, Choice)."""

from __future__ import annotations

import csv
import io
from typing import Any

from forms.errors import AttachmentInvalid
from forms.model import Choice
from forms.model import Form
from forms.model import Question

MAX_ATTACHMENT_BYTES = 10 * 1024 * 1024

# pyxform's dict spells some types its own way; everything else is kept, spaces → underscores.
TYPES = {
    "select one": "select_one",
    "select all that apply": "select_multiple",
    "select one external": "select_one_external",
    "string": "text",
    "int": "integer",
    "dateTime": "datetime",
    "odk:rank": "rank",
}
_TRUE = {"yes", "true", "true()", "1"}
_FALSE = {"", "no", "false", "false()", "0"}


def build(data: dict, xform: str, warnings: list[str], ferry_rows: dict, ferry_choices: dict,
          rows: dict[str, int], read_attachment) -> Form:
    """Build a Form from pyxform's dict, the XForm and the ferry columns taken out before."""
    choices: dict[str, list[Choice]] = {}
    for list_name, options in (data.get("choices") or {}).items():
        choices[list_name] = [
            _choice(o, ferry_choices.get((list_name, str(o.get("name", ""))), {}))
            for o in options
        ]
    attachments: list[str] = []
    questions = [
        _question(child, ferry_rows, rows, choices, attachments, read_attachment)
        for child in data.get("children", [])
    ]
    languages = _languages(questions, choices)
    default = str(data.get("default_language") or "default")
    if default not in languages:
        default = languages[0] if languages else "default"
    return Form(
        form_id=str(data.get("id_string") or data.get("name") or ""),
        version=str(data.get("version") or ""),
        title=str(data.get("title") or ""),
        languages=languages or ["default"],
        default_language=default,
        questions=questions,
        choices=choices,
        xform=xform,
        root_name=str(data.get("name") or "data"),
        attachments=attachments,
        warnings=list(warnings),
    )


def _text(value: Any) -> dict[str, str]:
    if value is None or value == "":
        return {}
    if isinstance(value, dict):
        return {str(k): str(v) for k, v in value.items() if v not in (None, "")}
    return {"default": str(value)}


def _choice(option: dict, ferry: dict) -> Choice:
    filters = {
        str(k): str(v) for k, v in option.items()
        if k not in ("name", "label", "media", "sms_option") and not isinstance(v, dict)
    }
    return Choice(
        name=str(option.get("name", "")),
        label=_text(option.get("label")),
        filters=filters,
        correct=str(ferry.get("correct", "")).lower() in _TRUE,
    )


def _required(value: Any) -> str:
    text = str(value or "").strip()
    if text.lower() in _FALSE:
        return ""
    if text.lower() in _TRUE:
        return "true()"
    return text


def _question(d: dict, ferry_rows: dict, rows: dict, choices: dict, attachments: list,
              read_attachment) -> Question:
    raw_type = str(d.get("type", ""))
    qtype = TYPES.get(raw_type, raw_type.replace(" ", "_"))
    bind = d.get("bind") or {}
    control = d.get("control") or {}
    name = str(d.get("name", ""))
    itemset = str(d.get("itemset") or "")
    list_name = str(d.get("list_name") or "")
    choices_file = ""
    if itemset and "." in itemset and not list_name:
        choices_file = itemset
        if itemset not in attachments:
            attachments.append(itemset)
        if itemset not in choices and itemset.lower().endswith(".csv"):
            data = read_attachment(itemset)
            if data is not None:
                choices[itemset] = read_choices_csv(itemset, data)
    q = Question(
        name=name,
        type=qtype,
        label=_text(d.get("label")),
        hint=_text(d.get("hint")),
        required=_required(bind.get("required")),
        required_message=_text(bind.get("jr:requiredMsg")),
        relevant=str(bind.get("relevant") or "").strip(),
        constraint=str(bind.get("constraint") or "").strip(),
        constraint_message=_text(bind.get("jr:constraintMsg")),
        calculation=str(bind.get("calculate") or "").strip(),
        read_only=str(bind.get("readonly") or "").strip().lower() in _TRUE,
        default=str(d.get("default") or ""),
        appearance=str(control.get("appearance") or ""),
        choices=list_name or (itemset if not choices_file else ""),
        choices_file=choices_file,
        choice_filter=str(d.get("choice_filter") or "").strip(),
        repeat_count=str(control.get("jr:count") or "").strip(),
        parameters=_parameters(d.get("parameters")),
        ferry=dict(ferry_rows.get(name, {})),
        row=rows.get(name, 0),
    )
    q.children = [
        _question(c, ferry_rows, rows, choices, attachments, read_attachment)
        for c in d.get("children", [])
    ] if qtype in ("group", "repeat") else []
    return q


def _parameters(value: Any) -> dict[str, str]:
    # pyxform leaves the cell as text when it cannot split it into key=value pairs.
    if isinstance(value, dict):
        return {str(k): str(v) for k, v in value.items()}
    return {"": str(value)} if value else {}


def _languages(questions: list[Question], choices: dict[str, list[Choice]]) -> list[str]:
    seen: dict[str, None] = {}
    for q in questions:
        for node in q.walk():
            for text in (node.label, node.hint, node.constraint_message, node.required_message):
                seen.update(dict.fromkeys(text))
    for options in choices.values():
        for c in options[:50]:
            seen.update(dict.fromkeys(c.label))
    languages = list(seen)
    if len(languages) > 1 and "default" in languages:
        languages.remove("default")
    return languages


def read_choices_csv(name: str, data: bytes) -> list[Choice]:
    """Parse a select_*_from_file CSV: ``name``, ``label`` or ``label::lang``, filter columns."""
    if len(data) > MAX_ATTACHMENT_BYTES:
        raise AttachmentInvalid(f"{name} is over {MAX_ATTACHMENT_BYTES} bytes", attachment=name)
    try:
        reader = csv.DictReader(io.StringIO(data.decode("utf-8-sig")))
        rows = list(reader)
    except (UnicodeDecodeError, csv.Error) as err:
        raise AttachmentInvalid(f"{name} is not a UTF-8 CSV: {err}", attachment=name) from None
    if "name" not in (reader.fieldnames or []):
        raise AttachmentInvalid(f"{name} has no 'name' column", attachment=name)
    choices = []
    for row in rows:
        label = {}
        filters = {}
        for key, value in row.items():
            if key is None or key == "name":
                continue
            if key == "label":
                label["default"] = value or ""
            elif key.startswith("label::"):
                label[key[len("label::"):]] = value or ""
            else:
                filters[key] = value or ""
        choices.append(Choice(name=(row["name"] or "").strip(), label=label, filters=filters))
    return choices


