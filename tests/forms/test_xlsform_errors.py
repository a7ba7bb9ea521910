"""Bad input becomes a clear FormError subclass, never an unexpected exception."""

from __future__ import annotations

import io
import signal
import zipfile

import pytest

from forms import errors
from forms.errors import FormError
from forms.xlsform import load_xlsform

from .conftest import md

HEADER = "| survey |\n|  | type | name | label | relevant |\n"


def _xlsx(rows: list[list[str]]) -> bytes:
    import openpyxl

    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "survey"
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def test_every_error_class_has_a_stable_kebab_code_and_is_documented():
    classes = [c for c in vars(errors).values()
               if isinstance(c, type) and issubclass(c, FormError)]
    codes = {c.code for c in classes}
    assert len(codes) == len(classes) >= 8
    for code in codes:
        assert code == code.lower() and " " not in code
        assert f"| {code} " in errors.__doc__


@pytest.mark.parametrize("data", [
    b"", b"PK\x03\x04garbage", b"\xd0\xcf\x11\xe0 not really an xls", b"\xff\xfe\x00binary",
    _xlsx([["type", "name"], ["text", "a"]])[:500],
])
def test_corrupt_or_empty_files_are_unreadable(data):
    with pytest.raises(errors.XLSFormUnreadable) as err:
        load_xlsform(data)
    assert err.value.code == "xlsform-unreadable"


def test_a_zip_that_is_not_a_workbook_is_unreadable():
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("hello.txt", "hi")
    with pytest.raises(errors.XLSFormUnreadable):
        load_xlsform(out.getvalue())


def test_missing_file_is_unreadable(tmp_path):
    with pytest.raises(errors.XLSFormUnreadable):
        load_xlsform(tmp_path / "nope.xlsx")


def test_zip_bomb_is_refused_from_the_directory_before_inflating():
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        with archive.open("xl/worksheets/sheet1.xml", "w") as part:
            chunk = b"\0" * (1 << 20)
            for _ in range(120):
                part.write(chunk)
    data = out.getvalue()
    assert len(data) < 1_000_000
    with pytest.raises(errors.XLSFormTooLarge) as err:
        load_xlsform(data)
    assert err.value.code == "xlsform-too-large"
    assert err.value.fields["uncompressed"] > 100 * 1024 * 1024


def test_oversized_file_is_refused(monkeypatch):
    import forms.xlsform as module

    monkeypatch.setattr(module, "MAX_FILE_BYTES", 1000)
    with pytest.raises(errors.XLSFormTooLarge):
        load_xlsform(b"x" * 2000)


def test_too_many_rows_is_refused(monkeypatch):
    import forms.xlsform as module

    monkeypatch.setattr(module, "MAX_SURVEY_ROWS", 10)
    rows = [["type", "name", "label"]] + [["text", f"q{i}", f"Q{i}"] for i in range(11)]
    with pytest.raises(errors.XLSFormTooLarge):
        load_xlsform(_xlsx(rows))


def test_one_cell_in_the_last_row_and_column_does_not_make_the_sheet_walked_whole():
    # A sheet is as big as its furthest cell: one in XFD1048576 spans 16,384 columns x 1,048,576
    # rows (17 billion cells), and counting rows over that span ran past this test's 60 s alarm (a
    # real form of the corpus, spanning AMJ1048576 with styled empty rows, took 30 s).
    import openpyxl

    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "survey"
    sheet.append(["type", "name", "label"])
    sheet.append(["integer", "age", "Age"])
    sheet["XFD1048576"] = "far away"
    out = io.BytesIO()
    book.save(out)
    previous = signal.signal(signal.SIGALRM, _too_slow)
    signal.alarm(60)
    try:
        form = load_xlsform(out.getvalue())
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)
    assert form.validate({"age": 3}) == []


def _too_slow(signum, frame):
    raise AssertionError("load_xlsform walked the sheet's declared dimension")


def test_rows_pyxform_does_not_read_are_not_counted(monkeypatch):
    # pyxform stops reading after a run of 60 empty rows; the row limit counts what it reads.
    import forms.xlsform as module

    monkeypatch.setattr(module, "MAX_SURVEY_ROWS", 10)
    head = [["type", "name", "label"]] + [["text", f"q{i}", f"Q{i}"] for i in range(5)]
    gap = [[None, None, None]] * 61
    tail = [["text", f"later{i}", f"L{i}"] for i in range(20)]
    form = load_xlsform(_xlsx(head + gap + tail))
    assert {q.name for q in form.questions} >= {f"q{i}" for i in range(5)}
    assert not any(q.name.startswith("later") for q in form.questions)
    with pytest.raises(errors.XLSFormTooLarge):  # the same rows without the gap are too many
        load_xlsform(_xlsx(head + tail))


