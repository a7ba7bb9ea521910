"""Words a reader sees: no exception text, no "-0", clear changes marked, planners' words, both languages.

Every page, the full report, the 12 November Markdown and the error pages are read in Vietnamese and in
English and scanned for what an exception or a programmer would write.
"""

from __future__ import annotations

import re
from html import unescape

import pytest

from analysis.report_text import NOTES
from analysis.report_text import REASONS
from analysis.yearly_report import render_markdown
from server.extensions import db
from server.reports import service as reports
from server.reports.request import parse
from server.web.i18n import clear_change
from tests.web.conftest import MIN_CELL
from tests.web.test_pages import HTML
from tests.web.test_pages import PAGES

#: What an exception, a stack trace or a raw value looks like in text meant for people.
ERROR_TEXT = [re.compile(p) for p in (
    r"Traceback", r"\b[A-Z]\w+(Error|Exception|Invalid|Missing|Empty)\b",
    r"must be (a|an|one|between|positive)\b",
    r"\bgot\b\s*['\"\d-]", r"cannot make", r"not estimable", r"\bcolumn\b", r"\bNaN\b", r"\bNone\b",
    r"'\w+' must", r"No respondents in round", r"query parameter",
)]
#: A figure that rounds to zero written with a sign ("-0", "-0.0", "−0%").
SIGNED_ZERO = re.compile(r"(?<![\w.,])[-−]0(?:[.,]0+)?(?![\d.,]*\d)")
_TAGS = re.compile(r"<(script|style)\b.*?</\1>|<[^>]+>", re.S)


def visible(html: str) -> str:
    """The text a reader sees (tags, styles and attribute values left out)."""
    return unescape(_TAGS.sub(" ", html))


def assert_reads_well(text: str, where: str, language: str) -> None:
    for pattern in ERROR_TEXT:
        assert not pattern.search(text), (where, language, pattern.pattern, pattern.search(text).group(0))
    match = SIGNED_ZERO.search(text)
    assert not match, (where, language, text[max(0, match.start() - 60):match.end() + 20])
    if language == "vi":  # no English note or reason in a Vietnamese page
        english = [en for _, en in NOTES.values()] + [en for _, en in REASONS.values()]
        for sentence in english:
            head = sentence.split("{")[0].strip()
            assert len(head) < 12 or head not in text, (where, head)


def yearly_markdown(site, language: str) -> str:
    """The 12 November report of the latest round as Markdown, as the API and the CLI write it."""
    with site.app.app_context():
        data = reports.load(db.session, site.app.config["ROUNDS"])
        request = parse(data, {}, min_cell=MIN_CELL, latest=True)
        text = render_markdown(reports.yearly(data, request), language=language)
        db.session.remove()
    return text


def test_the_checks_can_fail():
    with pytest.raises(AssertionError):
        assert_reads_well("Risk model not estimable: 4 communes cannot make 5 folds", "twin", "en")
    with pytest.raises(AssertionError):
        assert_reads_well("Thay đổi -0 điểm", "twin", "vi")
    with pytest.raises(AssertionError):
        assert_reads_well(NOTES["did_failed"][1].format(reason="x"), "twin", "vi")
    assert_reads_well("Thay đổi 0 [−1; +2], 2017-2018, -0.5, +0.3", "twin", "vi")


@pytest.mark.parametrize("role", ["planner", "analyst"])
def test_no_page_or_report_shows_error_text_or_minus_zero(site, as_role, role):
    client = as_role(role)
    for lang in ("vi", "en"):
        for path in (*PAGES, "/reports/full", "/reports/change?from=2018&to=2017"):
            page = client.get(path + ("&" if "?" in path else "?") + f"lang={lang}")
            assert page.status_code == 200, path
            assert_reads_well(visible(page.get_data(as_text=True)), path, lang)
        assert_reads_well(yearly_markdown(site, lang), "yearly.md", lang)
        for bad in ("/reports/groups?round=1999", "/reports/priorities?level=city",
                    "/reports/yearly?round=2016", "/reports/change?from=2018&to=2018"):
            page = client.get(bad + f"&lang={lang}", headers=HTML)
            assert page.status_code in (404, 422), bad
            assert_reads_well(visible(page.get_data(as_text=True)), bad, lang)


def test_error_pages_name_the_choice_in_the_readers_language(as_role):
    client = as_role("planner")
    page = visible(client.get("/reports/groups?round=1999&lang=vi", headers=HTML).get_data(as_text=True))
    assert "Lựa chọn không hợp lệ" in page and re.search(r"Lựa chọn cần sửa\s+Vòng khảo sát", page)
    page = client.get("/reports/change?from=2018&to=2018&lang=en", headers=HTML)
    page = visible(page.get_data(as_text=True))
    assert re.search(r"The choice to fix\s+To round", page) and "must be" not in page


def test_planners_wording_on_the_priorities_and_change_pages(as_role):
    client = as_role("planner")
    vi = client.get("/reports/priorities?lang=vi").get_data(as_text=True)
    en = client.get("/reports/priorities?lang=en").get_data(as_text=True)
    assert "P(top" not in vi + en
    assert "Khả năng thuộc 10 nơi cần nhất" in vi and "Chance of being among the 10 most in need" in en
    # communes without interviews say their figures come from the model alone
    assert '<span class="sub model">model estimate: no interviews here</span>' in en
    assert "ước lượng theo mô hình, không có phỏng vấn ở đây" in vi
    change = client.get("/reports/change?from=2017&to=2018&lang=en").get_data(as_text=True)
    cell = r'<td class="num( clear clear-(up|down))?"(?: data-label="[^"]*")?>(.*?)</td>'
    cells = re.findall(cell, change, re.S)
    assert cells
    for marked, direction, cell in cells:
        interval = re.search(r"\[([^;]+); ([^\]]+)\]", cell)
        if not interval:
            continue
        low, high = (float(x.replace(",", "").replace("+", "")) for x in interval.groups())
        # marked exactly when the interval excludes zero (the interval's ends are rounded to whole points)
        if low > 0 or high < 0:
            assert direction == ("up" if low > 0 else "down"), cell
        elif low < 0 < high:
            assert not marked, cell
    # whether the seeded season's changes are clear depends on its draw and the reports' per-domain intervals:
    # the marking itself is checked on both sides of zero here, independent of the data
    marks = [clear_change(0.01, 0.05), clear_change(-0.05, -0.01), clear_change(-0.01, 0.05)]
    assert marks == ["up", "down", ""]


def test_a_part_cannot_take_a_page_text_name_already_used_for_other_words():
    from server.web import i18n

    before = dict(i18n.TEXT)
    with pytest.raises(ValueError, match="yearly_plan_approved"):
        i18n.add_text({"yearly_plan_approved": ("đã duyệt", "approved"), "a_new_name": ("mới", "new")})
    assert i18n.TEXT == before  # refused whole: nothing merged
    i18n.add_text({"yearly_plan_approved": i18n.TEXT["yearly_plan_approved"]})  # the same words: no clash
    assert i18n.TEXT == before
