"""Roster import and export: the households of one estate as an .xlsx workbook.

Layout (one workbook, the first worksheet is read; row 1 is the header, then one
row per household; columns are found by their header, in any order, and columns
not listed here are ignored):

=================  ==============  ========  ==============================================
header             key             required  content
=================  ==============  ========  ==============================================
楼栋                building        yes       building number, e.g. 3号楼
单元                unit            yes       stairwell unit, e.g. 2单元
房号                room            yes       room, e.g. 501
专有部分面积(㎡)     area            yes       registered exclusive area, >= 0, at most 2 decimals
成年居民数          adults          yes       adult residents, a whole number 0-999 (blank = 0)
业主姓名            owner_names     yes       owners, separated by 、 , ， ; or ； (blank = none)
业主手机号          owner_phones    yes       the owners' phones in the same order (blank = none;
                                             an empty slot, as in "13800000001、", means that
                                             owner has no phone)
是否未售            unsold          yes       是 / 否 (blank = 否); an unsold household has no owners
负责楼院党小组编码   org_code        no        code of the org node (usually a building Party
                                             group) answering for the row's building
=================  ==============  ========  ==============================================

The headers and the 是/否 values are the file format, not interface text: they
stay the same whatever language the interface speaks (the English keys above are
accepted as headers too), so a file exported by anyone imports for everyone.
`write_template()` writes the empty layout plus a sheet explaining each column.

What an import does:
- Buildings and units are created as needed. A household is identified by
  (building, unit, room): a new one is created, an existing one is updated (area,
  adult residents, unsold, owners) and one that is not in the file is left alone.
  Exporting and importing the export again changes nothing.
- Owners with a phone are matched by phone across the whole system, so a person
  who owns several households is one person (a phone already registered under a
  different name is an error). Owners without a phone are matched by name among
  the household's current owners, else created; give a phone to make a person who
  owns several households one person.
- A blank org code leaves an existing building's org as it is; a code must name
  an org node at or under the estate's own org node.
- Every row is checked before anything is written. Any bad row means nothing is
  imported; the report lists every bad row with its row number and the reason.
  The writes are one transaction, with bulk inserts and updates.

`export_roster()` writes the same layout (openpyxl write-only mode), so an
export imports back unchanged.

The web page does not import in the request: `queue_import()` checks the file
cheaply, stores it (core.storage) and queues a job (orgs.models.RosterImport);
`run_import_job()` runs it later, in a thread of the web process or from
`flask roster run-jobs`, and writes its progress and outcome to the job row.
"""
from __future__ import annotations

import io
import math
import os
import re
import threading
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import IO, Callable, Iterable, Iterator, Optional

from flask import current_app
from flask_babel import force_locale, get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from openpyxl import Workbook, load_workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font
from sqlalchemy import bindparam, delete, func, insert, select
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import joinedload

from core import storage
from core.db import in_write_transaction, is_sqlite, lock, utcnow, write_transaction
from core.errors import DomainError, NotFound, StaleVersion, ValidationError
from core.extensions import db
from orgs import permissions
from orgs.models import Building, Estate, Household, HouseholdPerson, OrgNode, Person, RosterImport, StairwellUnit

# (stage, done, total): stage is READ while rows are read and checked, WRITE while
# households are written; total is None when the sheet does not say its size.
Progress = Callable[[str, int, Optional[int]], None]
READ = "read"
WRITE = "write"

YES = "是"
NO = "否"
SEPARATORS = re.compile(r"[、,，;；]")
DISPLAY_SEPARATOR = "、"
PHONE = re.compile(r"^\+?\d{5,19}$")  # fits person.phone, String(20)
_ROW_TAG = re.compile(rb"<row[ >]")
MAX_ROWS = 200_000
MAX_AREA = Decimal("99999999.99")  # Numeric(10, 2)
MAX_ADULTS = 999
MAX_TEXT = 40  # building, unit, room and org code columns
MAX_NAME = 80
MAX_ERRORS = 10_000  # a file of nothing but bad rows still gives a bounded report
CHUNK = 500  # ids per IN (...) query
WRITE_BATCH = 5_000
SQLITE_CACHE_KIB = 128 * 1024
_TRUE = {"是", "y", "yes", "true", "1", "未售"}
_FALSE = {"否", "n", "no", "false", "0", "已售", ""}


@dataclass(frozen=True)
class Column:
    key: str
    header: str  # file format (see the module docstring), not interface text
    required: bool
    description: object  # lazy string
    example: str
    width: int


