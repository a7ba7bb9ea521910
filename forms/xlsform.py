"""XLSForm in: read with pyxform, build Ferry's model, and keep pyxform's XForm.

Accepts .xlsx, .xls, pyxform's single-file .csv and its markdown tables (handy in tests).
The ``ferry::*`` columns (scoring keys) are taken out before pyxform sees the sheets, so the
XForm served to ODK clients is exactly what pyxform makes of the rest.
"""

from __future__ import annotations

import copy
import io
import os
import re
import warnings as warnings_module
import zipfile
from pathlib import Path
from typing import Any

from openpyxl import load_workbook
from pyxform.builder import create_survey_element_from_dict
from pyxform.errors import PyXFormError
from pyxform.xls2json import workbook_to_json
from pyxform.xls2json_backends import get_xlsform
from pyxform.xls2json_backends import is_empty

from forms.builder import build
from forms.errors import FormError
from forms.errors import XLSFormInvalid
from forms.errors import XLSFormTooLarge
from forms.errors import XLSFormUnreadable
from forms.model import Form

MAX_FILE_BYTES = 20 * 1024 * 1024
MAX_UNCOMPRESSED_BYTES = 100 * 1024 * 1024
MAX_ZIP_ENTRIES = 2_000
MAX_SURVEY_ROWS = 20_000
MAX_CHOICE_ROWS = 200_000
MAX_ATTACHMENT_BYTES = 10 * 1024 * 1024
# A sheet's columns: a form in 20 languages with every label, hint and media column has ~200
MAX_COLUMNS = 1_000
# pyxform stops reading a sheet after this many empty rows, or header cells, in a row
# (xls2json_backends.get_excel_rows and get_excel_column_headers)
PYXFORM_EMPTY_ROWS_READ = 60
PYXFORM_EMPTY_COLUMNS_READ = 20

_ROW = re.compile(r"\[row\s*:\s*(\d+)\]")
_SHEET = re.compile(r"'(survey|choices|settings|external_choices|entities)' sheet", re.I)
_FERRY = "ferry::"

Source = str | os.PathLike | bytes | bytearray


def load_xlsform(source: Source, *, attachments: dict[str, Any] | None = None,
                 file_type: str | None = None, filename: str | None = None) -> Form:
    """Read an XLSForm (path or bytes) into a Form; problems raise a FormError subclass.

    ``filename`` names bytes as a path names itself: a form whose settings give no ``form_id``
    takes the file's stem (pyxform's rule), not pyxform's default ``data`` shared by every such form.
    """
    data, file_type, folder = _read(source, file_type)
    stem = Path(source).stem if folder is not None else (Path(filename).stem if filename else None)
    file_type = file_type or _sniff(data)
    if file_type in (".xlsx", ".xlsm"):
        _check_zip(data)
        _count_rows_streaming(data)
    try:
        with warnings_module.catch_warnings():
            # openpyxl and xlrd warn about styles and extensions they skip; not our concern.
            warnings_module.simplefilter("ignore")
            workbook = get_xlsform(xlsform=io.BytesIO(data), file_type=file_type)
    except PyXFormError as err:
        if "not recognized" in str(err) or "supported type" in str(err):
            raise XLSFormUnreadable(f"the file could not be read as {file_type}: {err}") from None
        raise _invalid(err) from None
    except FormError:
        raise
    except Exception as err:  # noqa: BLE001 - the readers raise anything on corrupt input
        raise XLSFormUnreadable(f"the file could not be read as {file_type}: {err}") from None
    _check_rows(workbook)
    if stem:
        # pyxform names the form after the file when settings give no id; keep that behaviour.
        workbook.fallback_form_name = stem
    ferry_rows, ferry_choices, rows = _take_ferry_columns(workbook)
    warnings: list[str] = []
    try:
        data_dict = workbook_to_json(
            workbook_dict=workbook,
            fallback_form_name=workbook.fallback_form_name,
            warnings=warnings,
        )
        model_dict = copy.deepcopy(data_dict)
        survey = create_survey_element_from_dict(data_dict)
        xform = survey.to_xml(validate=False, pretty_print=False, warnings=warnings)
    except PyXFormError as err:
        raise _invalid(err) from None
    except RecursionError:
        raise XLSFormTooLarge("the form nests groups too deeply") from None
    except Exception as err:  # noqa: BLE001 - pyxform crashes on some malformed sheets
        raise XLSFormInvalid(f"pyxform could not convert the form: {err!r}") from None
    warnings = [describe(w)["detail"] for w in warnings]
    form = build(model_dict, xform, warnings, ferry_rows, ferry_choices, rows,
                 _attachment_reader(attachments, folder))
    form.compiled  # noqa: B018 - compile every expression now: a syntax error refuses the form
    return form


