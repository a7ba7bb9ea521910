"""Server-side validation of an answer document against one form version.

Answer shape: a JSON object mirroring the form; groups are nested objects, repeats arrays of
objects; select_multiple is an array of choice names; dates ``YYYY-MM-DD``; geopoint the ODK
string ``"lat lon [alt [acc]]"``. A missing key, ``null``, ``""`` or ``[]`` means unanswered.

Issues are values, not exceptions. Codes (stable; each carries a JSON pointer and a message in
every form language):

| code           | meaning                                                                    |
|----------------|----------------------------------------------------------------------------|
| required       | a required, relevant question has no answer                                |
| constraint     | the answer fails the question's constraint (message: constraint_message)   |
| type           | the JSON value has the wrong type for the question (or the document/group) |
| choice         | a select answer names a choice that is not in the question's list          |
| choice-filter  | the choice exists but the choice_filter excludes it (cascading selects)    |
| not-relevant   | an answer is given to a question (or inside a group) that is not relevant  |
| unknown-field  | a key that names no question at that place in the form                     |
| repeat-count   | a repeat has a different number of entries than its repeat_count          |
| not-answerable | a non-empty value is given for a note                                      |
"""

from __future__ import annotations

import functools
import operator
import xml.etree.ElementTree as ET
from dataclasses import dataclass

from elementpath import XPathContext
from elementpath import get_node_tree
from elementpath.exceptions import ElementPathError

from forms.acceptor import acceptor
from forms.expressions import Expression
from forms.expressions import compile_expression
from forms.expressions import to_boolean
from forms.expressions import to_number
from forms.expressions import to_string
from forms.expressions import variables_read
from forms.messages import message
from forms.values import checker
from forms.values import expected
from forms.values import is_empty
from forms.values import xpath_string

_EXPRESSION_COLUMNS = ("relevant", "required", "constraint", "calculation", "choice_filter", "repeat_count",
                       "default")
CODES = ("required", "constraint", "type", "choice", "choice-filter", "not-relevant",
         "unknown-field", "repeat-count", "not-answerable")
_SELECTS = ("select_one", "select_multiple", "select_one_external", "rank")
_NOT_NUMBERS = ("NaN", "inf", "-inf", "Infinity", "-Infinity")
_RUNTIME = (ElementPathError, TypeError, ValueError, ArithmeticError, AttributeError,
            IndexError, KeyError, RecursionError)


@dataclass(frozen=True)
class Issue:
    """One problem in an answer document: ``code``, JSON ``pointer``, ``message`` by language."""

    code: str
    pointer: str
    message: dict[str, str]

    def text(self, language: str | None = None) -> str:
        """The message in ``language`` (default: the first one given)."""
        if language in self.message:
            return self.message[language]
        return next(iter(self.message.values()), self.code)

    def to_json(self) -> dict:
        """JSON-ready dict."""
        return {"code": self.code, "pointer": self.pointer, "message": self.message}

    def __str__(self) -> str:
        return f"{self.pointer or '/'}: {self.code}: {self.text()}"


