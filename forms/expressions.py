"""XLSForm expressions: ``${name}`` references to XPath variables, parsed once by elementpath.

The engine is elementpath's XPath 1.0 parser (ODK forms are XPath 1.0) extended with the ODK
functions our forms and common XLSForms use. Comparisons follow JavaRosa, not strict XPath:
``'' > 3`` is false instead of an error, and ISO dates compare as dates.

Forms are written by people and answers come from devices, so nothing here may take unbounded time:
``regex()`` runs on RE2 (linear time, no backtracking: XPath regexes have no back-references
either), and every evaluation inside ``time_budget`` checks a deadline, raising
``ValidationBudgetExceeded`` past it.
"""

from __future__ import annotations

import datetime as _dt
import functools
import math
import re
import time
import uuid
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

import re2
from elementpath import XPath1Parser
from elementpath import XPathContext
from elementpath.exceptions import ElementPathError

from forms.errors import ExpressionInvalid
from forms.errors import ValidationBudgetExceeded

_REF = re.compile(r"\$\{([^}]*)\}")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}")
_EPOCH = _dt.date(1970, 1, 1)
_DEADLINE: ContextVar[tuple[float, float] | None] = ContextVar("ferry_expression_deadline", default=None)


class time_budget:  # noqa: N801 - used as a function: ``with time_budget(2.0):``
    """Bound every evaluation in the block to ``seconds`` in all: past it, ``ValidationBudgetExceeded``.

    A class, not a ``contextmanager`` generator: every pushed submission enters one, and entering and leaving
    took 1.02 µs through the generator against 0.56 µs here (its validation: ~8 µs).
    """

    __slots__ = ("_seconds", "_token")

    def __init__(self, seconds: float):
        self._seconds = seconds

    def __enter__(self) -> None:
        self._token = _DEADLINE.set((time.monotonic() + self._seconds, self._seconds))

    def __exit__(self, *exc_info) -> None:
        _DEADLINE.reset(self._token)


def _check_budget() -> None:
    budget = _DEADLINE.get()
    if budget is not None and time.monotonic() > budget[0]:
        raise ValidationBudgetExceeded(
            f"The form's expressions took more than {budget[1]:g} s on these answers.", budget_s=budget[1])


class ODKParser(XPath1Parser):
    """XPath 1.0 with the ODK XForms function library (the subset the server evaluates)."""

    symbol_table = dict(XPath1Parser.symbol_table)


def _first(value: Any) -> Any:
    # A variable bound to a repeat's answers is a list; ODK reads the first node's value.
    if isinstance(value, list):
        return value[0] if value else ""
    return value


def to_string(value: Any) -> str:
    """XPath string value of an evaluated result, as JavaRosa renders it."""
    if value.__class__ is str:  # most values: an answer's string, the checks below took ~0.15 µs to let it by
        return value
    value = _first(value)
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        if math.isnan(value):
            return "NaN"
        if value.is_integer():
            return str(int(value))
    if hasattr(value, "string_value"):
        return value.string_value
    if hasattr(value, "text") and not isinstance(value, str):
        return value.text or ""
    return str(value)


def to_number(value: Any) -> float:
    """XPath number value; ISO dates become days since 1970 as in JavaRosa."""
    value = _first(value)
    if isinstance(value, bool):
        return 1.0 if value else 0.0
    if isinstance(value, (int, float)):
        return float(value)
    text = (value if value.__class__ is str else to_string(value)).strip()
    try:
        return float(text)
    except ValueError:
        pass
    if _DATE.match(text):
        try:
            return float((_dt.date.fromisoformat(text[:10]) - _EPOCH).days)
        except ValueError:
            return math.nan
    return math.nan


def to_boolean(value: Any) -> bool:
    """XPath boolean value (a non-empty string or list is true)."""
    if isinstance(value, list):
        return bool(value)
    if isinstance(value, bool):
        return value
    if isinstance(value, (int, float)):
        return value != 0 and not math.isnan(value)
    return bool(to_string(value))


def _operands(token, context) -> tuple[list, list]:
    left = token[0].evaluate(context)
    right = token[1].evaluate(context)
    left = left if isinstance(left, list) else [left]
    return left, (right if isinstance(right, list) else [right])


def _compare(symbol: str, a: Any, b: Any) -> bool:
    if isinstance(a, bool) or isinstance(b, bool):
        x, y = to_boolean(a), to_boolean(b)
    elif symbol in ("=", "!=") and not (isinstance(a, (int, float)) or isinstance(b, (int, float))):
        x, y = to_string(a), to_string(b)
    else:
        x, y = to_number(a), to_number(b)
    if symbol == "=":
        return x == y
    if symbol == "!=":
        return x != y
    if symbol == "<":
        return x < y
    if symbol == "<=":
        return x <= y
    if symbol == ">":
        return x > y
    return x >= y


def _comparison(self, context=None):
    left, right = _operands(self, context)
    return any(_compare(self.symbol, a, b) for a in left for b in right)


