"""Vietnamese and English labels of the codes a report shows: indicators, groups, channels, activities.

Channel and activity-type labels come from the built-in forms' choice lists (``forms/library``),
so a report says what the enumerator's phone said; the rest are declared here. Unknown codes are
shown as themselves rather than failing, since a newer form version may add choices.
"""

from __future__ import annotations

from functools import cache

from analysis.errors import VariableInvalid

__all__ = ["LANGUAGES", "check_language", "indicator", "group", "channel", "activity_type", "tier", "area",
           "source", "variable"]

LANGUAGES = ("vi", "en")

#: Indicator column → (Vietnamese, English).
INDICATORS = {
    "knowledge": ("Điểm hiểu biết trung bình", "Mean knowledge score"),
    "aware_signs_3": ("Nhận biết ít nhất 3 trong 4 dấu hiệu", "Aware of at least 3 of the 4 warning signs"),
    "hotline_aware": ("Biết số đường dây nóng 1800 1567", "Knows the hotline 1800 1567"),
    "at_risk": ("Tỷ lệ có nguy cơ", "Share at risk"),
}

TIERS = {
    "highest": ("Ưu tiên cao nhất", "Highest"),
    "high": ("Ưu tiên cao", "High"),
    "medium": ("Ưu tiên trung bình", "Medium"),
    "lower": ("Ưu tiên thấp hơn", "Lower"),
}

AREAS = {"urban": ("Thành thị", "Urban"), "rural": ("Nông thôn", "Rural"),
         "mixed": ("Hỗn hợp", "Mixed")}

SOURCES = {
    "survey": ("Khảo sát tại đây", "Surveyed here"),
    "small-area": ("Ước lượng vùng nhỏ (có phỏng vấn tại xã)", "Small-area estimate (interviews here)"),
    "model": ("Ước lượng theo mô hình (không có phỏng vấn)", "Model estimate (no interviews here)"),
    "district": ("Ước lượng của quận/huyện", "District estimate"),
    "none": ("Không có phỏng vấn", "No interviews"),
}

_ALL = {"all": ("Mọi người trưởng thành", "All adults")}


def check_language(language: str) -> str:
    """The language if it is ``"vi"`` or ``"en"``; else raise VariableInvalid."""
    if language not in LANGUAGES:
        raise VariableInvalid(f"language must be 'vi' or 'en', got {language!r}",
                              errors=[{"pointer": "/language", "detail": f"unknown: {language}"}])
    return language


def _pick(pair, language):
    return pair[LANGUAGES.index(check_language(language))]


def _language_keys(form):
    return {lang: next((name for name in form.languages if name == lang or name.endswith(f"({lang})")), None)
            for lang in LANGUAGES}


@cache
def _choices(form_name: str, list_name: str) -> dict[str, tuple[str, str]]:
    from forms import library

    form = library.load(form_name)
    keys = _language_keys(form)
    out = {}
    for choice in form.choices.get(list_name, []):
        out[choice.name] = tuple(choice.label.get(keys[lang]) or choice.name for lang in LANGUAGES)
    return out


@cache
def _question(name: str) -> tuple[tuple[str, str], str | None]:
    """Label of an awareness-form question and the name of its choice list."""
    from forms import library

    form = library.load("awareness")
    try:
        question = form.question(name)
    except KeyError:
        return (name, name), None
    keys = _language_keys(form)
    label = tuple((question.label or {}).get(keys[lang]) or name for lang in LANGUAGES)
    return label, question.choices or None


def indicator(code: str, language: str) -> str:
    """Label of an indicator column."""
    return _pick(INDICATORS.get(code, (code, code)), language)


@cache
def _groups():
    from analysis.groups import load_groups

    return {g["name"]: (g["label"]["vi"], g["label"]["en"]) for g in load_groups()}


def group(code: str, language: str) -> str:
    """Label of a target group (``analysis/groups.json``, plus ``all``)."""
    return _pick({**_ALL, **_groups()}.get(code, (code, code)), language)


def channel(code: str, language: str) -> str:
    """Label of an exposure channel (the awareness form's ``channel`` choices)."""
    return _pick(_choices("awareness", "channel").get(code, (code, code)), language)


def activity_type(code: str, language: str) -> str:
    """Label of an outreach activity type (the outreach form's ``activity`` choices)."""
    return _pick(_choices("outreach", "activity").get(code, (code, code)), language)


def variable(code: str, language: str) -> str:
    """Label of a covariate as a balance table names it: ``age``, or ``sex=female`` (question: answer)."""
    name, _, value = code.partition("=")
    if name in INDICATORS:
        return indicator(name, language)
    label, choices = _question(name)
    text = _pick(label, language)
    if value:
        answer = _choices("awareness", choices).get(value, (value, value)) if choices else (value, value)
        text = f"{text}: {_pick(answer, language)}"
    return text


def tier(code: str, language: str) -> str:
    """Label of a priority tier."""
    return _pick(TIERS.get(code, (code, code)), language)


def area(code: str, language: str) -> str:
    """Label of urban/rural."""
    return _pick(AREAS.get(code, (code, code)), language)


def source(code: str, language: str) -> str:
    """Label of where a small-area estimate comes from."""
    return _pick(SOURCES.get(code, (code, code)), language)
