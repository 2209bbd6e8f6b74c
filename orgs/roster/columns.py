"""Columns of the roster workbook, the import report and its errors, shared helpers."""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Callable, Iterator, Optional

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from core.errors import NotFound
from core.extensions import db
from orgs import permissions
from orgs.models import Estate

# (stage, done, total): stage is READ while rows are read and checked, WRITE while
# households are written; total is None when the sheet does not say its size.
Progress = Callable[[str, int, Optional[int]], None]

READ = "read"
WRITE = "write"

YES = "是"
NO = "否"
SEPARATORS = re.compile(r"[、,，;；]")
DISPLAY_SEPARATOR = "、"
# A mainland mobile number: 11 digits starting with 1 (after dropping +86 / 0086).
MOBILE = re.compile(r"^1[3-9]\d{9}$")
_COUNTRY_CODE = re.compile(r"^(?:\+86|0086|86)(?=1\d{10}$)")
_ROW_TAG = re.compile(rb"<row[ >]")
MAX_ROWS = 200_000
MAX_AREA = Decimal("99999999.99")  # Numeric(10, 2)
MAX_ADULTS = 999
MAX_TEXT = 40  # building, unit, room and org code columns
MAX_NAME = 80
MAX_MESSAGE = 300  # characters of one error message
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
    required: bool  # the column must be in the file
    description: object  # lazy string
    example: str
    width: int
    blank_ok: bool = False  # its cells may be left blank

    @property
    def requirement(self) -> str:
        """What the instructions say about filling it in: one answer, never "required" and
        "may be blank" at once."""
        if not self.required:
            return _("Optional column")
        if self.blank_ok:
            return _("Column required; cells may be blank")
        return _("Must be filled in")


COLUMNS: tuple[Column, ...] = (
    Column("building", "楼栋", True, _l("Building number."), "1号楼", 10),
    Column("unit", "单元", True, _l("Stairwell unit."), "1单元", 8),
    Column("room", "房号", True, _l("Room number."), "101", 8),
    Column("area", "专有部分面积(㎡)", True,
           _l("Registered exclusive area in square metres: zero or more, at most two decimals."), "89.50", 16),
    Column("adults", "成年居民数", True, _l("Adult residents: a whole number (blank counts as 0)."), "2", 10,
           blank_ok=True),
    Column("owner_names", "业主姓名", True,
           _l("Owners' names, several separated by 、 or a comma; blank if not known."), "张三、李四", 18,
           blank_ok=True),
    Column("owner_phones", "业主手机号", True,
           _l("Owners' mobile phones (11 digits starting with 1) in the same order as the names; an owner "
              "with a phone who owns several households is one person; blank if not known."),
           "13800000001、13800000002", 28, blank_ok=True),
    Column("unsold", "是否未售", True,
           _l("是 if the developer has not sold the household yet (it then has no owners), else 否 "
              "(blank means 否)."), NO, 10, blank_ok=True),
    Column("org_code", "负责楼院党小组编码", False,
           _l("Optional: code of the building Party group answering for the building; blank keeps "
              "the current one."), "", 20, blank_ok=True),
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
            # A message quotes the cell it is about: never more than a screenful of it.
            self.errors.append(RowError(row, message if len(message) <= MAX_MESSAGE else message[:MAX_MESSAGE] + "…"))

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
