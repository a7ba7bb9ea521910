"""A form version's validation of a document with no issues, generated once as Python.

Every push validates every operation, and nearly every document is valid. The walk in
``forms.validate`` interprets the form node by node for each document (an awareness document of 47
questions: 20 µs); this module writes, once per form version, straight-line Python that makes the
same checks in the same order for the questions of that form (8 µs), and answers only "no issues" (True)
or "not sure" (False). ``CompiledForm.validate`` returns no issues on True and walks the document on
False, so the walk alone ever names an issue; the generated code may refuse what the walk would accept
(a repeat with entries, a calculation to run, a choice filter only elementpath evaluates, any
exception), never the reverse. Expressions the plain-Python predicates leave out are evaluated by the
walk's own test. ``tests/forms/test_acceptor.py`` checks that on the built-in forms, the real-world corpus,
and mutated and mangled documents.

No text of the form is written into the source: names, choice lists and predicates are bound as
the generated module's globals (``k0``, ``k1``, …), so a form author's ``'`` or newline is data.
"""

from __future__ import annotations

from collections.abc import Callable

from forms.values import xpath_string

_SELECT_MANY = ("select_multiple", "rank")
# the walk's "unanswered" (None, "" or []); a truthy JSON value is neither, so is not compared with both
_EMPTY = "v is None or not v and (v == '' or v == [])"


