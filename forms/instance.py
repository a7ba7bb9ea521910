"""ODK instance XML → Ferry answers: what ODK Collect, Enketo and ODK Web Forms submit, read as data.

Public API (stable: the OpenRosa server and the offline web form both call it)::

    read_header(xml: bytes) -> InstanceHeader          # form id, version, instanceID, deprecatedID
    answers_from_instance(form, xml: bytes) -> Instance # the header plus the answer document

The answer document has the shape the sync protocol's operations carry (``ans``; see
``forms.validate``): groups are nested objects, repeats arrays of objects (one per repeat element, in
order), select_multiple and rank arrays of choice names, integers JSON integers, decimals JSON
numbers (an integer when written without a point or exponent), dates, times, datetimes and geopoints
the ODK strings unchanged. An empty element is an unanswered question and is left out, as is a group
with no answer inside; a repeat's entries are all kept, even empty ones (their number is data).
Calculations, ``start`` and ``end`` are kept as the phone computed them (calculations as text).
The ``meta`` block (instanceID, instanceName, deprecatedID) is not an answer: it is carried on the
``Instance``. An element that names no question of the form, a value of the wrong type (``"abc"``
for an integer) or a repeated non-repeat element is kept as read, never dropped, so that answer
validation reports it (``unknown-field``, ``type``) and the submission is quarantined whole.

Parsing uses defusedxml: a DTD, an entity declaration or an external reference is refused
(``instance-invalid``) before anything is read, so billion-laughs and XXE payloads do no work.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from xml.etree.ElementTree import Element
from xml.etree.ElementTree import ParseError

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring

from forms.errors import FormError
from forms.model import Form
from forms.model import Question

#: Largest instance document read (the XML part only; attachments travel separately).
MAX_INSTANCE_BYTES = 5 * 1024 * 1024
#: ODK's limit for meta/instanceID (openrosa-metadata: up to 249 characters).
MAX_ID_CHARS = 249
#: Deepest element nesting read. A form's groups and repeats nest a few levels; the readers below recurse
#: once per level, so a document nested thousands deep must be refused before they run.
MAX_DEPTH = 64

_INTEGER = re.compile(r"^[+-]?\d+$")
_DECIMAL = re.compile(r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$")
_JR_TEMPLATE = "{http://openrosa.org/javarosa}template"
_LISTS = ("select_multiple", "rank")
_DECIMALS = ("decimal", "range")
_META = "meta"


class InstanceInvalid(FormError):
    """The submitted instance XML is not a well-formed, entity-free ODK instance."""

    code = "instance-invalid"


class InstanceFormMismatch(FormError):
    """The instance names another form or form version than the one it is read against."""

    code = "instance-form-mismatch"


@dataclass(frozen=True)
class InstanceHeader:
    """What identifies an instance: its form and version, its instanceID and the one it replaces."""

    form_id: str
    version: str
    instance_id: str
    deprecated_id: str | None = None
    instance_name: str | None = None
    root_name: str = "data"

    @property
    def submission_uuid(self) -> str:
        """The UUID of ``instance_id`` (``uuid:…`` as ODK makes it), else one derived from it (uuid5)."""
        return instance_uuid(self.instance_id)


@dataclass(frozen=True)
class Instance(InstanceHeader):
    """An instance read against its form version: the header plus the answer document."""

    answers: dict | None = None


def instance_uuid(instance_id: str) -> str:
    """The UUID an instanceID names: ``uuid:<uuid>`` gives it; any other id a stable uuid5 of it."""
    text = instance_id[5:] if instance_id.lower().startswith("uuid:") else instance_id
    try:
        return str(uuid.UUID(text))
    except ValueError:
        return str(uuid.uuid5(uuid.NAMESPACE_URL, f"urn:ferry:instance:{instance_id}"))


def _local(tag) -> str:
    return tag.rsplit("}", 1)[-1] if isinstance(tag, str) else ""


def _parse(xml: bytes | str) -> Element:
    if isinstance(xml, str):
        xml = xml.encode("utf-8")
    if not isinstance(xml, (bytes, bytearray)):
        raise InstanceInvalid("the instance must be XML bytes")
    if len(xml) > MAX_INSTANCE_BYTES:
        raise InstanceInvalid(f"the instance XML is over {MAX_INSTANCE_BYTES} bytes",
                              limit=MAX_INSTANCE_BYTES)
    try:
        root = fromstring(bytes(xml), forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except DefusedXmlException as err:
        raise InstanceInvalid(f"the instance XML declares a DTD, an entity or an external reference "
                              f"({type(err).__name__}); these are refused") from None
    except ParseError as err:
        raise InstanceInvalid(f"the instance is not well-formed XML: {err}") from None
    except (ValueError, RecursionError) as err:
        raise InstanceInvalid(f"the instance XML could not be read: {err}") from None
    if _depth(root) > MAX_DEPTH:
        raise InstanceInvalid(f"the instance XML nests elements deeper than {MAX_DEPTH}", limit=MAX_DEPTH)
    return root


def _depth(root: Element) -> int:
    """How deep elements nest under ``root`` (counted without recursion, whatever the depth)."""
    deepest, stack = 0, [(root, 1)]
    while stack:
        element, depth = stack.pop()
        deepest = max(deepest, depth)
        stack.extend((child, depth + 1) for child in element)
    return deepest


def _text(element: Element | None) -> str | None:
    if element is None:
        return None
    text = "".join(element.itertext()).strip()
    return text or None


def _header(root: Element) -> InstanceHeader:
    form_id = root.get("id") or ""
    if not form_id:
        raise InstanceInvalid("the instance's root element has no 'id' attribute (the form id)",
                              errors=[{"pointer": "/@id", "detail": "required"}])
    version = root.get("version") or ""
    meta = next((c for c in root if _local(c.tag) == _META), None)
    fields: dict[str, str | None] = {"instanceID": None, "deprecatedID": None, "instanceName": None}
    if meta is not None:
        for child in meta:
            name = _local(child.tag)
            if name in fields:
                fields[name] = _text(child)
    instance_id = fields["instanceID"]
    if not instance_id:
        raise InstanceInvalid("the instance has no meta/instanceID",
                              errors=[{"pointer": "/meta/instanceID", "detail": "required"}])
    for name in ("instanceID", "deprecatedID"):
        value = fields[name]
        if value is not None and (len(value) > MAX_ID_CHARS or any(c.isspace() for c in value)):
            raise InstanceInvalid(f"meta/{name} must be at most {MAX_ID_CHARS} characters without spaces",
                                  errors=[{"pointer": f"/meta/{name}", "detail": "invalid"}])
    return InstanceHeader(form_id=form_id, version=version, instance_id=instance_id,
                          deprecated_id=fields["deprecatedID"], instance_name=fields["instanceName"],
                          root_name=_local(root.tag))


def read_header(xml: bytes) -> InstanceHeader:
    """Read an instance's form id, version, instanceID and deprecatedID; raise ``InstanceInvalid``."""
    return _header(_parse(xml))


