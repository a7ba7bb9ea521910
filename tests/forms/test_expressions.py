"""The XPath engine: ODK functions on elementpath, JavaRosa comparisons, compile-once."""

from __future__ import annotations

import datetime as dt

import pytest
from elementpath import XPath1Parser

from forms.errors import ExpressionInvalid
from forms.expressions import FUNCTIONS
from forms.expressions import compile_expression
from forms.expressions import references
from forms.expressions import to_xpath
from forms.expressions import variables_read

VARS = {"a": "a b c", "n": "7", "empty": "", "d": "2020-07-30", "name": "Lan", "r": ["1", "2"]}


@pytest.mark.parametrize("source, expected", [
    ("selected(${a}, 'b')", True),
    ("selected(${a}, 'z')", False),
    ("count-selected(${a})", 3.0),
    ("selected-at(${a}, 1)", "b"),
    ("if(${n} > 5, 'big', 'small')", "big"),
    ("coalesce(${empty}, 'fallback')", "fallback"),
    ("coalesce(${name}, 'fallback')", "Lan"),
    ("regex(${name}, '^[A-Z][a-z]+$')", True),
    ("regex(${name}, '^[0-9]+$')", False),
    ("string-length(${name})", 3),
    ("concat(${name}, '-', ${n})", "Lan-7"),
    ("int(7.9)", 7.0),
    ("boolean-from-string('true')", True),
    ("ends-with(${name}, 'an')", True),
    ("pow(2, 10)", 1024.0),
    ("max(1, ${n}, 3)", 7.0),
    ("min(4, ${n})", 4.0),
    ("abs(-2)", 2.0),
    ("substr(${name}, 1)", "an"),
    ("join('+', ${r})", "1+2"),
    ("count(${r})", 2),
    ("sum(${r})", 3.0),
    ("${n} = 7", True),
    ("${n} = '7'", True),
    ("${n} != 8", True),
    ("${empty} > 3", False),
    ("${empty} < 3", False),
    ("${d} < '2021-01-01'", True),
    ("${d} <= today()", True),
    ("date(0)", "1970-01-01"),
    ("not(${empty})", True),
    ("once(${name})", "Lan"),
    ("sqrt(16)", 4.0),
])
def test_functions_and_comparisons(source, expected):
    assert compile_expression(source).evaluate(VARS) == expected


def test_today_is_the_server_date():
    assert compile_expression("today()").evaluate({}) == dt.date.today().isoformat()


def test_context_item_is_the_answer():
    expression = compile_expression(". >= 15 and . <= 80")
    assert expression.test({}, item="20") and not expression.test({}, item="90")
    assert not expression.test({}, item="")


def test_references_and_translation():
    assert references("${a} + ${ b }") == ["a", " b "]
    assert to_xpath("${a} + ${ b }") == "$a + $b"


def test_syntax_error_raises():
    with pytest.raises(ExpressionInvalid) as err:
        compile_expression("${a} = = 1", where="sheet 'survey', row 4")
    assert err.value.code == "expression-invalid" and "row 4" in err.value.detail


@pytest.mark.parametrize("source", [
    "pulldata('f', 'c', 'k', ${a})", "jr:choice-name(${a}, '${a}')",
    "instance('x')/root/item[name = ${a}]/label", "indexed-repeat(${a}, ${r}, 1)",
])
def test_what_the_server_cannot_run_is_marked_unsupported(source):
    expression = compile_expression(source)
    assert not expression.supported and expression.reason


def test_odk_functions_do_not_leak_into_plain_xpath():
    assert set(FUNCTIONS) >= {"selected", "count-selected", "if", "regex", "today", "coalesce"}
    with pytest.raises(Exception, match="XPST0017"):
        XPath1Parser().parse("selected('a', 'a')")
    with pytest.raises(Exception, match="FORG0001"):
        XPath1Parser().parse("'' < 3")  # plain elementpath keeps its strict semantics


def test_expressions_are_compiled_once_per_form_version(monkeypatch):
    from forms import library

    form = library.load("awareness")
    compiled = form.compiled
    calls = []
    import forms.validate as module

    monkeypatch.setattr(module, "compile_expression",
                        lambda *a, **k: calls.append(a) or compile_expression(*a, **k))
    form.validate({"round": "2017", "consent": "no"})
    form.validate({"round": "2018", "consent": "no"})
    assert calls == [] and form.compiled is compiled


# Found by the ODK parity tests (tests/odk/test_parity.py) on the WHO verbal autopsy form,
# whose ageInDays is ${Id10023} - ${Id10021}: ODK's number() reads an ISO date as days since
# 1970-01-01 in arithmetic too, not only in comparisons.
@pytest.mark.parametrize("source, expected", [
    ("${d} - '2020-07-20'", 10.0),
    ("${d} + 1", 18474.0),
    ("${n} * 2", 14.0),
    ("${n} div 2", 3.5),
    ("${n} mod 4", 3.0),
    ("${empty} - ${empty}", "nan"),
    ("${name} + 1", "nan"),
    ("-${n}", -7.0),
])
def test_arithmetic_converts_operands_as_odk_number(source, expected):
    value = compile_expression(source).evaluate(VARS)
    assert (str(value) if expected == "nan" else value) == expected


# Found by the ODK parity tests on ona_ethiopia_food_security_monitoring: pyxform's or_other
# writes relevant="selected(../q, 'other')", a path relative to the question.
def test_sibling_written_as_relative_path_reads_the_sibling():
    assert to_xpath("selected(../e5othS, 'other')") == "selected($e5othS, 'other')"
    assert compile_expression("selected(../q, 'other')").test({"q": "a other"}) is True
    assert to_xpath("../../q = ../g/q") == "../../q = ../g/q"  # not a sibling: left alone


def test_the_variables_an_expression_reads_are_named_as_the_compiler_reads_them():
    assert variables_read("${a} > 1 and selected(../q, 'other')") == {"a", "q"}
    assert variables_read("${ spaced } = 'x'") == {"spaced"}
    assert variables_read(". < 10") == set() and variables_read("") == set()
