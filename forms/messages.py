"""Issue messages in Vietnamese and English; other form languages get the English text."""

from __future__ import annotations

TEXTS: dict[str, tuple[str, str]] = {
    "required": ("Câu hỏi này bắt buộc phải trả lời.", "This question is required."),
    "constraint": ("Câu trả lời không hợp lệ.", "The answer is not allowed."),
    "type": ("Câu trả lời phải là {expected}.", "The answer must be {expected}."),
    "choice": ("“{value}” không phải là lựa chọn của câu hỏi này.",
               "“{value}” is not a choice of this question."),
    "choice-filter": ("“{value}” không thuộc các lựa chọn được phép theo câu trả lời trước.",
                      "“{value}” is not allowed given the earlier answers."),
    "not-relevant": ("Câu hỏi này không áp dụng theo các câu trả lời trước nên phải để trống.",
                     "This question does not apply given the earlier answers, so it must be empty."),
    "unknown-field": ("Biểu mẫu không có câu hỏi “{name}”.", "The form has no question “{name}”."),
    "repeat-count": ("Cần đúng {expected} mục, nhưng có {actual}.",
                     "Exactly {expected} entries are needed, but there are {actual}."),
    "not-answerable": ("Mục này không nhận câu trả lời.", "This item takes no answer."),
}

EXPECTED: dict[str, tuple[str, str]] = {
    "integer": ("một số nguyên", "an integer"),
    "decimal": ("một số", "a number"),
    "text": ("một chuỗi văn bản", "a text string"),
    "select_one": ("tên của một lựa chọn", "the name of one choice"),
    "select_multiple": ("một danh sách tên lựa chọn không trùng lặp",
                        "a list of distinct choice names"),
    "date": ("một ngày dạng YYYY-MM-DD", "a date as YYYY-MM-DD"),
    "time": ("một giờ dạng HH:MM:SS", "a time as HH:MM:SS"),
    "datetime": ("một thời điểm ISO 8601", "an ISO 8601 date and time"),
    "geopoint": ("“vĩ độ kinh độ [độ cao [độ chính xác]]”",
                 "“latitude longitude [altitude [accuracy]]”"),
    "group": ("một đối tượng JSON", "a JSON object"),
    "repeat": ("một mảng các đối tượng JSON", "an array of JSON objects"),
    "scalar": ("một giá trị đơn", "a single value"),
    "acknowledge": ("“OK”", "“OK”"),
}


def is_vietnamese(language: str) -> bool:
    """True for language columns such as ``Tiếng Việt (vi)``, ``vi`` or ``Vietnamese``."""
    low = language.lower()
    return low == "vi" or "(vi)" in low or "việt" in low or "vietnam" in low


def message(code: str, languages: list[str], custom: dict[str, str] | None = None,
            **values: str) -> dict[str, str]:
    """The message for ``code`` in every form language (``custom`` wins where given)."""
    vi, en = TEXTS[code]
    out = {}
    for lang in languages:
        if custom and custom.get(lang):
            out[lang] = custom[lang]
            continue
        if custom and len(custom) == 1 and "default" in custom:
            out[lang] = custom["default"]
            continue
        template = vi if is_vietnamese(lang) else en
        filled = dict(values)
        if "expected" in filled and filled["expected"] in EXPECTED:
            pair = EXPECTED[filled["expected"]]
            filled["expected"] = pair[0] if is_vietnamese(lang) else pair[1]
        out[lang] = template.format(**filled)
    return out