COLUMNS: tuple[Column, ...] = (
    Column("building", "楼栋", True, _l("Building number."), "1号楼", 10),
    Column("unit", "单元", True, _l("Stairwell unit."), "1单元", 8),
    Column("room", "房号", True, _l("Room number."), "101", 8),
    Column("area", "专有部分面积(㎡)", True,
           _l("Registered exclusive area in square metres: zero or more, at most two decimals."), "89.50", 16),
    Column("adults", "成年居民数", True, _l("Adult residents: a whole number (blank counts as 0)."), "2", 10),
    Column("owner_names", "业主姓名", True,
           _l("Owners' names, several separated by 、 or a comma; blank if not known."), "张三、李四", 18),
    Column("owner_phones", "业主手机号", True,
           _l("Owners' mobile phones in the same order as the names; an owner with a phone who owns "
              "several households is one person."), "13800000001、13800000002", 28),
    Column("unsold", "是否未售", True,
           _l("是 if the developer has not sold the household yet (it then has no owners), else 否."), NO, 10),
    Column("org_code", "负责楼院党小组编码", False,
           _l("Optional: code of the building Party group answering for the building; blank keeps "
              "the current one."), "", 20),
)
_BY_KEY = {column.key: column for column in COLUMNS}


def _header_token(text: str) -> str:
    """Header as compared: no spaces, half-width brackets, no bracketed unit, lower case."""
    text = re.sub(r"\s+", "", text).replace("（", "(").replace("）", ")")
    return re.sub(r"\(.*?\)", "", text).lower()


_HEADER_KEYS = {_header_token(column.header): column.key for column in COLUMNS}
_HEADER_KEYS.update({column.key: column.key for column in COLUMNS})


# --- the report --------------------------------------------------------------------

@dataclass
class RowError:
    """One problem: `row` is the spreadsheet row number, None for the file as a whole."""

    row: Optional[int]
    message: str

    def __str__(self) -> str:
        if self.row is None:
            return self.message
        return _("Row %(row)d: %(message)s", row=self.row, message=self.message)


@dataclass
class ImportReport:
    estate_code: str
    rows: int = 0
    buildings_created: int = 0
    buildings_updated: int = 0
    units_created: int = 0
    households_created: int = 0
    households_updated: int = 0
    households_unchanged: int = 0
    people_created: int = 0
    errors: list[RowError] = field(default_factory=list)
    errors_total: int = 0  # may exceed len(errors) (see MAX_ERRORS)

    @property
    def ok(self) -> bool:
        return self.errors_total == 0

    def add_error(self, row: Optional[int], message: str) -> None:
        self.errors_total += 1
        if len(self.errors) < MAX_ERRORS:
            self.errors.append(RowError(row, message))

    def counts(self) -> dict[str, int]:
        """What was written, by kind (what the page shows beside the summary)."""
        return {
            "rows": self.rows,
            "households_created": self.households_created,
            "households_updated": self.households_updated,
            "households_unchanged": self.households_unchanged,
            "buildings_created": self.buildings_created,
            "buildings_updated": self.buildings_updated,
            "units_created": self.units_created,
            "people_created": self.people_created,
        }

    @property
    def bad_rows(self) -> list[int]:
        return sorted({e.row for e in self.errors if e.row is not None})

    def summary(self) -> str:
        if not self.ok:
            return _(
                "Nothing was imported: %(n)d problems were found. Correct the file and import it again.",
                n=self.errors_total,
            )
        return _(
            "Imported %(rows)d rows: %(created)d new households, %(updated)d updated, %(unchanged)d "
            "unchanged; %(buildings)d new buildings, %(units)d new units, %(people)d new owners.",
            rows=self.rows,
            created=self.households_created,
            updated=self.households_updated,
            unchanged=self.households_unchanged,
            buildings=self.buildings_created,
            units=self.units_created,
            people=self.people_created,
        )

    def lines(self) -> list[str]:
        """The summary, then one line per problem."""
        return [self.summary()] + [str(error) for error in self.errors]


class _Rejected(Exception):
    """Checks against the database found bad rows: roll back the (empty) transaction."""


class _Unreadable(Exception):
    """openpyxl could not read the workbook."""


class _BadCell(Exception):
    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


# --- shared helpers ----------------------------------------------------------------

def _estate_for(actor, estate_code: str, action: str) -> Estate:
    estate = db.session.scalar(select(Estate).where(Estate.code == (estate_code or "").strip()))
    if estate is None:
        raise NotFound(_("No estate with code %(code)s.", code=estate_code))
    permissions.require(actor, action, estate)
    return estate


def _sort_key(text: str) -> int:
    """The first number in a label ("12号楼" -> 12), for ordering; 0 without one."""
    match = re.search(r"\d+", text)
    return min(int(match.group()), 2_000_000_000) if match else 0


def _chunks(items: list, size: int = CHUNK) -> Iterator[list]:
    for start in range(0, len(items), size):
        yield items[start:start + size]


# --- reading cells -----------------------------------------------------------------