# Subclass the shared token classes so XPath1Parser itself keeps standard semantics.
for _symbol in ("=", "!=", "<", "<=", ">", ">="):
    _base = XPath1Parser.symbol_table[_symbol]
    ODKParser.symbol_table[_symbol] = type(_base)(
        _base.__name__ + "ODK", (_base,), {"evaluate": _comparison}
    )


def _divide(x: float, y: float) -> float:
    if y == 0:
        return math.nan if x == 0 or math.isnan(x) else math.copysign(math.inf, x) * (
            math.copysign(1, y))
    return x / y


def _modulo(x: float, y: float) -> float:
    return math.nan if y == 0 or math.isinf(x) else math.fmod(x, y)


_ARITHMETIC = {"+": lambda x, y: x + y, "-": lambda x, y: x - y, "*": lambda x, y: x * y,
               "div": _divide, "mod": _modulo}


def _arithmetic(base):
    def evaluate(self, context=None):
        if len(self) != 2:  # unary minus, or * as a name test
            return base.evaluate(self, context)
        x = to_number(self[0].evaluate(context))
        y = to_number(self[1].evaluate(context))
        try:
            return float(_ARITHMETIC[self.symbol](x, y))
        except OverflowError:
            return math.nan
    return evaluate


# XPath 1.0 arithmetic converts both operands with number(); ODK's number() reads an ISO date
# as days since 1970-01-01, so ${death} - ${birth} is an age in days (elementpath refuses it).
for _symbol in _ARITHMETIC:
    _base = XPath1Parser.symbol_table[_symbol]
    ODKParser.symbol_table[_symbol] = type(_base)(
        _base.__name__ + "ODK", (_base,), {"evaluate": _arithmetic(_base)}
    )


def _sum(self, context=None):
    values = self[0].evaluate(context)
    numbers = [to_number(v) for v in (values if isinstance(values, list) else [values])]
    return float(sum(numbers))


# ODK sums answers stored as strings; XPath 2-style fn:sum refuses strings.
_base = XPath1Parser.symbol_table["sum"]
ODKParser.symbol_table["sum"] = type(_base)(_base.__name__ + "ODK", (_base,), {"evaluate": _sum})


def _function(name: str, nargs):
    token_class = ODKParser.function(name, nargs=nargs)

    def bind(fn):
        def evaluate(self, context=None):
            _check_budget()
            return fn(*[self[i].evaluate(context) for i in range(len(self))])

        token_class.evaluate = evaluate
        return fn

    return bind


@_function("selected", (2, 2))
def _selected(values, choice):
    return to_string(choice).strip() in to_string(values).split()


@_function("count-selected", (1, 1))
def _count_selected(values):
    return float(len(to_string(values).split()))


@_function("selected-at", (2, 2))
def _selected_at(values, index):
    items = to_string(values).split()
    i = to_number(index)
    return items[int(i)] if not math.isnan(i) and 0 <= int(i) < len(items) else ""


@_function("if", (3, 3))
def _if(condition, then, otherwise):
    return then if to_boolean(condition) else otherwise


@_function("coalesce", (2, 2))
def _coalesce(a, b):
    return a if to_string(a) != "" else b


_RE2_OPTIONS = re2.Options()
_RE2_OPTIONS.log_errors = False  # a bad pattern is a False constraint, not a line on stderr
_RE2_OPTIONS.max_mem = 8 << 20  # the DFA of one pattern never takes more than this


@functools.lru_cache(maxsize=256)
def _pattern(source: str):
    try:
        return re2.compile(source, _RE2_OPTIONS)
    except re2.error:
        return None


@_function("regex", (2, 2))
def _regex(value, pattern):
    # RE2: linear in the answer's length, whatever the pattern (``(a+)+$`` took 9 s per answer on re).
    compiled = _pattern(to_string(pattern))
    return compiled is not None and compiled.search(to_string(value)) is not None


@_function("today", (0, 0))
def _today():
    return _dt.date.today().isoformat()


@_function("now", (0, 0))
def _now():
    return _dt.datetime.now(_dt.UTC).isoformat(timespec="milliseconds")


@_function("int", (1, 1))
def _int(value):
    n = to_number(value)
    return n if math.isnan(n) or math.isinf(n) else float(math.trunc(n))


@_function("boolean-from-string", (1, 1))
def _boolean_from_string(value):
    return to_string(value) in ("true", "1")


@_function("ends-with", (2, 2))
def _ends_with(value, suffix):
    return to_string(value).endswith(to_string(suffix))


@_function("pow", (2, 2))
def _pow(base, exponent):
    try:
        return float(to_number(base) ** to_number(exponent))
    except (OverflowError, ZeroDivisionError):
        return math.nan


@_function("abs", (1, 1))
def _abs(value):
    return abs(to_number(value))


def _numbers(args):
    values = []
    for arg in args:
        values.extend(arg if isinstance(arg, list) else [arg])
    return [to_number(v) for v in values]


@_function("max", (1, None))
def _max(*args):
    numbers = _numbers(args)
    return max(numbers) if numbers and not any(math.isnan(n) for n in numbers) else math.nan


@_function("min", (1, None))
def _min(*args):
    numbers = _numbers(args)
    return min(numbers) if numbers and not any(math.isnan(n) for n in numbers) else math.nan