def _read(source: Source, file_type: str | None) -> tuple[bytes, str | None, Path | None]:
    if isinstance(source, (bytes, bytearray)):
        if len(source) > MAX_FILE_BYTES:
            raise XLSFormTooLarge(f"the file is over {MAX_FILE_BYTES} bytes", limit=MAX_FILE_BYTES)
        return bytes(source), file_type, None
    path = Path(source)
    try:
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            raise XLSFormTooLarge(f"{path.name} is over {MAX_FILE_BYTES} bytes",
                                  limit=MAX_FILE_BYTES)
        data = path.read_bytes()
    except OSError as err:
        raise XLSFormUnreadable(f"cannot read {path}: {err.strerror}") from None
    return data, file_type, path.parent


def _sniff(data: bytes) -> str:
    if data.startswith(b"PK\x03\x04"):
        return ".xlsx"
    if data.startswith(b"\xd0\xcf\x11\xe0"):
        return ".xls"
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise XLSFormUnreadable("the file is neither a spreadsheet nor UTF-8 text") from None
    stripped = text.lstrip()
    if stripped.startswith("|"):
        return ".md"
    if stripped and "," in stripped.splitlines()[0]:
        return ".csv"
    raise XLSFormUnreadable("the file is empty or not an XLSForm (.xlsx, .xls, .csv)")


def _check_zip(data: bytes) -> None:
    # Read the central directory only: a zip bomb is refused before anything is inflated.
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            infos = archive.infolist()
    except (zipfile.BadZipFile, ValueError, OSError) as err:
        raise XLSFormUnreadable(f"the .xlsx file is corrupt: {err}") from None
    if len(infos) > MAX_ZIP_ENTRIES:
        raise XLSFormTooLarge(f"the .xlsx holds {len(infos)} parts", limit=MAX_ZIP_ENTRIES)
    total = sum(info.file_size for info in infos)
    if total > MAX_UNCOMPRESSED_BYTES:
        raise XLSFormTooLarge(
            f"the .xlsx would expand to {total} bytes (limit {MAX_UNCOMPRESSED_BYTES})",
            limit=MAX_UNCOMPRESSED_BYTES, uncompressed=total,
        )
    if not any(info.filename.startswith("xl/") for info in infos):
        raise XLSFormUnreadable("the zip file is not an Excel workbook")


def _count_rows_streaming(data: bytes) -> None:
    """Count the rows of the survey and choices sheets while reading them, row by row (openpyxl's
    read-only mode), and stop at the first row past a limit: a sheet of a million rows is refused
    before pyxform builds it in memory. The sheet's declared dimension is not trusted."""
    # read-only sheets parse lazily, so openpyxl's warnings (unknown extensions...) come while the rows
    # are read; they say nothing about the row count and pyxform's full read reports what matters
    with warnings_module.catch_warnings():
        warnings_module.simplefilter("ignore")
        try:
            book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        except Exception:  # noqa: BLE001 - a corrupt file is reported by the full read below, with its cause
            return
        try:
            _count_rows(book)
        finally:
            book.close()


def _count_rows(book) -> None:
    limits = {"survey": MAX_SURVEY_ROWS, "choices": MAX_CHOICE_ROWS, "external_choices": MAX_CHOICE_ROWS}
    choices = 0
    for sheet in book.worksheets:
        name = sheet.title.strip().lower()
        if name not in limits:
            continue
        rows = 0
        for _row in _rows_pyxform_reads(sheet):
            rows += 1
            if name != "survey":
                choices += 1
            # the header row is not a form row (pyxform's count, which _check_rows applies)
            if name == "survey" and rows - 1 > MAX_SURVEY_ROWS:
                raise XLSFormTooLarge(f"the survey sheet has more than {MAX_SURVEY_ROWS} rows",
                                      limit=MAX_SURVEY_ROWS)
            if name != "survey" and choices - 1 > MAX_CHOICE_ROWS:
                raise XLSFormTooLarge(f"the choices sheets have more than {MAX_CHOICE_ROWS} rows",
                                      limit=MAX_CHOICE_ROWS)