def answers_from_instance(form: Form, xml: bytes) -> Instance:
    """Read an instance of ``form`` into Ferry's answer document (see the module doc for the shape).

    Raises ``InstanceInvalid`` for XML that is malformed, carries a DTD, entities or external
    references, or lacks ``meta/instanceID``; ``InstanceFormMismatch`` when its root names another
    form id or version than ``form``. Answers that do not fit the form are kept for validation.
    """
    root = _parse(xml)
    header = _header(root)
    if header.form_id != form.form_id or header.version != form.version:
        raise InstanceFormMismatch(
            f"the instance is of form {header.form_id!r} version {header.version!r}, "
            f"not {form.form_id!r} version {form.version!r}",
            form_id=header.form_id, version=header.version)
    answers = _container(form.questions, list(root), top=True)
    return Instance(**header.__dict__, answers=answers)


def _container(questions: list[Question], elements: list[Element], *, top: bool = False) -> dict:
    known = {q.name: q for q in questions}
    grouped: dict[str, list[Element]] = {}
    for element in elements:
        name = _local(element.tag)
        if not name or element.get(_JR_TEMPLATE) is not None:
            continue
        if top and name == _META and (name not in known or known[name].type == "group"):
            continue
        grouped.setdefault(name, []).append(element)
    out: dict = {}
    for name, found in grouped.items():
        question = known.get(name)
        if question is not None and question.type == "repeat":
            out[name] = [_container(question.children, list(e)) for e in found]
            continue
        values = [_value(question, e) for e in found]
        if len(values) > 1:
            # Each element appears once in a valid instance; keep them all so validation says why.
            out[name] = values
        elif values[0] is not None and values[0] != {}:
            out[name] = values[0]
    return out


def _value(question: Question | None, element: Element):
    if question is not None and question.type == "group":
        return _container(question.children, list(element))
    if len(element):
        # Structure where a value belongs (or under an unknown name): keep it for validation.
        return _generic(element)
    raw = element.text or ""
    if question is None:
        return raw.strip() or None
    if question.type in ("text", "calculate") or question.type not in _TYPED:
        # Free text keeps its spaces; an all-blank answer is unanswered, as ODK treats it.
        return raw if raw.strip() else None
    text = raw.strip()
    if not text:
        return None
    return _TYPED[question.type](text)


def _generic(element: Element):
    children: dict = {}
    for child in element:
        name = _local(child.tag)
        value = _generic(child) if len(child) else (child.text or "").strip()
        if name in children:
            previous = children[name]
            children[name] = (previous if isinstance(previous, list) else [previous]) + [value]
        else:
            children[name] = value
    return children


def _integer(text: str):
    return int(text) if _INTEGER.match(text) and len(text) <= 20 else text


def _decimal(text: str):
    if _INTEGER.match(text) and len(text) <= 20:
        return int(text)
    if _DECIMAL.match(text):
        number = float(text)
        if number == number and number not in (float("inf"), float("-inf")):
            return number
    return text


def _words(text: str) -> list[str]:
    return text.split()


_TYPED = {
    "integer": _integer,
    "decimal": _decimal,
    "range": _decimal,
    "select_multiple": _words,
    "rank": _words,
    "select_one": str,
    "select_one_external": str,
    "date": str,
    "time": str,
    "datetime": str,
    "start": str,
    "end": str,
    "today": str,
    "geopoint": str,
    "geotrace": str,
    "geoshape": str,
    "acknowledge": str,
    "note": str,
}