def _text(value) -> str:
    """A cell as text: whole numbers lose their ".0", everything is stripped."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return YES if value else NO
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


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
    for name in names:
        if len(name) > MAX_NAME:
            raise _BadCell(_("Owner name %(value)s is longer than %(n)d characters.", value=name, n=MAX_NAME))
    return names


def _phones(value) -> list[Optional[str]]:
    """Phone slots in owner order; None for an owner without a phone; [] for a blank cell."""
    text = _text(value)
    if not text:
        return []
    slots: list[Optional[str]] = []
    for part in SEPARATORS.split(text):
        phone = re.sub(r"[\s\-()]", "", part)
        if not phone:
            slots.append(None)
            continue
        if not PHONE.match(phone):
            raise _BadCell(_("Phone number %(value)s is not valid.", value=part.strip()))
        slots.append(phone)
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


# --- checks against the database and writing --------------------------------------

class _Import:
    """Inside the write transaction: look everything up in a few queries, check the
    rows against the database, then write with bulk statements."""

    def __init__(self, actor, estate: Estate, rows: list[_Row], report: ImportReport,
                 progress: Optional[Progress]):
        self.actor = actor
        self.estate_id = estate.id
        self.estate_path = estate.path
        self.rows = rows
        self.report = report
        self.progress = progress

    # lookups
    def load(self) -> None:
        self.orgs = self._orgs({row.org_code for row in self.rows if row.org_code})
        self.buildings = {
            number: (bid, org_id, path)
            for bid, number, org_id, path in db.session.execute(
                select(Building.id, Building.number, Building.org_id, Building.path)
                .where(Building.estate_id == self.estate_id)
            )
        }
        self.units = {
            (building_id, number): (uid, path)
            for uid, building_id, number, path in db.session.execute(
                select(StairwellUnit.id, StairwellUnit.building_id, StairwellUnit.number, StairwellUnit.path)
                .join(Building, StairwellUnit.building_id == Building.id)
                .where(Building.estate_id == self.estate_id)
            )
        }
        self.households = {
            (unit_id, room): (hid, area, adults, unsold)
            for hid, unit_id, room, area, adults, unsold in db.session.execute(
                select(Household.id, Household.unit_id, Household.room, Household.area,
                       Household.adult_count, Household.unsold)
                .where(Household.estate_id == self.estate_id)
            )
        }
        self.owners: dict[int, list[tuple[int, str, Optional[str]]]] = {}
        for hid, pid, name, phone in db.session.execute(
            select(HouseholdPerson.household_id, Person.id, Person.name, Person.phone)
            .join(Person, HouseholdPerson.person_id == Person.id)
            .join(Household, HouseholdPerson.household_id == Household.id)
            .where(Household.estate_id == self.estate_id, HouseholdPerson.relation == "owner")
            .order_by(HouseholdPerson.household_id, Person.id)
        ):
            self.owners.setdefault(hid, []).append((pid, name, phone))
        phones = sorted({phone for row in self.rows for _name, phone in row.owners if phone})
        self.people_by_phone: dict[str, tuple[int, str]] = {}
        for chunk in _chunks(phones):
            for pid, name, phone in db.session.execute(
                select(Person.id, Person.name, Person.phone).where(Person.phone.in_(chunk))
            ):
                self.people_by_phone[phone] = (pid, name)

    def _orgs(self, codes: set[str]) -> dict[str, OrgNode]:
        found: dict[str, OrgNode] = {}
        for chunk in _chunks(sorted(codes)):
            for node in db.session.scalars(select(OrgNode).where(OrgNode.code.in_(chunk))):
                found[node.code] = node
        return found

    # checks
    def check(self) -> None:
        report = self.report
        for row in self.rows:
            if row.org_code:
                node = self.orgs.get(row.org_code)
                if node is None or not permissions.can_see(self.actor, node):
                    report.add_error(row.number, _("Unknown org code %(code)s.", code=row.org_code))
                elif not node.path.startswith(self.estate_path):
                    report.add_error(row.number, _("Org %(code)s (%(name)s) does not belong to this estate's "
                                                   "org tree.", code=row.org_code, name=node.name))
            for name, phone in row.owners:
                known = self.people_by_phone.get(phone) if phone else None
                if known is not None and known[1] != name:
                    report.add_error(row.number, _("Phone number %(phone)s is already registered under another "
                                                   "name, not %(name)s.", phone=phone, name=name))

    # writing
    def write(self) -> None:
        building_refs = self._write_buildings()
        unit_refs = self._write_units(building_refs)
        self._write_households(unit_refs)

    def _building_path(self, org_code: Optional[str], current: Optional[tuple]) -> tuple[Optional[int], str]:
        if org_code:
            node = self.orgs[org_code]
            return node.id, node.path
        if current is not None:
            return current[1], current[2]
        return None, self.estate_path

    def _write_buildings(self) -> dict[str, tuple[int, str, bool]]:
        """building number -> (id, path, moved to another org)."""
        org_for: dict[str, Optional[str]] = {}
        for row in self.rows:
            if row.org_code or row.building not in org_for:
                org_for[row.building] = row.org_code
        refs: dict[str, tuple[int, str, bool]] = {}
        new: list[dict] = []
        moved: list[dict] = []
        for number, org_code in org_for.items():
            current = self.buildings.get(number)
            org_id, path = self._building_path(org_code, current)
            if current is None:
                new.append({"estate_id": self.estate_id, "number": number, "org_id": org_id,
                            "sort_key": _sort_key(number), "path": path})
            elif (org_id, path) != (current[1], current[2]):
                moved.append({"b_id": current[0], "b_org_id": org_id, "b_path": path})
                refs[number] = (current[0], path, True)
            else:
                refs[number] = (current[0], path, False)
        for values, bid in zip(new, self._insert_returning(Building, new)):
            refs[values["number"]] = (bid, values["path"], False)
        if moved:
            self._move_buildings(moved)
        self.report.buildings_created = len(new)
        self.report.buildings_updated = len(moved)
        return refs

    def _move_buildings(self, moved: list[dict]) -> None:
        """A building given another org: it, its units and its households take the org's path."""
        building = Building.__table__
        unit = StairwellUnit.__table__
        household = Household.__table__
        execute = db.session.connection().execute
        execute(building.update().where(building.c.id == bindparam("b_id"))
                .values(org_id=bindparam("b_org_id"), path=bindparam("b_path")), moved)
        execute(unit.update().where(unit.c.building_id == bindparam("b_id"))
                .values(path=bindparam("b_path")), moved)
        units_of_building = select(unit.c.id).where(unit.c.building_id == bindparam("b_id")).scalar_subquery()
        execute(household.update().where(household.c.unit_id.in_(units_of_building))
                .values(path=bindparam("b_path")), moved)

    def _write_units(self, building_refs) -> dict[tuple[str, str], tuple[int, str]]:
        """(building number, unit number) -> (unit id, path)."""
        refs: dict[tuple[str, str], tuple[int, str]] = {}
        new: dict[tuple[str, str], dict] = {}
        for row in self.rows:
            key = (row.building, row.unit)
            if key in refs or key in new:
                continue
            bid, path, moved = building_refs[row.building]
            current = self.units.get((bid, row.unit))
            if current is None:
                new[key] = {"building_id": bid, "number": row.unit, "sort_key": _sort_key(row.unit), "path": path}
            else:
                refs[key] = (current[0], path if moved else current[1])
        values = list(new.values())
        for key, unit, uid in zip(new, values, self._insert_returning(StairwellUnit, values)):
            refs[key] = (uid, unit["path"])
        self.report.units_created = len(new)
        return refs

    def _insert_returning(self, model, rows: list[dict]) -> list[int]:
        """Bulk INSERT; returns the new ids in the order of `rows`.

        PostgreSQL: INSERT ... RETURNING in batches (SQLAlchemy's insertmanyvalues,
        ordered by the serial column). SQLite cannot order a multi-row RETURNING, so
        SQLAlchemy would fall back to one statement per row; instead the ids are
        given explicitly from max(id) + 1: the IMMEDIATE write transaction holds the
        database write lock, so no one else can take them, and the tables are not
        AUTOINCREMENT tables (SQLite itself would choose max(rowid) + 1 too).
        """
        if not rows:
            return []
        table = model.__table__
        connection = db.session.connection()
        if not is_sqlite():
            statement = table.insert().returning(table.c.id, sort_by_parameter_order=True)
            return [row_id for (row_id,) in connection.execute(statement, rows)]
        first = (connection.execute(select(func.max(table.c.id))).scalar() or 0) + 1
        ids = list(range(first, first + len(rows)))
        for row_id, row in zip(ids, rows):
            row["id"] = row_id
        connection.execute(table.insert(), rows)
        return ids

    def _resolve_owners(self, existing: list[Optional[tuple]]) -> tuple[list[list[int]], list[dict], list[dict]]:
        """Person references for every row's owners: a person id (> 0), or -(i + 1) for
        the i-th new person. Also returns the new people and the phone adoptions (an
        existing phoneless owner of the household, same name, gets the row's phone)."""
        known = {phone: pid for phone, (pid, _name) in self.people_by_phone.items()}
        adopted_ids: set[int] = set()
        adoptions: list[dict] = []
        for row, current in zip(self.rows, existing):
            if current is None:
                continue
            for name, phone in row.owners:
                if not phone or phone in known:
                    continue
                for pid, owner_name, owner_phone in self.owners.get(current[0], ()):
                    if owner_phone is None and owner_name == name and pid not in adopted_ids:
                        known[phone] = pid
                        adopted_ids.add(pid)
                        adoptions.append({"p_id": pid, "p_phone": phone})
                        break
        new_people: list[dict] = []
        refs_per_row: list[list[int]] = []
        for row, current in zip(self.rows, existing):
            unused = list(self.owners.get(current[0], ())) if current else []
            refs: list[Optional[int]] = [None] * len(row.owners)
            for slot, (name, phone) in enumerate(row.owners):
                if not phone:
                    continue
                ref = known.get(phone)
                if ref is None:
                    new_people.append({"name": name, "phone": phone})
                    ref = known[phone] = -len(new_people)
                refs[slot] = ref
                unused = [owner for owner in unused if owner[0] != ref]
            for slot, (name, phone) in enumerate(row.owners):
                if phone:
                    continue
                match = next((owner for owner in unused if owner[1] == name), None)
                if match is not None:
                    unused.remove(match)
                    refs[slot] = match[0]
                else:
                    new_people.append({"name": name, "phone": None})
                    refs[slot] = -len(new_people)
            refs_per_row.append(refs)  # type: ignore[arg-type]
        return refs_per_row, new_people, adoptions

    def _write_households(self, unit_refs) -> None:
        report = self.report
        existing = [
            self.households.get((unit_refs[(row.building, row.unit)][0], row.room)) for row in self.rows
        ]
        refs_per_row, new_people, adoptions = self._resolve_owners(existing)
        new_ids = self._insert_returning(Person, new_people)
        report.people_created = len(new_people)
        if adoptions:
            person = Person.__table__
            db.session.connection().execute(
                person.update().where(person.c.id == bindparam("p_id")).values(phone=bindparam("p_phone")),
                adoptions,
            )
        adopted = {item["p_id"] for item in adoptions}

        def person_id(ref: int) -> int:
            return ref if ref > 0 else new_ids[-ref - 1]

        total = len(self.rows)
        new_rows: list[tuple[_Row, list[int]]] = []
        changed: list[dict] = []
        relinked: dict[int, list[int]] = {}
        for row, current, refs in zip(self.rows, existing, refs_per_row):
            owner_ids = [person_id(ref) for ref in refs]
            if current is None:
                new_rows.append((row, owner_ids))
                continue
            hid, area, adults, unsold = current
            before = {pid for pid, _name, _phone in self.owners.get(hid, ())}
            fields_changed = (area, adults, unsold) != (row.area, row.adults, row.unsold)
            owners_changed = before != set(owner_ids)
            if fields_changed:
                changed.append({"h_id": hid, "h_area": row.area, "h_adults": row.adults, "h_unsold": row.unsold})
            if owners_changed:
                relinked[hid] = owner_ids
            if fields_changed or owners_changed or before & adopted:
                report.households_updated += 1
            else:
                report.households_unchanged += 1
        done = report.households_updated + report.households_unchanged
        links: list[dict] = []
        for batch in _chunks(new_rows, WRITE_BATCH):
            values = [
                {"unit_id": unit_refs[(row.building, row.unit)][0], "estate_id": self.estate_id, "room": row.room,
                 "sort_key": _sort_key(row.room), "area": row.area, "adult_count": row.adults,
                 "unsold": row.unsold, "path": unit_refs[(row.building, row.unit)][1]}
                for row, _owners in batch
            ]
            for hid, (_row, owner_ids) in zip(self._insert_returning(Household, values), batch):
                links.extend({"household_id": hid, "person_id": pid, "relation": "owner"} for pid in owner_ids)
            done += len(batch)
            if self.progress:
                self.progress(WRITE, done, total)
        report.households_created = len(new_rows)
        self._update_households(changed)
        self._relink(relinked, links)
        if self.progress:
            self.progress(WRITE, total, total)

    def _update_households(self, changed: list[dict]) -> None:
        if not changed:
            return
        household = Household.__table__
        db.session.connection().execute(
            household.update().where(household.c.id == bindparam("h_id")).values(
                area=bindparam("h_area"), adult_count=bindparam("h_adults"), unsold=bindparam("h_unsold")
            ),
            changed,
        )

    def _relink(self, relinked: dict[int, list[int]], links: list[dict]) -> None:
        """Replace the owner links of changed households; add those of new ones."""
        link = HouseholdPerson.__table__
        connection = db.session.connection()
        for chunk in _chunks(list(relinked)):
            connection.execute(delete(link).where(link.c.household_id.in_(chunk), link.c.relation == "owner"))
        for hid, owner_ids in relinked.items():
            links.extend({"household_id": hid, "person_id": pid, "relation": "owner"} for pid in owner_ids)
        for batch in _chunks(links, WRITE_BATCH * 2):
            connection.execute(insert(link), batch)