class _Source:
    """Lines of the generated module and the objects its names stand for."""

    def __init__(self, compiled):
        self.compiled = compiled
        self.namespace: dict[str, object] = {}
        self._names: dict[int, str] = {}
        self.functions: list[list[str]] = []

    def const(self, value) -> str:
        """The global name standing for ``value`` in the generated code."""
        name = self._names.get(id(value))
        if name is None:
            name = self._names[id(value)] = f"k{len(self._names)}"
            self.namespace[name] = value  # also keeps it alive, so its id is not reused
        return name

    def test(self, expression, item: str, default: bool) -> str:
        """A Python expression of an XPath expression's truth: its plain-Python predicate, or the walk's test
        (elementpath's evaluation, ``default`` when it fails) for the shapes the predicates leave out."""
        fast = self.compiled.fast[id(expression)]
        if fast is not None:
            return f"{self.const(fast)}(variables, {item})"
        return f"{self.const(self.compiled.test)}({self.const(expression)}, variables, {item}, {default})"

    def container(self, nodes, keys) -> str:
        """Generate the function checking one object of answers (the document or a group); its name."""
        name = f"container{len(self.functions)}"
        lines = [f"def {name}(c, variables):"]
        self.functions.append(lines)
        body = [f"if not {self.const(keys)}.issuperset(c): return False"]
        for node in nodes:
            if not self._node(node, body):
                break  # the node always answers "not sure": what follows would never run
        else:
            body.append("return True")
        lines += ["    " + line for line in body]
        return name

    def bind(self, nodes, container: str, out: list[str]) -> None:
        """Bind the answers some expression reads as the walk's ``bind`` does (``forms.validate._collect``),
        straight-line: a group that is no object binds nothing under it, as one that is empty."""
        for node in nodes:
            if not node.read:
                continue
            name = self.const(node.name)
            if node.leaf:
                out += [f"v = {container}.get({name})",
                        f"if v is not None: variables[{name}] = v if v.__class__ is str else xpath_string(v)"]
            elif node.type == "group":
                inner = f"g{len(out)}"
                out += [f"{inner} = {container}.get({name})",
                        f"if not isinstance({inner}, dict): {inner} = {self.const({})}"]
                self.bind(node.children, inner, out)
            else:  # a repeat's answers are lists, one per entry: the walk's own binding
                out.append(f"collect({self.const([node])}, {container}, variables)")

    def _node(self, node, out: list[str]) -> bool:
        """Append one question's checks; False when they end in an unconditional ``return False``."""
        out.append(f"v = c.get({self.const(node.name)})")
        if node.relevant is None:
            return self._relevant_body(node, out)
        item = "v if v.__class__ is str else xpath_string(v)" if node.leaf else "''"
        out.append(f"if not {self.test(node.relevant, item, True)}:")
        # as the walk does: a question not relevant reads as blank to the expressions after it
        for name in node.names:
            if name in self.compiled.referenced:
                out.append(f"    variables[{self.const(name)}] = ''")
        out.append(f"    if not ({_EMPTY} or v == {{}}): return False")
        out.append("else:")
        body: list[str] = []
        self._relevant_body(node, body)
        out += ["    " + line for line in body]
        return True

    def _relevant_body(self, node, out: list[str]) -> bool:
        if node.type == "group":
            inner = self.container(node.children, node.keys)
            out += ["if v is None: v = {}", "elif v.__class__ is not dict: return False",
                    f"if not {inner}(v, variables): return False"]
            return True
        if node.type == "repeat":
            # entries bind their own variables: left to the walk, as is a count to compare
            if node.repeat_count is not None:
                out.append("return False")
                return False
            out.append(f"if not ({_EMPTY}): return False")
            return True
        return self._leaf(node, out)

    def _leaf(self, node, out: list[str]) -> bool:
        unanswered = ["return False"] if node.calc is not None or node.required else []
        if not unanswered and node.required_expr is not None:
            unanswered = [f"if {self.test(node.required_expr, repr(''), False)}: return False"]
        answered = ["return False"] if node.is_note else self._answer(node)
        if not unanswered and answered == ["return False"]:
            out.append(f"if not ({_EMPTY}): return False")
            return True
        if unanswered:
            out.append(f"if {_EMPTY}:")
            out += ["    " + line for line in unanswered]
            out.append("else:")
        else:
            out.append(f"if not ({_EMPTY}):")
        out += ["    " + line for line in answered]
        return True

    def _answer(self, node) -> list[str]:
        """Checks of a given answer: its type, its choices, its constraint (the text ``t`` it reads)."""
        lines: list[str] = []
        many = node.type in _SELECT_MANY
        if node.choice_names is None:
            lines += [f"t = {self.const(node.check)}(v)", "if t is None: return False"]
        elif node.filter is not None and node.fast_filter is None:
            return ["return False"]
        elif many:
            lines += [f"t = {self.const(node.check)}(v)",
                      f"if t is None or not {self.const(node.choice_names)}.issuperset(v): return False"]
        else:
            # a choice name a select_one can carry: what its type check lets through
            names = frozenset(n for n in node.choice_names if n and " " not in n)
            lines.append(f"if v.__class__ is not str or v not in {self.const(names)}: return False")
            if node.constraint is not None:
                lines.append("t = v")
        if node.fast_filter is not None:
            allowed, filters = self.const(node.fast_filter), self.const(node.choice_filters)
            lines.append(f"if not all({allowed}({filters}[x], variables) for x in v): return False" if many
                         else f"if not {allowed}({filters}[v], variables): return False")
        if node.constraint is not None:
            lines.append(f"if not {self.test(node.constraint, 't', True)}: return False")
        return lines


def acceptor(compiled, collect) -> Callable[[dict], bool] | None:
    """``answers -> bool`` for a ``CompiledForm``: True only when its walk would find no issue.

    ``collect(nodes, container, variables)`` is the walk's binding of answers, used for repeats. None when
    the generated code cannot be compiled (a form too large for Python's compiler).
    """
    source = _Source(compiled)
    root = source.container(compiled.nodes, compiled.keys)
    lines = [line for function in source.functions for line in function]
    binding: list[str] = []
    source.bind(compiled.nodes, "answers", binding)
    lines += ["def accept(answers):",
              "    if answers.__class__ is not dict: return False",
              f"    variables = dict({source.const(compiled.blank)})",
              *("    " + line for line in binding),
              f"    return {root}(answers, variables)"]
    namespace = {**source.namespace, "xpath_string": xpath_string, "collect": collect}
    try:
        exec(compile("\n".join(lines), "<generated acceptor>", "exec"), namespace)  # noqa: S102
    except (SyntaxError, RecursionError, MemoryError, ValueError, OverflowError):
        return None
    return namespace["accept"]