class Node:
    """A question with its expressions compiled and its checks prepared."""

    __slots__ = ("q", "name", "type", "leaf", "check", "relevant", "required", "required_expr",
                 "constraint", "calc", "filter", "fast_filter", "repeat_count", "choice_names", "choice_list",
                 "choice_filters", "children", "keys", "names", "is_note", "roots", "read")

    def __init__(self, q, compiled: CompiledForm):
        self.q = q
        self.name = q.name
        self.type = q.type
        self.leaf = q.type not in ("group", "repeat")
        self.check = checker(q.type)
        self.is_note = q.type == "note"
        self.relevant = compiled.compile(q, "relevant")
        self.required = q.required == "true()"
        self.required_expr = None if self.required else compiled.compile(q, "required")
        self.constraint = compiled.compile(q, "constraint")
        self.calc = compiled.compile(q, "calculation")
        if (self.calc is not None and q.name not in compiled.referenced and not q.required
                and not q.constraint):
            self.calc = None  # its value would change no issue
        self.filter = compiled.compile(q, "choice_filter")
        self.fast_filter = None if self.filter is None else _fast_filter(self.filter.token)
        self.repeat_count = compiled.compile(q, "repeat_count")
        options = compiled.form.choices.get(q.choices or q.choices_file)
        known = q.type in _SELECTS and options is not None
        self.choice_list = options if known else None
        self.choice_names = frozenset(c.name for c in options) if known else None
        self.choice_filters = {c.name: c.filters for c in options} if known else None
        self.roots: dict | None = None
        self.children = [Node(c, compiled) for c in q.children]
        self.keys = frozenset(c.name for c in self.children)
        self.names = [n.name for n in self.walk()]
        # some expression reads this answer, or one under this group: only those are bound as variables
        self.read = (self.leaf and q.name in compiled.referenced) or any(c.read for c in self.children)

    def walk(self):
        """This node and its descendants."""
        yield self
        for c in self.children:
            yield from c.walk()

    def choice_root(self, name: str):
        """An ``<item>`` node tree for one choice, as choice_filter expressions expect."""
        if self.roots is None:
            self.roots = {}
            for choice in self.choice_list:
                item = ET.Element("item")
                ET.SubElement(item, "name").text = choice.name
                for key, value in choice.filters.items():
                    ET.SubElement(item, key).text = value
                self.roots[choice.name] = get_node_tree(item)
        return self.roots[name]


class _Scope:
    """The answers' variables for one validation, and an XPath context made only if an expression needs
    elementpath (most forms' expressions have plain-Python predicates; making a context reads the clock)."""

    __slots__ = ("variables", "_xpath")

    def __init__(self, variables: dict):
        self.variables = variables
        self._xpath = None

    def evaluate(self, token, item: str):
        """Evaluate a compiled expression with ``.`` bound to ``item``."""
        if self._xpath is None:
            self._xpath = XPathContext(root=None, item="")
        self._xpath.variables = self.variables
        self._xpath.item = item
        return token.evaluate(self._xpath)