@contextmanager
def _sqlite_page_cache(kib: int) -> Iterator[None]:
    """A larger page cache on SQLite for one bulk write, restored afterwards: with the
    default 2 MB the transaction's index pages spill to the WAL again and again
    (measured on 100,000 households: writing took 9.7 s with it, 6.3 s with 128 MB)."""
    if not is_sqlite():
        yield
        return
    connection = db.session.connection()
    previous = int(connection.exec_driver_sql("PRAGMA cache_size").scalar())
    connection.exec_driver_sql(f"PRAGMA cache_size=-{int(kib)}")
    try:
        yield
    finally:
        connection.exec_driver_sql(f"PRAGMA cache_size={previous}")


def import_roster(actor, estate_code: str, fileobj: IO[bytes], progress: Optional[Progress] = None) -> ImportReport:
    """Import the roster of one estate from an .xlsx file (layout: module docstring).

    The actor needs "roster.import" on the estate (NotFound outside their
    jurisdiction, NotPermitted inside it). Returns the report; when it is not ok
    nothing was written.
    """
    estate = _estate_for(actor, estate_code, "roster.import")
    report = ImportReport(estate_code=estate.code)
    rows = _read(fileobj, report, progress)
    if not report.ok:
        return report
    job = _Import(actor, estate, rows, report, progress)
    if progress:
        progress(WRITE, 0, len(rows))  # before the write transaction: it may wait for the estate's lock
    try:
        with write_transaction(), _sqlite_page_cache(SQLITE_CACHE_KIB):
            lock(Estate, job.estate_id)  # one import per estate at a time
            job.load()
            job.check()
            if not report.ok:
                raise _Rejected
            job.write()
    except _Rejected:
        pass
    except IntegrityError:
        raise StaleVersion(_("The roster was changed by someone else during the import. Nothing was "
                             "imported; please import the file again.")) from None
    return report


