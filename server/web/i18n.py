"""The pages' two languages, Vietnamese (the default) and English: all page text, and number formats.

The language comes from ``?lang=vi|en`` (remembered in a cookie), else the cookie, else Vietnamese.
Labels of indicators, groups, channels and activity types come from where they are defined
(``analysis.yearly_report``, ``analysis/groups.json``, the built-in forms), not from here.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache

from flask import g
from flask import request

from analysis.groups import group_labels
from analysis.labels import INDICATORS
from analysis.report_plans import ROLES as PLAN_ROLES
from analysis.report_plans import TEXT as PLAN_TEXT
from forms import library

LANGUAGES = ("vi", "en")
DEFAULT = "vi"
COOKIE = "ferry_lang"

#: key -> (Vietnamese, English). Placeholders are filled with str.format.
TEXT: dict[str, tuple[str, str]] = {
    "app": ("Ferry – Báo cáo", "Ferry – Reports"),
    "skip": ("Bỏ qua, tới nội dung", "Skip to content"),
    "nav": ("Các báo cáo", "Reports"),
    "overview": ("Tổng quan", "Overview"),
    "districts": ("Theo quận/huyện", "By district"),
    "groups": ("Nhóm đối tượng", "Target groups"),
    "change": ("Thay đổi", "Change"),
    "priorities": ("Ưu tiên", "Priorities"),
    "channels": ("Kênh truyền thông", "Channels"),
    "yearly": ("Báo cáo 12/11", "12 November report"),
    "full": ("Báo cáo đầy đủ", "Full report"),
    "language": ("Ngôn ngữ", "Language"),
    "lang_vi": ("Tiếng Việt", "Tiếng Việt"),
    "lang_en": ("English", "English"),
    "signed_in_as": ("Đăng nhập: {user} ({role})", "Signed in: {user} ({role})"),
    "sign_out": ("Đăng xuất", "Sign out"),
    "sign_in": ("Đăng nhập", "Sign in"),
    "sign_in_title": ("Đăng nhập để xem báo cáo", "Sign in to see the reports"),
    "sign_in_who": ("Báo cáo dành cho cán bộ phân tích và cán bộ kế hoạch.",
                    "The reports are for analysts and planners."),
    "username": ("Tên đăng nhập", "User name"),
    "password": ("Mật khẩu", "Password"),
    "login_failed": ("Sai tên đăng nhập hoặc mật khẩu.", "Wrong user name or password."),
    "login_disabled": ("Tài khoản này đã bị khoá. Hãy liên hệ quản trị viên.",
                       "This account is disabled. Ask an administrator."),
    "login_missing": ("Hãy nhập tên đăng nhập và mật khẩu.", "Enter your user name and password."),
    "signed_out": ("Bạn đã đăng xuất.", "You have signed out."),
    "role_admin": ("quản trị", "administrator"),
    "role_coordinator": ("điều phối", "coordinator"),
    "role_enumerator": ("điều tra viên", "enumerator"),
    "role_analyst": ("phân tích", "analyst"),
    "role_planner": ("kế hoạch", "planner"),
    "round": ("Vòng khảo sát", "Survey round"),
    "all_rounds": ("Tất cả các vòng", "All rounds"),
    "from_round": ("Từ vòng", "From round"),
    "to_round": ("Đến vòng", "To round"),
    "previous_round": ("So với vòng", "Compared with round"),
    "level": ("Cấp", "Level"),
    "level_commune": ("Xã/phường/thị trấn", "Communes"),
    "level_district": ("Quận/huyện", "Districts"),
    "show": ("Xem", "Show"),
    "download": ("Tải về", "Download"),
    "codes": ("mã và số liệu đầy đủ, để phân tích", "codes and full figures, for analysis"),
    "download_table": ("Tải bảng «{table}»:", "Download the table “{table}”:"),
    "no_data": ("Chưa có dữ liệu khảo sát nào trên máy chủ.", "There is no survey data on the server yet."),
    "rounds_without_data": ("Chưa có dữ liệu khảo sát cho vòng {rounds}; các trang hiển thị vòng mới nhất có "
                            "dữ liệu.",
                            "No survey data yet for round {rounds}; the pages show the latest round "
                            "with data."),
    "no_change_round": ("Chỉ có một vòng khảo sát có dữ liệu, nên chưa tính được thay đổi.",
                        "Only one survey round has data, so there is no change to show yet."),
    "no_outreach_year": ("Chưa ghi nhận hoạt động truyền thông nào trong năm {year}.",
                         "No outreach activity was recorded in {year}."),
    "city": ("Cần Thơ (toàn thành phố)", "Cần Thơ (whole city)"),
    "district": ("Quận/huyện", "District"),
    "commune": ("Xã/phường/thị trấn", "Commune"),
    "indicator": ("Chỉ số", "Indicator"),
    "estimate_ci": ("Ước lượng [KTC 95%]", "Estimate [95% CI]"),
    "n": ("Số người trả lời", "Respondents"),
    "group": ("Nhóm", "Group"),
    "channel": ("Kênh", "Channel"),
    "all_adults": ("Mọi người trưởng thành", "All adults"),
    "overview_title": ("Tổng quan vòng {round}", "Overview of round {round}"),
    "overview_lead": ("Các chỉ số chính của toàn thành phố, ước lượng theo thiết kế mẫu "
                      "với khoảng tin cậy 95%.",
                      "The city's headline indicators: design-based estimates with 95% "
                      "confidence intervals."),
    "pages_lead": ("Các báo cáo khác", "More reports"),
    "page_districts": ("Chỉ số theo vòng và quận/huyện.", "Indicators per round and district."),
    "page_groups": ("Chỉ số theo nhóm đối tượng của Kế hoạch 136.",
                    "Indicators per target group of Plan 136."),
    "page_change": ("Thay đổi giữa hai vòng khảo sát.", "Change between two survey rounds."),
    "page_priorities": ("Nơi cần ưu tiên truyền thông, theo mức độ và lý do.",
                        "Where outreach should go next, by tier, with reasons."),
    "page_channels": ("Kênh nào tiếp cận nhóm nào.", "Which channels reach which groups."),
    "page_yearly": ("Báo cáo gửi Sở Thông tin và Truyền thông trước ngày 12/11.",
                    "The report due to the Department of Information and Communications by 12 November."),
    "page_full": ("Toàn bộ báo cáo khoảng trống nhận thức trong một trang HTML (biểu đồ, bảng, phương pháp) "
                  "để lưu hoặc gửi; văn bản Word theo thể thức hành chính; bảng số liệu dạng XLSX hoặc CSV.",
                  "The whole awareness-gap report as one HTML page (charts, tables, method) to save or send; "
                  "as a Word document in the administrative format; its tables as XLSX or CSV."),
    "districts_title": ("Chỉ số theo quận/huyện", "Indicators by district"),
    "groups_title": ("Chỉ số theo nhóm đối tượng, vòng {round}", "Indicators by target group, round {round}"),
    "change_title": ("Thay đổi từ vòng {a} đến vòng {b}", "Change from round {a} to round {b}"),
    "change_col": ("Thay đổi [KTC 95%]", "Change [95% CI]"),
    "change_unit": ("Thay đổi tính bằng điểm phần trăm. Thay đổi in đậm, có ▲ (tăng) hoặc ▼ (giảm), là "
                    "thay đổi rõ rệt: khoảng tin cậy 95% của nó không chứa 0. Các thay đổi khác có thể chỉ "
                    "do chọn mẫu.",
                    "Changes are in percentage points. A change in bold with ▲ (up) or ▼ (down) is clear: "
                    "its 95% confidence interval excludes zero. The others could be sampling noise."),
    "clear_up": ("tăng rõ rệt", "clear rise"),
    "clear_down": ("giảm rõ rệt", "clear fall"),
    "priorities_title": ("Nơi cần ưu tiên, vòng {round}", "Priorities, round {round}"),
    "priorities_lead": ("Xếp theo nhu cầu: số người lớn chưa hiểu biết và có nguy cơ. "
                        "Hãy đọc theo mức ưu tiên: các nơi cùng mức được coi như nhau.",
                        "Ranked by need: adults with little knowledge and at risk. "
                        "Read the tiers: places in one tier should be treated as equals."),
    "tier": ("Mức ưu tiên", "Tier"),
    "map_tiers": ("Bản đồ ô: mức ưu tiên, vòng {round} ({level})",
                  "Tile map: tiers, round {round} ({level})"),
    "map_knowledge": ("Bản đồ ô: điểm hiểu biết trung bình theo quận/huyện, vòng {round}",
                      "Tile map: mean knowledge score by district, round {round}"),
    "map_missing": ("không có số liệu", "no figure"),
    "map_model_only": ("gạch chéo: chỉ ước tính từ mô hình (không có phỏng vấn)",
                       "hatched: model estimate only (no interviews)"),
    "bmap_tiers": ("Bản đồ: mức ưu tiên, vòng {round} ({level})", "Map: tiers, round {round} ({level})"),
    "bmap_knowledge": ("Bản đồ: điểm hiểu biết trung bình theo quận/huyện, vòng {round}",
                       "Map: mean knowledge score by district, round {round}"),
    "bmap_note": ("Ranh giới do quản trị viên nạp; ô trắng: không có số liệu.",
                  "Boundaries loaded by an administrator; white: no figure."),
    "bmap_attribution": ("Nguồn ranh giới: {attribution}", "Boundary data: {attribution}"),
    "map_note": ("Mỗi ô là một xã/phường/thị trấn, xếp theo quận/huyện (không phải ranh giới thật).",
                 "Each tile is a commune, grouped by district (not its real boundary)."),
    "tier_highest": ("Cao nhất", "Highest"),
    "tier_high": ("Cao", "High"),
    "tier_medium": ("Trung bình", "Medium"),
    "tier_lower": ("Thấp hơn", "Lower"),
    "place": ("Địa bàn", "Place"),
    "p_top_k": ("Khả năng thuộc {k} nơi cần nhất", "Chance of being among the {k} most in need"),
    "model_estimate": ("ước lượng theo mô hình, không có phỏng vấn ở đây",
                       "model estimate: no interviews here"),
    "knowledge": ("Hiểu biết", "Knowledge"),
    "hotline": ("Biết đường dây nóng", "Knows the hotline"),
    "risk": ("Có nguy cơ", "At risk"),
    "reasons": ("Lý do", "Reasons"),
    "channels_title": ("Kênh tiếp cận theo nhóm, vòng {round}", "Channel reach by group, round {round}"),
    "channels_lead": ("Tỷ lệ người trong nhóm đã nghe về mua bán người qua từng kênh trong 12 tháng qua.",
                      "Share of each group who heard about trafficking through each channel in the last "
                      "12 months."),
    "yearly_outreach": ("Hoạt động truyền thông theo quận/huyện", "Outreach activities by district"),
    "yearly_types": ("Hoạt động theo loại hình", "Activities by type"),
    "yearly_awareness": ("Mức độ nhận thức và thay đổi", "Awareness and change"),
    "yearly_intro": ("Thực hiện Kế hoạch số 136/KH-UBND ngày 05 tháng 9 năm 2017 của Ủy ban nhân dân thành "
                     "phố về thông tin, tuyên truyền phòng, chống mua bán người, {unit} báo cáo kết quả "
                     "truyền thông và mức độ nhận thức của người dân năm {year} như sau:",
                     "Under Plan 136/KH-UBND of 5 September 2017 of the City People's Committee on "
                     "information and communication against human trafficking, {unit} reports the "
                     "outreach and the people's awareness in {year} as follows:"),
    "docx": ("Văn bản Word (DOCX)", "Word document (DOCX)"),
    "activities": ("Số hoạt động", "Activities"),
    "activity_type": ("Loại hình", "Type"),
    "people_reached": ("Số người được tiếp cận", "People reached"),
    "communes_reached": ("Số xã/phường có hoạt động", "Communes reached"),
    "reach_per_1000": ("Tiếp cận trên 1.000 dân", "Reached per 1,000 people"),
    "withheld": ("–", "–"),
    "withheld_note": ("«–»: số liệu từ dưới {min} người trả lời không được công bố, vì có thể "
                      "làm lộ danh tính người trả lời (không phải bằng 0).",
                      "“–”: figures from fewer than {min} respondents are withheld because they "
                      "could identify the people who answered (they are not zero)."),
    "withheld_none": ("Tài khoản phân tích thấy mọi ô; cán bộ kế hoạch không thấy ô dưới "
                      "{min} người trả lời.",
                      "Analysts see every cell; planners do not see cells of fewer than "
                      "{min} respondents."),
    "ci_note": ("KTC 95%: khoảng tin cậy 95% tính theo thiết kế mẫu (phân tầng theo quận/huyện, "
                "cụm là xã/phường).",
                "95% CI: design-based 95% confidence interval (strata: districts; clusters: communes)."),
    "fewer_than": ("dưới {min}", "under {min}"),
    "error_title": ("Lỗi", "Error"),
    "error_code": ("Mã lỗi", "Error code"),
    "error_detail": ("Lựa chọn cần sửa", "The choice to fix"),
    "error_about": ("ý nghĩa của mã lỗi", "what this code means"),
    "problem_no-respondents": ("Chưa có dữ liệu khảo sát cho vòng này.",
                               "This round has no survey data yet."),
    "error_back": ("Về trang tổng quan", "Back to the overview"),
    "error_sign_in": ("Đăng nhập bằng tài khoản khác", "Sign in with another account"),
    "problem_forbidden": ("Tài khoản của bạn không được xem trang này. Báo cáo dành cho cán bộ phân tích và "
                          "cán bộ kế hoạch.",
                          "Your account may not see this page. The reports are for analysts and planners."),
    "problem_not-found": ("Không tìm thấy trang hoặc dữ liệu này.", "This page or data was not found."),
    "problem_validation-failed": ("Lựa chọn không hợp lệ.", "A choice on this page is not valid."),
    "problem_csrf-failed": ("Biểu mẫu đã hết hạn hoặc không được gửi từ trang này. "
                            "Hãy tải lại trang và thử lại.",
                            "The form expired or was not sent from this site. "
                            "Reload the page and try again."),
    "problem_method-not-allowed": ("Trang này không nhận yêu cầu kiểu này.",
                                   "This page does not take this kind of request."),
    "problem_internal-error": ("Máy chủ gặp lỗi; lỗi đã được ghi lại.",
                               "The server failed; the error was logged."),
    "problem_other": ("Không thực hiện được yêu cầu.", "The request could not be completed."),
    # the approved outreach plan against what was done, in the full report's words (analysis.report_plans)
    "yearly_plan": PLAN_TEXT["review"],
    "yearly_plan_none": PLAN_TEXT["no_plan"],
    "yearly_plan_approved": PLAN_TEXT["approved"],
    "yearly_plan_table": PLAN_TEXT["table"],
    "yearly_plan_planned": PLAN_TEXT["planned_col"],
    "yearly_plan_groups": PLAN_TEXT["groups_planned"],
    "yearly_plan_communes": PLAN_TEXT["communes"],
    "yearly_plan_reached": PLAN_TEXT["groups_reached"],
    "yearly_yes": PLAN_TEXT["yes"],
    "yearly_no": PLAN_TEXT["no"],
}


def add_text(texts: dict[str, tuple[str, str]]) -> None:
    """Merge a part's page text (the console's) into :data:`TEXT`; a name already taken for other words is
    refused, since a silent replacement changes the words of every page that uses the name."""
    taken = sorted(key for key, words in texts.items() if TEXT.get(key, words) != words)
    if taken:
        raise ValueError(f"page text names already taken for other words: {', '.join(taken)}")
    TEXT.update(texts)


def current_language() -> str:
    """The language of this request: ``?lang=``, else the cookie, else Vietnamese."""
    if "lang" not in g:
        asked = request.args.get("lang")
        cookie = request.cookies.get(COOKIE)
        g.lang = asked if asked in LANGUAGES else cookie if cookie in LANGUAGES else DEFAULT
    return g.lang


@contextmanager
def in_language(language: str) -> Iterator[None]:
    """Word and number what runs inside in ``language`` (a command writing a page's tables has no request)."""
    saved = g.get("lang")
    g.lang = language
    try:
        yield
    finally:
        if saved is None:
            g.pop("lang", None)
        else:
            g.lang = saved


def text(key: str, **values) -> str:
    """The page text ``key`` in the current language."""
    vi, en = TEXT[key]
    out = vi if current_language() == "vi" else en
    return out.format(**values) if values else out


def _pick(pair) -> str:
    return pair[0] if current_language() == "vi" else pair[1]


def indicator_label(name: str) -> str:
    """An indicator's label (``analysis.yearly_report.INDICATORS``) in the current language."""
    return _pick(INDICATORS.get(name, (name, name)))


@cache
def _choice_labels(form: str, list_name: str) -> dict[str, tuple[str, str]]:
    loaded = library.load(form)
    vi, en = (next(k for k in loaded.languages if k.endswith(f"({code})")) for code in LANGUAGES)
    return {c.name: (c.label.get(vi) or c.name, c.label.get(en) or c.name)
            for c in loaded.choices.get(list_name, [])}


def channel_label(name: str) -> str:
    """A channel's label, from the awareness form's ``channel`` choices."""
    return _pick(_choice_labels("awareness", "channel").get(name, (name, name)))


def activity_label(name: str) -> str:
    """An outreach activity type's label, from the outreach form's ``activity`` choices."""
    return _pick(_choice_labels("outreach", "activity").get(name, (name, name)))


def group_label(name: str) -> str:
    """A target group's label (``analysis/groups.json``); ``all`` is every adult."""
    if name == "all":
        return text("all_adults")
    return group_labels(language=current_language()).get(name, name)


def groups_label(codes: str) -> str:
    """Space-separated target groups (:func:`server.reports.plans.review_frame`) as labels; '–' for none."""
    return ", ".join(group_label(code) for code in codes.split()) or "–"


def role_label(role: str) -> str:
    """The role that approved a plan, as the report words it ('a planner')."""
    return _pick(PLAN_ROLES.get(role, (role, role)))


def _missing(value) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def number(value, digits: int = 0) -> str:
    """A number with the current language's separators (vi: 1.234,5; en: 1,234.5); '–' when missing."""
    if _missing(value):
        return "–"
    out = f"{value:,.{digits}f}"
    if out.startswith("-") and not out.strip("-0.,"):
        out = out[1:]  # a value that rounds to zero has no sign: never "-0"
    if current_language() == "vi":
        out = out.replace(",", "\0").replace(".", ",").replace("\0", ".")
    return out


def percent(value) -> str:
    """A share as a whole percentage ('52%'); '–' when withheld."""
    return "–" if _missing(value) else number(100 * value) + "%"


def interval(low, high) -> str:
    """A 95% interval of shares, '[48–56%]'; empty when withheld."""
    if _missing(low) or _missing(high):
        return ""
    return f"[{number(100 * low)}–{number(100 * high)}%]"


def points(value) -> str:
    """A change in percentage points with its sign ('+4'); '–' when withheld."""
    if _missing(value):
        return "–"
    out = number(100 * value)
    return out if out.startswith("-") or not out.strip("0.,") else "+" + out


def clear_change(low, high) -> str:
    """``up`` or ``down`` when a change's 95% interval excludes zero, else '' (it could be zero)."""
    if _missing(low) or _missing(high):
        return ""
    return "up" if low > 0 else "down" if high < 0 else ""


def points_interval(low, high) -> str:
    """A 95% interval of a change in points, '[−1; +9]'; empty when withheld."""
    if _missing(low) or _missing(high):
        return ""
    return f"[{points(low)}; {points(high)}]"


def helpers() -> dict:
    """What every template may call."""
    return {"t": text, "indicator_label": indicator_label, "channel_label": channel_label,
            "activity_label": activity_label, "group_label": group_label, "groups_label": groups_label,
            "role_label": role_label, "number": number,
            "percent": percent, "interval": interval, "points": points, "points_interval": points_interval,
            "clear_change": clear_change,
            "missing": _missing}