class CompiledForm:
    """A form version's expressions, compiled once, and the validator that uses them."""

    def __init__(self, form):
        self.form = form
        self.languages = form.languages
        self.unchecked: list[dict] = []
        self.by_name = {q.name: q for q in form.walk()}
        # id(expression) -> a plain-Python predicate for the common shapes (see fast_test), or None
        self.fast: dict[int, object] = {}
        # Names some expression reads, as the compiler reads them (``${ name }``, ``../name``): a calculation
        # nobody reads, checks or requires is not run, and no other answer is bound as a variable.
        self.referenced = {name for q in form.walk() for column in _EXPRESSION_COLUMNS
                           for name in variables_read(getattr(q, column))}
        self.nodes = [Node(q, self) for q in form.questions]
        self.keys = frozenset(n.name for n in self.nodes)
        self.blank = {name: "" for node in self.nodes for name in node.names if name in self.referenced}

    @functools.cached_property
    def accept(self):
        """The same checks generated as Python for this form, answering "no issues" or "not sure" (or None).

        Made on the first validation, not with the form: a form of 3,000 questions takes ~0.4 s to generate,
        which loading a form for its labels or a report need not pay.
        """
        return acceptor(self, _collect)

    def compile(self, q, column: str) -> Expression | None:
        """Compile one column of a question; record what the server cannot evaluate."""
        source = getattr(q, column)
        if not source:
            return None
        where = f"sheet 'survey', row {q.row} ('{q.name}'), column '{column}'" if q.row else (
            f"question '{q.name}', column '{column}'")
        expression = compile_expression(source, where=where)
        if not expression.supported:
            self.unchecked.append({"name": q.name, "column": column, "reason": expression.reason})
            return None
        self.fast[id(expression)] = fast_test(expression.token)
        return expression

    def validate(self, answers) -> list[Issue]:
        """All issues of an answer document, in document order."""
        if self.accept is not None:
            try:
                if self.accept(answers):
                    return []
            except _RUNTIME:
                pass  # not sure: the walk decides, and names the issues
        return self._walk(answers, None)[0]

    def relevance(self, answers) -> dict[str, bool]:
        """JSON pointer → relevant, for each question the validator reached; see ``check``."""
        return self.check(answers)[1]

    def check(self, answers) -> tuple[list[Issue], dict[str, bool]]:
        """Issues of an answer document and the relevance the validator computed on the way.

        The relevance map has a JSON pointer for every group, repeat and question of the form,
        in document order; questions inside a repeat appear once per entry given
        (``/kids/0/age``). A question is relevant when its own ``relevant`` and those of all its
        ancestors hold (an expression the server cannot evaluate counts as relevant, as in
        validation). Questions under a group or repeat whose value has the wrong JSON type are
        not reached and are absent.
        """
        return self._walk(answers, {})

    def _walk(self, answers, relevance: dict | None) -> tuple[list[Issue], dict[str, bool]]:
        # relevance None: validation only, no map to build (a third of the walk on refusals).
        issues: list[Issue] = []
        if not isinstance(answers, dict):
            issues.append(self.issue("type", "", expected="group"))
            return issues, relevance
        ctx = _Scope(self.bind(answers))
        self._container(self.nodes, self.keys, answers, "", ctx, issues, relevance)
        return issues, relevance if relevance is not None else {}

    def bind(self, answers: dict) -> dict:
        """The XPath variables of a document: every answer some expression reads, as its string."""
        variables = dict(self.blank)
        _collect(self.nodes, answers, variables)
        return variables

    def test(self, expression: Expression, variables: dict, item: str, default: bool) -> bool:
        """An expression's truth, as the walk tests it (``default`` when it cannot be evaluated)."""
        return self._test(expression, _Scope(variables), item, default)

    def issue(self, code: str, pointer: str, custom=None, **values) -> Issue:
        """Build an Issue with its message in the form's languages."""
        return Issue(code, pointer, message(code, self.languages, custom, **values))

    def _test(self, expression: Expression, ctx, item: str, default: bool) -> bool:
        predicate = self.fast[id(expression)]
        if predicate is not None:
            try:
                return predicate(ctx.variables, item)
            except _RUNTIME:
                return default
        try:
            return to_boolean(ctx.evaluate(expression.token, item))
        except _RUNTIME:
            return default

    def _container(self, nodes, keys, container: dict, pointer: str, ctx, issues,
                   relevance: dict) -> None:
        if not keys.issuperset(container):  # one C call for the usual container, whose keys all are known
            for key in container:
                if key not in keys:
                    issues.append(self.issue("unknown-field", f"{pointer}/{_escape(key)}", name=key))
        variables = ctx.variables
        # Every push validates every operation: the common path (a relevant, well-typed answer) builds
        # no pointer and makes no call it can avoid; issues and the relevance map build theirs.
        for node in nodes:
            value = container.get(node.name)
            if node.relevant is not None and not self._test(
                node.relevant, ctx, xpath_string(value) if node.leaf else "", True
            ):
                for name in node.names:
                    variables[name] = ""
                ptr = f"{pointer}/{node.name}"
                self._not_relevant(node, value, ptr, issues)
                if relevance is not None:
                    _irrelevant(node, value, ptr, relevance)
                continue
            ptr = f"{pointer}/{node.name}" if relevance is not None or not node.leaf else None
            if relevance is not None:
                relevance[ptr] = True
            if not node.leaf:
                self._group_or_repeat(node, value, ptr, ctx, issues, relevance)
                continue
            if value is None or value == "" or value == []:  # is_empty, inline
                computed = ""
                if node.calc is not None:
                    try:
                        computed = to_string(ctx.evaluate(node.calc.token, ""))
                    except _RUNTIME:
                        pass
                    if computed in _NOT_NUMBERS:
                        computed = ""  # ODK stores a calculated NaN as blank
                    variables[node.name] = computed
                if computed == "":
                    if node.required or (node.required_expr is not None and self._test(
                            node.required_expr, ctx, "", False)):
                        issues.append(self.issue("required", f"{pointer}/{node.name}",
                                                 node.q.required_message))
                elif node.constraint is not None and not self._test(node.constraint, ctx,
                                                                    computed, True):
                    # A question's constraint holds for a calculated value too.
                    issues.append(self.issue("constraint", f"{pointer}/{node.name}",
                                             node.q.constraint_message))
                continue
            if node.is_note:
                issues.append(self.issue("not-answerable", f"{pointer}/{node.name}"))
                continue
            text = node.check(value)
            if text is None:
                issues.append(self.issue("type", f"{pointer}/{node.name}", expected=expected(node.type)))
                continue
            if node.choice_names is not None and not (
                    node.filter is None and value.__class__ is str and value in node.choice_names
            ) and not self._choices(node, value, text, f"{pointer}/{node.name}", ctx, issues):
                continue
            if node.constraint is not None and not self._test(node.constraint, ctx, text, True):
                issues.append(self.issue("constraint", f"{pointer}/{node.name}",
                                         node.q.constraint_message))

    def _choices(self, node: Node, value, text: str, ptr: str, ctx, issues) -> bool:
        selected = value if isinstance(value, list) else [value]
        ok = True
        for index, name in enumerate(selected):
            where = f"{ptr}/{index}" if isinstance(value, list) else ptr
            if name not in node.choice_names:
                issues.append(self.issue("choice", where, value=name))
                ok = False
            elif node.fast_filter is not None:
                try:
                    allowed = node.fast_filter(node.choice_filters[name], ctx.variables)
                except _RUNTIME:
                    allowed = True
                if not allowed:
                    issues.append(self.issue("choice-filter", where, value=name))
                    ok = False
            elif node.filter is not None:
                choice_ctx = XPathContext(root=node.choice_root(name))
                choice_ctx.variables = ctx.variables
                try:
                    allowed = to_boolean(node.filter.token.evaluate(choice_ctx))
                except _RUNTIME:
                    allowed = True
                if not allowed:
                    issues.append(self.issue("choice-filter", where, value=name))
                    ok = False
        return ok

    def _group_or_repeat(self, node: Node, value, ptr: str, ctx, issues, relevance) -> None:
        if node.type == "group":
            if value is None:
                value = {}
            if not isinstance(value, dict):
                issues.append(self.issue("type", ptr, expected="group"))
                return
            self._container(node.children, node.keys, value, ptr, ctx, issues, relevance)
            return
        if value is None:
            value = []
        if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
            issues.append(self.issue("type", ptr, expected="repeat"))
            return
        if node.repeat_count is not None:
            try:
                wanted = to_number(ctx.evaluate(node.repeat_count.token, ""))
            except _RUNTIME:
                wanted = float("nan")
            if wanted == wanted and wanted >= 0 and int(wanted) != len(value):
                issues.append(self.issue("repeat-count", ptr, expected=str(int(wanted)),
                                         actual=str(len(value))))
        outer = ctx.variables
        inside = [child.name for child in node.walk() if child is not node and child.leaf]
        for index, instance in enumerate(value):
            local = dict(outer)
            # Within an entry, a question reads that entry's answer; unanswered there means blank,
            # not the list of every entry's answers bound outside the repeat.
            for name in inside:
                local[name] = self.blank.get(name, "")
            _collect(node.children, instance, local)
            ctx.variables = local
            self._container(node.children, node.keys, instance, f"{ptr}/{index}", ctx, issues,
                            relevance)
        ctx.variables = outer

    def _not_relevant(self, node: Node, value, ptr: str, issues) -> None:
        if is_empty(value) or value == {}:
            return
        if node.type == "group" and isinstance(value, dict):
            for child in node.children:
                if child.name in value:
                    self._not_relevant(child, value[child.name], f"{ptr}/{child.name}", issues)
            return
        issues.append(self.issue("not-relevant", ptr))