@_function("once", (1, 1))
def _once(value):
    return value


@_function("date", (1, 1))
def _date(value):
    n = to_number(value)
    if math.isnan(n):
        return ""
    return (_EPOCH + _dt.timedelta(days=int(n))).isoformat()


@_function("decimal-date-time", (1, 1))
def _decimal_date_time(value):
    return to_number(value)


@_function("substr", (2, 3))
def _substr(value, start, end=None):
    text = to_string(value)
    stop = len(text) if end is None else int(to_number(end))
    return text[int(to_number(start)):stop]


@_function("join", (2, None))
def _join(separator, *args):
    values = []
    for arg in args:
        values.extend(arg if isinstance(arg, list) else [arg])
    return to_string(separator).join(to_string(v) for v in values)


@_function("uuid", (0, 1))
def _uuid(*_):
    return "uuid:" + str(uuid.uuid4())


def _math(name: str, fn, nargs=1):
    def apply(*args):
        try:
            return float(fn(*[to_number(a) for a in args]))
        except (ValueError, OverflowError, ZeroDivisionError):
            return math.nan

    _function(name, (nargs, nargs))(apply)


for _name, _fn in (("sqrt", math.sqrt), ("exp", math.exp), ("log", math.log),
                   ("log10", math.log10), ("sin", math.sin), ("cos", math.cos),
                   ("tan", math.tan), ("asin", math.asin), ("acos", math.acos),
                   ("atan", math.atan), ("exp10", lambda x: 10.0**x)):
    _math(_name, _fn)
_math("atan2", math.atan2, 2)
_math("pi", lambda: math.pi, 0)

FUNCTIONS = (
    "selected count-selected selected-at if coalesce regex today now int boolean-from-string "
    "ends-with pow abs max min once date decimal-date-time substr join uuid sqrt exp log log10 "
    "sin cos tan asin acos atan atan2 exp10 pi"
).split()
"""ODK functions added to XPath 1.0's own (concat, string-length, contains, count, sum, ...)."""


def references(source: str) -> list[str]:
    """Names referenced as ``${name}`` in an XLSForm expression, in order."""
    return _REF.findall(source or "")


def variables_read(source: str) -> set[str]:
    """Names of the answers an expression reads: its ``$name`` variables once ``to_xpath`` has rewritten
    ``${name}`` and ``../name`` (a literal holding ``$`` adds a name more, never one less)."""
    return set(_VARIABLE.findall(to_xpath(source))) if source else set()


_VARIABLE = re.compile(r"\$([A-Za-z_][\w.-]*)")
_SIBLING = re.compile(r"(?<![\w.$/-])\.\./([A-Za-z_][\w.-]*)(?![\w.-]*\s*[/(\[])")


def to_xpath(source: str) -> str:
    """Rewrite ``${name}`` as the XPath variable ``$name``.

    A sibling written as a relative path, ``../name`` (pyxform's ``or_other`` writes
    ``selected(../q, 'other')``), names the question ``name`` of the same group: it becomes
    ``$name`` too, since the server binds each question's value to its name.
    """
    source = _REF.sub(lambda m: "$" + m.group(1).strip(), source)
    return _SIBLING.sub(lambda m: "$" + m.group(1), source)


_PARSER = ODKParser()
_UNSUPPORTED = ("XPST0017", "XPST0081", "XPST0008")


@dataclass(frozen=True)
class Expression:
    """One compiled XLSForm expression; ``supported`` is False if the server cannot run it."""

    source: str
    token: Any = None
    supported: bool = True
    reason: str = ""

    def evaluate(self, variables: dict, item: Any = None, root: Any = None) -> Any:
        """Evaluate with ``$name`` bound from ``variables`` and ``.`` bound to ``item``."""
        _check_budget()
        if root is not None:
            context = XPathContext(root=root, variables=variables)
        else:
            item = "" if item is None else item
            context = XPathContext(root=None, item=item, variables=variables)
        return self.token.evaluate(context)

    def test(self, variables: dict, item: Any = None, root: Any = None) -> bool:
        """Evaluate as a boolean (relevant, constraint, required, choice_filter)."""
        return to_boolean(self.evaluate(variables, item, root))


def compile_expression(source: str, *, where: str = "") -> Expression:
    """Compile once: a syntax error raises ExpressionInvalid; an unknown function is unsupported."""
    xpath = to_xpath(source)
    try:
        token = _PARSER.parse(xpath)
    except ElementPathError as err:
        code = str(getattr(err, "code", "") or "")
        if any(c in code for c in _UNSUPPORTED) or "jr:" in xpath or "instance(" in xpath:
            return Expression(source, None, False, str(err))
        raise ExpressionInvalid(
            f"{where}: the expression {source!r} is not valid XPath: {err}".lstrip(": "),
            expression=source,
            where=where,
        ) from None
    except (TypeError, ValueError, KeyError, IndexError, RecursionError) as err:
        raise ExpressionInvalid(
            f"{where}: the expression {source!r} could not be parsed: {err}".lstrip(": "),
            expression=source,
            where=where,
        ) from None
    return Expression(source, token, True, "")