def test_columns_past_pyxforms_header_are_not_read_and_too_many_are_refused(monkeypatch):
    # Rows are read as wide as the header pyxform reads (it stops after 20 empty header cells), and a
    # header wider than MAX_COLUMNS is refused: 20,000 rows x 16,384 columns would be 327 million cells.
    import forms.xlsform as module

    monkeypatch.setattr(module, "MAX_COLUMNS", 10)
    far = ["type", "name", "label"] + [None] * 25 + ["beyond"]
    form = load_xlsform(_xlsx([far, ["integer", "age", "Age"]]))
    assert form.validate({"age": 3}) == []
    wide = ["type", "name", "label"] + [f"label::lang{i}" for i in range(8)]
    with pytest.raises(errors.XLSFormTooLarge, match="more than 10 columns") as err:
        load_xlsform(_xlsx([wide, ["integer", "age", "Age"] + ["Age"] * 8]))
    assert err.value.code == "xlsform-too-large"


def test_a_valid_form_with_5000_rows_loads_and_validates():
    rows = [["type", "name", "label", "relevant"]]
    rows += [["integer", f"q{i}", f"Question {i}", f"${{q{i - 1}}} > 0" if i else ""]
             for i in range(5000)]
    form = load_xlsform(_xlsx(rows))
    assert len(form.questions) == 5001  # plus the meta group pyxform adds
    answers = {f"q{i}": 1 for i in range(5000)}
    assert form.validate(answers) == []
    answers["q0"] = 0
    # Each question is relevant only if the one before was answered > 0: the chain collapses.
    issues = form.validate(answers)
    assert [i.code for i in issues] == ["not-relevant"] * 4999
    assert issues[-1].pointer == "/q4999"


def test_pyxform_errors_name_sheet_and_row():
    with pytest.raises(errors.XLSFormInvalid) as err:
        md("""
        | survey |
        |        | type  | name | label |
        |        | text  | a    | A     |
        |        | textX | b    | B     |
        """)
    assert err.value.code == "xlsform-invalid"
    assert "textX" in err.value.detail
    assert err.value.errors and "detail" in err.value.errors[0]
    with pytest.raises(errors.XLSFormInvalid) as err:
        md("""
        | survey |
        |        | type          | name | label |
        |        | select_one yn | a    | A     |
        | choices |
        |         | list_name | name | label |
        |         | yn        | y    | Y     |
        |         | yn        | y    | Y2    |
        """)
    assert err.value.fields["sheet"] == "choices" and err.value.fields["row"] == 3
    assert err.value.detail.startswith("sheet 'choices', row 3: ")


@pytest.mark.parametrize("column, expression", [
    ("relevant", "${a} >> 3"), ("constraint", ". < < 2"), ("calculation", "concat(${a}"),
    ("required", "${a} = 'x' and"), ("choice_filter", "name = = 'x'"),
])
def test_expression_syntax_errors_name_the_row_and_column(column, expression):
    type_ = "select_one yn" if column == "choice_filter" else "integer"
    table = f"""
    | survey |
    |        | type    | name | label | {column} |
    |        | integer | a    | A     |          |
    |        | {type_} | b    | B     | {expression} |
    | choices |
    |         | list_name | name | label |
    |         | yn        | y    | Y     |
    """
    with pytest.raises(errors.ExpressionInvalid) as err:
        md(table)
    assert err.value.code == "expression-invalid"
    assert "row 3" in err.value.detail and f"'{column}'" in err.value.detail


def test_unknown_function_is_left_to_the_device_not_refused():
    form = md("""
    | survey |
    |        | type    | name | label | constraint          |
    |        | text    | a    | A     | pulldata('x', 'y')  |
    """)
    assert form.compiled.unchecked[0]["name"] == "a"
    assert form.validate({"a": "anything"}) == []


def test_missing_choices_file_leaves_choices_unchecked_and_bad_csv_is_refused():
    table = """
    | survey |
    |        | type                          | name | label |
    |        | select_one_from_file places.csv | p  | P     |
    """
    form = md(table)
    assert form.attachments == ["places.csv"]
    assert form.validate({"p": "anything"}) == []
    form = md(table, attachments={"places.csv": b"name,label\nx,X\n"})
    assert [i.code for i in form.validate({"p": "anything"})] == ["choice"]
    with pytest.raises(errors.AttachmentInvalid):
        md(table, attachments={"places.csv": b"label\nX\n"})


def test_form_json_errors():
    from forms.model import Form

    for bad in ("not json", "{}", '{"format": "ferry-form/1"}', "[1]"):
        with pytest.raises(errors.FormJSONInvalid):
            Form.from_json(bad)
    form = md(HEADER + "|  | text | a | A | |\n")
    data = form.to_json()
    data["title"] = "changed"
    with pytest.raises(errors.FormJSONInvalid):
        Form.from_json(data)


def test_pyxform_warnings_name_the_sheet_and_row():
    form = md("""
    | survey |
    |        | type          | name | label |
    |        | select_one yn | a    | A     |
    | choices |
    |         | list_name | name | label |
    |         | yn        | y    |       |
    """)
    assert any(w.startswith("sheet 'choices', row 2: ") for w in form.warnings), form.warnings