_COMPARE = {"=": operator.eq, "!=": operator.ne, "<": operator.lt, "<=": operator.le, ">": operator.gt,
            ">=": operator.ge}
_MIRROR = {"=": "=", "!=": "!=", "<": ">", "<=": ">=", ">": "<", ">=": "<="}


def _operand(token) -> tuple[str, object] | None:
    if token.symbol == "$" and len(token) == 1:
        return "var", token[0].value
    if token.symbol == ".":
        return "item", None
    if token.symbol == "(string)":
        return "str", token.value
    if token.symbol in ("(integer)", "(decimal)"):
        return "num", float(token.value)
    return None


def _reader(operand: tuple[str, object]):
    """``(variables, item) -> value`` of a variable, ``.`` or a literal operand."""
    kind, value = operand
    if kind == "var":
        return lambda variables, item: variables[value]
    if kind == "item":
        return lambda variables, item: item
    return lambda variables, item: value


def _selected_test(token):
    # selected(a, b) as forms.expressions evaluates it: b's string, stripped, among a's space-separated words
    a, b = _operand(token[0]), _operand(token[1])
    if a is None or b is None or a[0] == "num" or b[0] == "num":
        return None
    values, choice = _reader(a), _reader(b)
    return lambda variables, item: to_string(choice(variables, item)).strip() in to_string(
        values(variables, item)).split()