def _rows_pyxform_reads(sheet):
    """The sheet's non-empty rows as pyxform reads them: the header, then each row's cells under a
    header, until a run of more empty rows than pyxform reads past. Reading the sheet's whole declared
    dimension instead costs rows × columns: a real form spanning A1:AMJ1048576 took 30 s of CPU here;
    one cell in XFD1048576 spans 17 billion cells."""
    header = next(sheet.iter_rows(max_row=1, values_only=True), ())
    width = _header_width(header)
    if not width:
        return
    if width > MAX_COLUMNS:
        raise XLSFormTooLarge(f"the {sheet.title.strip()} sheet has more than {MAX_COLUMNS} columns",
                              limit=MAX_COLUMNS)
    yield header
    empty_run = 0
    for row in sheet.iter_rows(min_row=2, max_col=width, values_only=True):
        if not all(is_empty(value) for value in row):
            empty_run = 0
            yield row
        else:
            empty_run += 1
            if empty_run > PYXFORM_EMPTY_ROWS_READ:
                return


def _header_width(header) -> int:
    """How many columns pyxform reads: up to the last named one before a run of empty ones it stops at."""
    width = empty_run = 0
    for column, value in enumerate(header, start=1):
        if is_empty(value):
            empty_run += 1
            if empty_run > PYXFORM_EMPTY_COLUMNS_READ:
                break
        else:
            empty_run, width = 0, column
    return width


def _check_rows(workbook) -> None:
    survey = len(workbook.survey or [])
    choices = len(workbook.choices or []) + len(workbook.external_choices or [])
    if survey > MAX_SURVEY_ROWS:
        raise XLSFormTooLarge(f"the survey sheet has {survey} rows", limit=MAX_SURVEY_ROWS)
    if choices > MAX_CHOICE_ROWS:
        raise XLSFormTooLarge(f"the choices sheets have {choices} rows", limit=MAX_CHOICE_ROWS)


def describe(message: str) -> dict:
    """Split a pyxform message into sheet, row and a detail that names them up front."""
    row = _ROW.search(message)
    sheet = _SHEET.search(message)
    where = {
        "sheet": sheet.group(1).lower() if sheet else ("survey" if row else None),
        "row": int(row.group(1)) if row else None,
    }
    prefix = ""
    if where["sheet"]:
        prefix = f"sheet '{where['sheet']}'" + (f", row {where['row']}" if where["row"] else "")
        prefix += ": "
    # The pointer addresses the workbook as sheets of rows, so problems share one error shape.
    pointer = "/" + "/".join(str(part) for part in (where["sheet"], where["row"]) if part)
    return {"pointer": pointer, "detail": prefix + _ROW.sub("", message).strip(), **where}


def _invalid(err: PyXFormError) -> XLSFormInvalid:
    # pyxform joins one message per offending row with newlines (60 for a choice list pasted twice):
    # each becomes its own problem with its sheet and row, and the same problem on the same row once.
    problems: dict[tuple, dict] = {}
    for line in str(err).splitlines():
        if line.strip():
            problem = describe(line.strip())
            problems.setdefault((problem["sheet"], problem["row"], problem["detail"]), problem)
    errors = list(problems.values()) or [describe(str(err))]
    first = errors[0]
    detail = first["detail"] + (f" (and {len(errors) - 1} more)" if len(errors) > 1 else "")
    return XLSFormInvalid(detail, errors=errors, sheet=first["sheet"], row=first["row"])


def _take_ferry_columns(workbook):
    """Remove ``ferry::*`` columns; return them keyed by question / (list, choice)."""
    by_name: dict[str, dict[str, str]] = {}
    rows: dict[str, int] = {}
    for index, row in enumerate(workbook.survey or []):
        name = str(row.get("name") or "").strip()
        extra = _pop_ferry(row)
        if name:
            rows.setdefault(name, index + 2)
            if extra:
                by_name[name] = extra
    by_choice: dict[tuple[str, str], dict[str, str]] = {}
    for row in workbook.choices or []:
        extra = _pop_ferry(row)
        if extra:
            key = (str(row.get("list_name") or row.get("list name") or "").strip(),
                   str(row.get("name") or row.get("value") or "").strip())
            by_choice[key] = extra
    for header in ("survey_header", "choices_header"):
        for columns in getattr(workbook, header) or []:
            for key in [k for k in columns if str(k).lower().startswith(_FERRY)]:
                del columns[key]
    return by_name, by_choice, rows


def _pop_ferry(row: dict) -> dict[str, str]:
    extra = {}
    for key in [k for k in row if str(k).lower().startswith(_FERRY)]:
        value = str(row.pop(key) or "").strip()
        if value:
            extra[str(key)[len(_FERRY):].strip().lower()] = value
    return extra


def _attachment_reader(attachments: dict[str, Any] | None, folder: Path | None):
    def read(name: str) -> bytes | None:
        if attachments and name in attachments:
            value = attachments[name]
            if isinstance(value, (bytes, bytearray)):
                return bytes(value)
            return Path(value).read_bytes()
        if folder is not None and (folder / name).is_file():
            return (folder / name).read_bytes()
        return None

    return read
