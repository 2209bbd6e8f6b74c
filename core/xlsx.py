"""Spreadsheet safety shared by every .xlsx the app reads or writes.

- Export: text that a spreadsheet would take for a formula (=, +, -, @, or a leading tab
  or carriage return) is written as a string cell, never as a live formula.
- Import: a workbook is refused before it is parsed when it unpacks to more than the
  bounds below (a small file can hold a 100 MB cell), and when a cell holds a formula
  with no saved value (read as blank, it would silently drop data).
"""
from __future__ import annotations

import re
import zipfile
from typing import IO, Any

from openpyxl.cell import WriteOnlyCell

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
MAX_MEMBER_BYTES = 64 * 1024 * 1024  # one part of the workbook, unpacked (sheet XML, shared strings)
MAX_UNPACKED_BYTES = 256 * 1024 * 1024  # the whole workbook, unpacked
MAX_CELL_CHARS = 1000  # no cell of a roster or ledger is longer
# A cell whose formula has no cached value: <c r="B5"><f>...</f></c>, or an empty <v></v> / <v/>
_FORMULA_WITHOUT_VALUE = re.compile(
    rb'<c r="([A-Z]+[0-9]+)"[^>]*>\s*<f(?:[^>]*/>|[^>]*>[^<]*</f>)\s*(?:<v\s*/>|<v>\s*</v>)?\s*</c>')
_OVERLAP = 64 * 1024


def cell(sheet, value: Any) -> Any:
    """A write-only cell for `value`; text that looks like a formula stays text."""
    if isinstance(value, str) and value.startswith(FORMULA_START):
        written = WriteOnlyCell(sheet, value=value)
        written.data_type = "s"
        return written
    return value


def row(sheet, values) -> list:
    return [cell(sheet, value) for value in values]


class Refused(Exception):
    """The workbook cannot be read safely; `reason` is one of "too_large", "formula"."""

    def __init__(self, reason: str, where: str = ""):
        super().__init__(reason)
        self.reason = reason
        self.where = where


def check_workbook(fileobj: IO[bytes]) -> None:
    """Refuse a workbook that unpacks too large or has formulas without saved values.
    Leaves the file position at the start; not a zip: nothing to say (the reader will)."""
    start = fileobj.tell()
    try:
        try:
            archive = zipfile.ZipFile(fileobj)
        except zipfile.BadZipFile:
            return
        with archive:
            members = archive.infolist()
            if (any(m.file_size > MAX_MEMBER_BYTES for m in members)
                    or sum(m.file_size for m in members) > MAX_UNPACKED_BYTES):
                raise Refused("too_large")
            for member in members:
                if member.filename.startswith("xl/worksheets/") and member.filename.endswith(".xml"):
                    _check_formulas(archive, member.filename)
    finally:
        fileobj.seek(start)


def _check_formulas(archive: zipfile.ZipFile, name: str) -> None:
    with archive.open(name) as source:
        carry = b""
        while chunk := source.read(1 << 20):
            data = carry + chunk
            found = _FORMULA_WITHOUT_VALUE.search(data)
            if found:
                raise Refused("formula", found.group(1).decode("ascii"))
            carry = data[-_OVERLAP:]