def _count_selected(token):
    # count-selected(a) compared with a number: how many space-separated words a's string holds
    if getattr(token, "symbol", None) != "count-selected" or len(token) != 1:
        return None
    operand = _operand(token[0])
    if operand is None or operand[0] not in ("var", "item"):
        return None
    values = _reader(operand)
    return lambda variables, item: float(len(to_string(values(variables, item)).split()))


def fast_test(token):
    """A plain-Python predicate ``(variables, item) -> bool`` for the common expression shapes.

    Comparisons of a variable or ``.`` with a literal, ``selected()`` of a variable or ``.`` and a
    literal or ``.``, ``count-selected()`` compared with a number, and ``not``/``and``/``or`` of those
    (most relevants and constraints: ``${consent} = 'yes'``, ``. >= 15 and . <= 80``,
    ``not(selected(., 'dont_know') and count-selected(.) > 1)``), give the same answer as the XPath
    evaluation (``forms.expressions``: strings compared as strings, numbers as numbers, a repeat's list
    of answers compared element by element) at a tenth of its cost. None for any other shape, which
    elementpath evaluates.
    """
    symbol = getattr(token, "symbol", None)
    if symbol in ("and", "or"):
        left, right = fast_test(token[0]), fast_test(token[1])
        if left is None or right is None:
            return None
        if symbol == "and":
            return lambda variables, item: left(variables, item) and right(variables, item)
        return lambda variables, item: left(variables, item) or right(variables, item)
    if symbol == "not" and len(token) == 1:
        inner = fast_test(token[0])
        return None if inner is None else (lambda variables, item: not inner(variables, item))
    if symbol == "selected" and len(token) == 2:
        return _selected_test(token)
    if symbol not in _COMPARE:
        return None
    counted = [_count_selected(token[0]), _count_selected(token[1])]
    if any(counted):
        return _count_test(token, counted)
    a, b = _operand(token[0]), _operand(token[1])
    if a is None or b is None:
        return None
    if a[0] in ("str", "num") and b[0] in ("var", "item"):
        a, b, symbol = b, a, _MIRROR[symbol]
    if a[0] not in ("var", "item") or b[0] not in ("str", "num"):
        return None
    if b[0] == "str" and symbol not in ("=", "!="):
        return None  # ordering strings compares their numbers in XPath
    compare, literal, name = _COMPARE[symbol], b[1], a[1]
    as_number = to_number if b[0] == "num" else str

    def test(variables, item):
        value = item if name is None else variables[name]
        if isinstance(value, list):
            return any(compare(as_number(v), literal) for v in value)
        return compare(as_number(value), literal)

    return test