# --- export and template -------------------------------------------------------------

def _workbook_with_header() -> tuple[Workbook, object]:
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(_("Roster"))
    for index, column in enumerate(COLUMNS):
        sheet.column_dimensions[chr(ord("A") + index)].width = column.width
    bold = Font(bold=True)
    header = []
    for column in COLUMNS:
        cell = WriteOnlyCell(sheet, value=column.header)
        cell.font = bold
        header.append(cell)
    sheet.append(header)
    return workbook, sheet


def export_roster(actor, estate_code: str, fileobj: IO[bytes]) -> int:
    """Write the estate's households to `fileobj` as .xlsx in the import layout.

    The actor needs "roster.export" on the estate. Returns the number of rows written.
    """
    estate = _estate_for(actor, estate_code, "roster.export")
    owners: dict[int, list[tuple[str, Optional[str]]]] = {}
    for hid, name, phone in db.session.execute(
        select(HouseholdPerson.household_id, Person.name, Person.phone)
        .join(Person, HouseholdPerson.person_id == Person.id)
        .join(Household, HouseholdPerson.household_id == Household.id)
        .where(Household.estate_id == estate.id, HouseholdPerson.relation == "owner")
        .order_by(HouseholdPerson.household_id, Person.id)
    ):
        owners.setdefault(hid, []).append((name, phone))
    org_codes = dict(db.session.execute(
        select(Building.id, OrgNode.code).join(OrgNode, Building.org_id == OrgNode.id)
        .where(Building.estate_id == estate.id)
    ).all())
    workbook, sheet = _workbook_with_header()
    rows = db.session.execute(
        select(Building.id, Building.number, StairwellUnit.number, Household.id, Household.room, Household.area,
               Household.adult_count, Household.unsold)
        .join(StairwellUnit, Household.unit_id == StairwellUnit.id)
        .join(Building, StairwellUnit.building_id == Building.id)
        .where(Household.estate_id == estate.id)
        .order_by(Building.sort_key, Building.number, StairwellUnit.sort_key, StairwellUnit.number,
                  Household.sort_key, Household.room)
        .execution_options(yield_per=5000)
    )
    count = 0
    for bid, building, unit, hid, room, area, adults, unsold in rows:
        people = owners.get(hid, [])
        phones = DISPLAY_SEPARATOR.join(phone or "" for _name, phone in people) if any(
            phone for _name, phone in people) else ""
        area_cell = WriteOnlyCell(sheet, value=area)
        area_cell.number_format = "0.00"
        sheet.append([
            building, unit, room, area_cell, adults,
            DISPLAY_SEPARATOR.join(name for name, _phone in people), phones,
            YES if unsold else NO, org_codes.get(bid, ""),
        ])
        count += 1
    workbook.save(fileobj)
    return count


