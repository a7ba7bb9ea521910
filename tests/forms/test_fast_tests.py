"""The validator's plain-Python predicates (``forms.validate.fast_test``) against elementpath's evaluation.

Every push validates every operation, so the common expression shapes run without elementpath; each
must give exactly the answer XPath gives, for any bound value (lists stand for a repeat's answers).
"""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st

from forms.expressions import compile_expression
from forms.validate import fast_test

SHAPES = [
    "${a} = 'yes'",
    "'yes' != ${a}",
    ". >= 15 and . <= 80",
    "${a} = 'x' or ${b} > 2",
    "not(${a} = 'yes')",
    "not(selected(., 'dont_know') and count-selected(.) > 1)",
    "selected(${a}, .)",
    "selected(., ${a})",
    "selected(${a}, 'b')",
    "not(selected(${a}, 'b'))",
    "count-selected(.) >= 2",
    "3 > count-selected(${a})",
    "count-selected(${a}) = 0",
    "count-selected(${a}) != 1 and selected(${b}, 'x')",
]
#: shapes left to elementpath: a fast predicate for these would have to be proven separately
SLOW = ["selected(${a}, 2)", "count-selected(${a}) > ${b}", "not(string-length(.) > 3)",
        "count-selected(${a}) = 'x'"]

WORDS = st.sampled_from(["", "b", "x", "yes", "dont_know", "a b", "b x", " b ", "dont_know b", "2", "15",
                         "80", "14.5", "1e2", "NaN", "-3", "b  x  yes", "\u00e1 b"])
VALUES = st.one_of(WORDS, st.lists(WORDS, max_size=3))


def _slow(expression, variables, item):
    return expression.test(variables, item)


@pytest.mark.parametrize("source", SHAPES)
@settings(max_examples=150, deadline=None)
@given(a=VALUES, b=VALUES, item=WORDS)
def test_a_fast_predicate_answers_as_xpath_does(source, a, b, item):
    expression = compile_expression(source)
    predicate = fast_test(expression.token)
    assert predicate is not None, f"{source} is meant to have a fast predicate"
    variables = {"a": a, "b": b}
    try:
        expected = _slow(expression, variables, item)
    except (TypeError, ValueError, ArithmeticError) as exc:  # the validator's default applies to both
        with pytest.raises(type(exc)):
            predicate(variables, item)
        return
    assert predicate(variables, item) == expected


@pytest.mark.parametrize("source", SLOW)
def test_other_shapes_are_left_to_elementpath(source):
    assert fast_test(compile_expression(source).token) is None
