"""Reading a roster workbook: cells, rows and their checks, the header."""
from __future__ import annotations

import io
import math
import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import IO, Iterable, Iterator, Optional

from flask_babel import gettext as _
from openpyxl import load_workbook

from core import xlsx
from orgs.roster.columns import (
    _BY_KEY,
    _FALSE,
    _HEADER_KEYS,
    _ROW_TAG,
    _TRUE,
    COLUMNS,
    DISPLAY_SEPARATOR,
    MAX_ADULTS,
    MAX_AREA,
    MAX_NAME,
    MAX_ROWS,
    MAX_TEXT,
    MOBILE,
    NO,
    READ,
    SEPARATORS,
    YES,
    Column,
    ImportReport,
    Progress,
    _COUNTRY_CODE,
    _BadCell,
    _header_token,
    _Unreadable,
)

# --- reading cells -----------------------------------------------------------------

def _text(value) -> str:
    """A cell as text: whole numbers lose their ".0", everything is stripped."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return YES if value else NO
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    text = str(value).strip()
    if len(text) > xlsx.MAX_CELL_CHARS:
        raise _BadCell(_("A cell holds more than %(n)d characters.", n=xlsx.MAX_CELL_CHARS))
    return text


def _required_text(value, column: Column, limit: int = MAX_TEXT) -> str:
    text = _text(value)
    if not text:
        raise _BadCell(_("%(column)s is empty.", column=column.header))
    if len(text) > limit:
        raise _BadCell(_("%(column)s %(value)s is longer than %(n)d characters.",
                         column=column.header, value=text, n=limit))
    return text


def _area(value) -> Decimal:
    column = _BY_KEY["area"]
    shown = _text(value)
    if isinstance(value, bool):
        raise _BadCell(_("Area %(value)s is not a number.", value=shown))
    if isinstance(value, float):
        if not math.isfinite(value):
            raise _BadCell(_("Area %(value)s is not a number.", value=shown))
        number = Decimal(repr(value))  # shortest repr: 80.15 stays 80.15
    elif isinstance(value, (int, Decimal)):
        number = Decimal(value)
    else:
        if not shown:
            raise _BadCell(_("%(column)s is empty.", column=column.header))
        try:
            number = Decimal(shown)
        except InvalidOperation:
            raise _BadCell(_("Area %(value)s is not a number.", value=shown)) from None
        if not number.is_finite():
            raise _BadCell(_("Area %(value)s is not a number.", value=shown))
    if number < 0:
        raise _BadCell(_("Area %(value)s is negative.", value=shown))
    if number != number.quantize(Decimal("0.01")):
        raise _BadCell(_("Area %(value)s has more than two decimal places.", value=shown))
    if number > MAX_AREA:
        raise _BadCell(_("Area %(value)s is too large.", value=shown))
    return number.quantize(Decimal("0.01"))


def _adults(value) -> int:
    shown = _text(value)
    if not shown:
        return 0
    try:
        if isinstance(value, bool):
            raise ValueError
        number = int(shown)
    except ValueError:
        number = -1
    if not 0 <= number <= MAX_ADULTS:
        raise _BadCell(_("Adult residents %(value)s must be a whole number from 0 to %(n)d.",
                         value=shown, n=MAX_ADULTS))
    return number


def _unsold(value) -> bool:
    if isinstance(value, bool):
        return value
    token = _text(value).lower()
    if token in _TRUE:
        return True
    if token in _FALSE:
        return False
    raise _BadCell(_("%(column)s must be %(yes)s or %(no)s, not %(value)s.",
                     column=_BY_KEY["unsold"].header, yes=YES, no=NO, value=_text(value)))


def _names(value) -> list[str]:
    names = [part.strip() for part in SEPARATORS.split(_text(value))]
    names = [name for name in names if name]
    long = [name for name in names if len(name) > MAX_NAME]
    if long:
        raise _BadCell(_("Owner name %(value)s is longer than %(n)d characters.",
                         value=DISPLAY_SEPARATOR.join(long), n=MAX_NAME))
    return names


def _phones(value) -> list[Optional[str]]:
    """Phone slots in owner order; None for an owner without a phone; [] for a blank cell."""
    text = _text(value)
    if not text:
        return []
    slots: list[Optional[str]] = []
    wrong: list[str] = []
    for part in SEPARATORS.split(text):
        phone = _COUNTRY_CODE.sub("", re.sub(r"[\s\-()]", "", part))
        if not phone:
            slots.append(None)
            continue
        if not MOBILE.match(phone):
            wrong.append(part.strip())
        slots.append(phone)
    if wrong:  # every wrong number of the cell at once
        raise _BadCell(_("Mobile number %(value)s is not valid: 11 digits starting with 1.",
                         value=DISPLAY_SEPARATOR.join(wrong)))
    return slots


@dataclass(slots=True)
class _Row:
    number: int
    building: str
    unit: str
    room: str
    area: Decimal
    adults: int
    owners: list[tuple[str, Optional[str]]]
    unsold: bool
    org_code: Optional[str]


class _RowChecker:
    """Checks one row at a time and the rows against each other (no database)."""

    def __init__(self, positions: dict[str, int], report: ImportReport):
        self.positions = positions
        self.width = max(positions.values()) + 1  # rows are padded to reach every column
        self.report = report
        self.households: dict[tuple[str, str, str], int] = {}
        self.phone_names: dict[str, tuple[str, int]] = {}
        self.building_orgs: dict[str, tuple[str, int]] = {}
        self.labels: dict[str, str] = {}  # one shared str per repeated building/unit label

    def _cell(self, values: tuple, key: str):
        index = self.positions.get(key)
        return None if index is None else values[index]

    def _shared(self, text: str) -> str:
        return self.labels.setdefault(text, text)

    def check(self, number: int, values: tuple) -> Optional[_Row]:
        problems: list[str] = []
        if len(values) < self.width:
            values = values + (None,) * (self.width - len(values))

        def parse(fn, *args):
            try:
                return fn(*args)
            except _BadCell as bad:
                problems.append(bad.message)
                return None

        building = parse(_required_text, self._cell(values, "building"), _BY_KEY["building"])
        unit = parse(_required_text, self._cell(values, "unit"), _BY_KEY["unit"])
        room = parse(_required_text, self._cell(values, "room"), _BY_KEY["room"])
        area = parse(_area, self._cell(values, "area"))
        adults = parse(_adults, self._cell(values, "adults"))
        names = parse(_names, self._cell(values, "owner_names"))
        phones = parse(_phones, self._cell(values, "owner_phones"))
        unsold = parse(_unsold, self._cell(values, "unsold"))
        org_code = _text(self._cell(values, "org_code")) or None
        if org_code and len(org_code) > MAX_TEXT:
            problems.append(_("%(column)s %(value)s is longer than %(n)d characters.",
                              column=_BY_KEY["org_code"].header, value=org_code, n=MAX_TEXT))
        owners = self._owners(number, names, phones, unsold, problems)
        if building and unit and room:
            self._unique(number, building, unit, room, problems)
            if org_code:
                self._one_org_per_building(number, building, org_code, problems)
        for problem in problems:
            self.report.add_error(number, problem)
        if problems:
            return None
        return _Row(number, self._shared(building), self._shared(unit), room, area, adults, owners, unsold, org_code)

    def _owners(self, number, names, phones, unsold, problems) -> list[tuple[str, Optional[str]]]:
        if names is None or phones is None:
            return []
        if unsold and names:
            problems.append(_("An unsold household cannot have owners."))
        if phones and len(phones) != len(names):
            problems.append(_("%(owners)d owner names but %(phones)d phone numbers: give the phones in "
                              "the same order as the names.", owners=len(names), phones=len(phones)))
            return []
        slots = phones or [None] * len(names)
        seen: set[str] = set()
        for name, phone in zip(names, slots):
            if phone is None:
                continue
            if phone in seen:
                problems.append(_("Phone number %(phone)s appears twice in this row.", phone=phone))
                continue
            seen.add(phone)
            first = self.phone_names.setdefault(phone, (name, number))
            if first[0] != name:
                problems.append(_("Phone number %(phone)s belongs to %(other)s in row %(row)d, not %(name)s.",
                                  phone=phone, other=first[0], row=first[1], name=name))
        return list(zip(names, slots))

    def _unique(self, number, building, unit, room, problems) -> None:
        first = self.households.setdefault((building, unit, room), number)
        if first != number:
            problems.append(_("Household %(building)s %(unit)s %(room)s already appears in row %(row)d.",
                              building=building, unit=unit, room=room, row=first))

    def _one_org_per_building(self, number, building, org_code, problems) -> None:
        first = self.building_orgs.setdefault(building, (org_code, number))
        if first[0] != org_code:
            problems.append(_("Building %(building)s is given org %(code)s here but %(other)s in row %(row)d.",
                              building=building, code=org_code, other=first[0], row=first[1]))


def _seekable(fileobj: IO[bytes]) -> IO[bytes]:
    try:
        if fileobj.seekable():
            return fileobj
    except (AttributeError, ValueError):
        pass
    return io.BytesIO(fileobj.read())


def _is_empty(fileobj: IO[bytes]) -> bool:
    start = fileobj.tell()
    fileobj.seek(0, io.SEEK_END)
    empty = fileobj.tell() == start
    fileobj.seek(start)
    return empty


def _guarded(rows: Iterable[tuple]) -> Iterator[tuple]:
    """openpyxl parses lazily in read-only mode: a broken sheet fails mid-way."""
    try:
        yield from rows
    except Exception as err:  # noqa: BLE001 - any parse failure means "not a readable workbook"
        raise _Unreadable(str(err)) from err


def _row_count(workbook, sheet) -> Optional[int]:
    """Rows in the sheet, for the progress bar: the sheet's own dimension when it has
    one (Excel and WPS write it), else a count of <row> elements in its XML (one
    quick pass without parsing; openpyxl's write-only mode writes no dimension)."""
    if sheet.max_row:
        return sheet.max_row
    try:
        with workbook._archive.open(sheet._worksheet_path) as source:
            count = 0
            carry = b""
            while chunk := source.read(1 << 20):
                data = carry + chunk
                count += len(_ROW_TAG.findall(data))
                carry = data[-4:]  # shorter than a match: nothing is counted twice
        return count or None
    except Exception:  # noqa: BLE001 - only an estimate for the progress bar
        return None


def _not_a_workbook() -> str:
    return _("The file is not an .xlsx workbook that can be read. Save it as an Excel workbook (.xlsx) and "
             "upload it again.")


def _open_workbook(fileobj: IO[bytes], report: ImportReport):
    """The workbook in openpyxl's read-only mode, or None with the reason in the report."""
    fileobj = _seekable(fileobj)
    if _is_empty(fileobj):
        report.add_error(None, _("The file is empty."))
        return None
    try:
        xlsx.check_workbook(fileobj)
    except xlsx.Refused as refused:
        report.add_error(None, _("The workbook is too large when unpacked.") if refused.reason == "too_large" else
                         _("Cell %(cell)s holds a formula without a saved value: open the file in Excel or WPS, "
                           "save it, or paste the values only, and upload it again.", cell=refused.where))
        return None
    try:
        return load_workbook(fileobj, read_only=True, data_only=True)
    except Exception:  # noqa: BLE001 - zip, XML, content-type errors: all mean the same to the user
        report.add_error(None, _not_a_workbook())
        return None


def _read(fileobj: IO[bytes], report: ImportReport, progress: Optional[Progress]) -> list[_Row]:
    """Read and check every row; problems go into the report."""
    workbook = _open_workbook(fileobj, report)
    if workbook is None:
        return []
    try:
        return _read_sheet(workbook, report, progress)
    except _Unreadable:
        report.add_error(None, _not_a_workbook())
        return []
    finally:
        workbook.close()


def _blank(values: tuple) -> bool:
    return all(value is None or (isinstance(value, str) and not value.strip()) for value in values)


def _rows_after_header(workbook, report: ImportReport) -> tuple[Iterator[tuple], int, Optional[dict[str, int]]]:
    """The first sheet read up to its header (the first row that is not blank): the rows
    that follow, the header's row number and the column positions, which are None when
    there is no usable header (the reason is then in the report)."""
    if not workbook.worksheets:
        report.add_error(None, _("The file is empty."))
        return iter(()), 0, None
    sheet = workbook.worksheets[0]
    sheet.reset_dimensions()  # never trust a stale <dimension>: it would cut rows or columns off
    rows = _guarded(sheet.iter_rows(values_only=True))
    number = 0
    for values in rows:
        number += 1
        if not _blank(values):
            return rows, number, _header(values, report)
    report.add_error(None, _("The file is empty."))
    return rows, number, None


def _read_sheet(workbook, report: ImportReport, progress: Optional[Progress]) -> list[_Row]:
    total = _row_count(workbook, workbook.worksheets[0]) if workbook.worksheets else None
    rows, number, positions = _rows_after_header(workbook, report)
    if positions is None:
        return []
    data_total = total - number if total else None
    if progress:
        progress(READ, 0, data_total)
    checker = _RowChecker(positions, report)
    parsed: list[_Row] = []
    for values in rows:
        number += 1
        if _blank(values):
            continue
        report.rows += 1
        if report.rows > MAX_ROWS:
            report.add_error(None, _("The file has more than %(n)d household rows; split it by building.",
                                     n=MAX_ROWS))
            return []
        row = checker.check(number, values)
        if row is not None and report.ok:
            parsed.append(row)
        if progress and report.rows % 1000 == 0:
            progress(READ, report.rows, data_total)
    if progress:
        progress(READ, report.rows, report.rows)
    if report.rows == 0:
        report.add_error(None, _("The sheet has a header but no household rows."))
    return parsed if report.ok else []


def _header(values: tuple, report: ImportReport) -> Optional[dict[str, int]]:
    positions: dict[str, int] = {}
    for index, value in enumerate(values):
        key = _HEADER_KEYS.get(_header_token(_text(value)))
        if key is not None:
            positions.setdefault(key, index)
    missing = [column.header for column in COLUMNS if column.required and column.key not in positions]
    if missing:
        report.add_error(None, _("Missing columns: %(columns)s. The first row must hold the column headers "
                                 "of the template.", columns=DISPLAY_SEPARATOR.join(missing)))
        return None
    return positions