def write_template(fileobj: IO[bytes]) -> None:
    """The empty layout, plus a second sheet that explains each column."""
    workbook, _sheet = _workbook_with_header()
    notes = workbook.create_sheet(_("Instructions"))
    for letter, width in zip("ABCD", (20, 10, 70, 26)):
        notes.column_dimensions[letter].width = width
    notes.append([_("Column"), _("Required"), _("Content"), _("Example")])
    for column in COLUMNS:
        notes.append([column.header, YES if column.required else NO, str(column.description), column.example])
    notes.append([])
    for line in (
        _("One row per household; the first row of the first sheet holds the column headers."),
        _("Buildings and units are created as needed; a household already in the system (same building, "
          "unit and room) is updated, and households missing from the file are left alone."),
        _("If any row is wrong nothing is imported, and every wrong row is listed with the reason."),
    ):
        notes.append([line])
    workbook.save(fileobj)


# --- import jobs: the web page's imports, run outside the request ---------------------

QUEUED, RUNNING, DONE, FAILED, STALE = "queued", "running", "done", "failed", "stale"
JOB_PROGRESS_ROWS = 5_000  # rows between two progress writes to the job row
JOB_ERRORS = 1_000  # problems kept on the job row and shown (the CLI import prints them all)
STALE_MINUTES = 15  # default of ROSTER_IMPORT_STALE_MINUTES
UPLOAD_CHECK_ROWS = 1_000  # blank rows after the header the upload check looks through
_one_job_at_a_time = threading.Lock()  # per process, for the jobs run in threads