def _count_test(token, counted):
    # count-selected(a) <op> number (either side): a number compared with a number
    symbol = token.symbol
    if counted[0] is None:
        counted, symbol, other = counted[::-1], _MIRROR[symbol], token[0]
    else:
        other = token[1]
    literal = _operand(other)
    if counted[1] is not None or literal is None or literal[0] != "num":
        return None
    count, compare, number = counted[0], _COMPARE[symbol], literal[1]
    return lambda variables, item: compare(count(variables, item), number)


def _fast_filter(token):
    """``(choice filters, variables) -> bool`` for ``column = ${name}`` choice filters, or None.

    The choice's ``column`` (an ``<item>`` child) compared as a string with the variable, as XPath
    does; a choice without the column matches nothing.
    """
    if getattr(token, "symbol", None) not in ("=", "!="):
        return None
    sides = [token[0], token[1]]
    columns = [t.value for t in sides if t.symbol == "(name)" and len(t) == 0]
    names = [_operand(t)[1] for t in sides if _operand(t) is not None and _operand(t)[0] == "var"]
    if len(columns) != 1 or len(names) != 1:
        return None
    column, name, compare = columns[0], names[0], _COMPARE[token.symbol]

    def test(filters, variables):
        own = filters.get(column)
        if own is None:
            return False
        value = variables[name]
        return any(compare(own, v) for v in value) if isinstance(value, list) else compare(own, value)

    return test


def _irrelevant(node: Node, value, ptr: str, relevance: dict) -> None:
    """Mark a non-relevant question and everything under it (per repeat entry given)."""
    relevance[ptr] = False
    if node.leaf:
        return
    if node.type == "group":
        value = value if isinstance(value, dict) else {}
        for child in node.children:
            _irrelevant(child, value.get(child.name), f"{ptr}/{child.name}", relevance)
        return
    if isinstance(value, list):
        for index, instance in enumerate(value):
            instance = instance if isinstance(instance, dict) else {}
            for child in node.children:
                _irrelevant(child, instance.get(child.name), f"{ptr}/{index}/{child.name}",
                            relevance)


def _collect(nodes, container: dict, variables: dict) -> None:
    """Bind every answer some expression reads as the string its XPath variable holds."""
    for node in nodes:
        if not node.read:
            continue  # no expression reads it (or anything under it): its string would never be looked at
        value = container.get(node.name)
        if node.leaf:
            if value is not None:
                variables[node.name] = value if isinstance(value, str) else xpath_string(value)
        elif node.type == "group":
            if isinstance(value, dict):
                _collect(node.children, value, variables)
        elif isinstance(value, list):
            instances = [v for v in value if isinstance(v, dict)]
            for child in node.walk():
                if child is not node and child.read and child.leaf:
                    variables[child.name] = [
                        xpath_string(i.get(child.name)) for i in instances if child.name in i
                    ]


def _escape(key: str) -> str:
    return str(key).replace("~", "~0").replace("/", "~1")


def flatten(form, answers: dict) -> dict:
    """Question name → answer; questions inside repeats map to a list, one per entry."""
    out: dict = {}

    def visit(questions, container, in_repeat):
        for q in questions:
            value = container.get(q.name) if isinstance(container, dict) else None
            if q.type == "group":
                visit(q.children, value or {}, in_repeat)
            elif q.type == "repeat":
                for instance in value or []:
                    visit(q.children, instance, True)
            elif in_repeat:
                out.setdefault(q.name, []).append(value)
            else:
                out[q.name] = value

    visit(form.questions, answers, False)
    return out