class FileRefused(ValidationError):
    """The uploaded file cannot be imported at all; `report` says why. No job was queued."""

    def __init__(self, report: ImportReport):
        super().__init__(report.summary(), errors=[str(error) for error in report.errors])
        self.report = report


def _check_upload(fileobj: IO[bytes], report: ImportReport) -> None:
    """What is cheap to find out before a job is queued: the file is a readable .xlsx
    workbook, its first sheet has the required column headers, and a household row
    follows them (when the first UPLOAD_CHECK_ROWS rows after the header are all blank,
    the job decides). Opening the workbook is the cost: small for files saved by Excel
    or WPS; for a sheet that does not state its size (openpyxl's write-only output, so
    this module's export) openpyxl reads the sheet once to size it, about 2 s per
    100,000 rows."""
    workbook = _open_workbook(fileobj, report)
    if workbook is None:
        return
    try:
        rows, _number, positions = _rows_after_header(workbook, report)
        if positions is None:
            return
        for checked, values in enumerate(rows):
            if not _blank(values) or checked >= UPLOAD_CHECK_ROWS:
                return
        report.add_error(None, _("The sheet has a header but no household rows."))
    except _Unreadable:
        report.add_error(None, _not_a_workbook())
    finally:
        workbook.close()


def _shown_filename(filename: str) -> str:
    """The uploaded file's own name, without any folder a browser sent along."""
    name = os.path.basename((filename or "").replace("\\", "/")).strip()
    return name[:255] or "roster.xlsx"


def queue_import(actor, estate_code: str, filename: str, data: bytes) -> RosterImport:
    """Check the file cheaply, store it (core.storage) and queue a job that imports it
    into the estate as `actor`, writing its report in the interface language of now.

    The actor needs "roster.import" on the estate (NotFound outside their jurisdiction,
    NotPermitted inside it); FileRefused when the file cannot be imported at all.
    """
    estate = _estate_for(actor, estate_code, "roster.import")
    report = ImportReport(estate_code=estate.code)
    _check_upload(io.BytesIO(data), report)
    if not report.ok:
        raise FileRefused(report)
    job = RosterImport(estate_id=estate.id, person_id=actor.id, filename=_shown_filename(filename),
                       sha256=storage.put(data), size=len(data), locale=str(get_locale()), status=QUEUED,
                       rows_done=0, errors_total=0)
    with write_transaction(expire_on_commit=False, keep=(actor,)):
        db.session.add(job)
    return job


def stale_before(now: Optional[datetime] = None) -> datetime:
    """Queued or running jobs without a sign of life since then are taken as dead."""
    minutes = current_app.config.get("ROSTER_IMPORT_STALE_MINUTES", STALE_MINUTES)
    return (now or utcnow()) - timedelta(minutes=minutes)


def stale_message() -> str:
    return _("The import stopped without finishing: no sign of progress for %(minutes)d minutes. Nothing was "
             "imported; please upload the file again.",
             minutes=current_app.config.get("ROSTER_IMPORT_STALE_MINUTES", STALE_MINUTES))


def recent_imports(estate_id: int, limit: int = 10) -> list[RosterImport]:
    return list(db.session.scalars(
        select(RosterImport).options(joinedload(RosterImport.person))
        .where(RosterImport.estate_id == estate_id).order_by(RosterImport.id.desc()).limit(limit)
    ))


def _update_job(job_id: int, *conditions, **values) -> int:
    """One UPDATE of a job row in the session's write transaction; the rows it changed."""
    table = RosterImport.__table__
    statement = table.update().where(table.c.id == job_id, *conditions).values(updated_at=utcnow(), **values)
    return db.session.execute(statement).rowcount


class _JobProgress:
    """The import's progress callback for a job: writes the phase and the rows done to
    the job row in a short transaction of its own (another connection), when a phase
    begins or ends and every JOB_PROGRESS_ROWS rows, so that any process can show it.

    On SQLite nothing can be written while the import's write transaction holds the
    database lock: the write phase then shows no count until the job is done."""

    def __init__(self, job_id: int):
        self.job_id = job_id
        self.phase: Optional[str] = None
        self.written = 0

    def __call__(self, phase: str, done: int, total: Optional[int]) -> None:
        if phase == self.phase and done != total and done - self.written < JOB_PROGRESS_ROWS:
            return
        if is_sqlite() and in_write_transaction():
            return
        table = RosterImport.__table__
        try:
            with db.engine.begin() as connection:
                connection.execute(table.update().where(table.c.id == self.job_id).values(
                    phase=phase, rows_done=done, rows_total=total, updated_at=utcnow()))
        except OperationalError:  # a lock wait that timed out: the next report will do
            current_app.logger.warning("roster import job %d: progress not recorded", self.job_id, exc_info=True)
            return
        self.phase, self.written = phase, done


def _claim(job_id: int) -> bool:
    """queued -> running, for exactly one runner (a conditional UPDATE decides)."""
    with write_transaction():
        return _update_job(job_id, RosterImport.status == QUEUED, status=RUNNING, started_at=utcnow()) == 1


def _finish(job_id: int, status: str, summary: str, report: Optional[ImportReport] = None) -> str:
    """Record the outcome. It is written even over a job the stale sweep has failed
    meanwhile: an import that did finish is the truth."""
    values: dict = {"status": status, "summary": summary, "finished_at": utcnow()}
    if report is not None:
        values.update(counts=report.counts(), errors=[str(error) for error in report.errors[:JOB_ERRORS]],
                      errors_total=report.errors_total)
    with write_transaction():
        _update_job(job_id, **values)
    _release_file(job_id)
    return status


def _release_file(job_id: int) -> None:
    """Delete an ended job's uploaded file (names and phone numbers of residents are
    kept no longer than the import needs them) unless a job still waiting or running
    has the very same bytes. The row keeps the file's name, size and SHA-256."""
    digest = db.session.scalar(select(RosterImport.sha256).where(RosterImport.id == job_id))
    if digest is None:
        return
    waiting = db.session.scalar(select(func.count()).select_from(RosterImport).where(
        RosterImport.sha256 == digest, RosterImport.status.in_((QUEUED, RUNNING))))
    db.session.rollback()  # end the read: no transaction left open by a job runner
    if not waiting:
        storage.delete(digest)


def run_import_job(job_id: int) -> Optional[str]:
    """Run one queued job: import its file as the person who uploaded it, in the
    language of the upload, and record the outcome on the job row. Returns the final
    status, or None when the job was not queued (another runner took it).

    The import is one transaction as always: a failure leaves nothing half-written
    and the job shows why."""
    if not _claim(job_id):
        return None
    job = db.session.get(RosterImport, job_id)
    with force_locale(job.locale):
        try:
            actor = db.session.get(Person, job.person_id)
            if actor is None or not actor.active:
                return _finish(job_id, FAILED, _("The account that uploaded the file is no longer active. "
                                                 "Nothing was imported."))
            data = storage.get(job.sha256)
            report = import_roster(actor, job.estate.code, io.BytesIO(data), progress=_JobProgress(job_id))
        except DomainError as err:
            db.session.rollback()
            return _finish(job_id, FAILED, err.message)
        except Exception:  # noqa: BLE001 - whatever broke, the job must not stay "running"
            db.session.rollback()
            current_app.logger.exception("roster import job %d failed", job_id)
            return _finish(job_id, FAILED, _("Something went wrong on our side. Nothing was saved."))
        return _finish(job_id, DONE if report.ok else FAILED, report.summary(), report)


def fail_stale_jobs() -> int:
    """Mark queued and running jobs without a sign of life for ROSTER_IMPORT_STALE_MINUTES
    as failed (a running import died with its transaction). Returns how many."""
    before = stale_before()
    stale = db.session.execute(
        select(RosterImport.id, RosterImport.locale)
        .where(RosterImport.status.in_((QUEUED, RUNNING)), RosterImport.updated_at < before)
    ).all()
    failed = 0
    for job_id, locale in stale:
        with force_locale(locale):
            message = stale_message()
        with write_transaction():
            ended = _update_job(job_id, RosterImport.status.in_((QUEUED, RUNNING)), RosterImport.updated_at < before,
                                status=FAILED, summary=message, finished_at=utcnow())
        if ended:
            _release_file(job_id)
        failed += ended
    return failed


def run_queued_jobs() -> list[int]:
    """Run the queued jobs, oldest first, until none is left (`flask roster run-jobs`).
    Returns the ids of the jobs this call ran."""
    ran: list[int] = []
    while True:
        job_id = db.session.scalar(
            select(RosterImport.id).where(RosterImport.status == QUEUED).order_by(RosterImport.id).limit(1)
        )
        if job_id is None:
            return ran
        if run_import_job(job_id) is not None:
            ran.append(job_id)


def start_import_thread(job_id: int) -> threading.Thread:
    """Run a job in a thread of this web process (ROSTER_IMPORTS_IN_THREAD). The state is
    in the database, so any process shows the progress; if this process dies, the job is
    seen as stale. One job at a time per process; a graceful shutdown waits for it."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    thread = threading.Thread(target=_run_in_thread, args=(app, job_id), name=f"roster-import-{job_id}")
    thread.start()
    return thread


def _run_in_thread(app, job_id: int) -> None:
    with app.app_context(), _one_job_at_a_time:
        try:
            run_import_job(job_id)
        except Exception:  # noqa: BLE001 - a thread has no caller to tell: log it
            app.logger.exception("roster import job %d could not be run", job_id)
        finally:
            db.session.remove()
