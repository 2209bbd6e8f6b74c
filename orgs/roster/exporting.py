"""Export of an estate's households, and the blank template."""
from __future__ import annotations

from typing import IO, Optional

from flask_babel import gettext as _
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font
from sqlalchemy import select

from core.extensions import db
from orgs.models import Building, Household, HouseholdPerson, OrgNode, Person, StairwellUnit
from core import xlsx
from orgs.roster.columns import COLUMNS, DISPLAY_SEPARATOR, NO, YES, _estate_for

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
        sheet.append(xlsx.row(sheet, [
            building, unit, room, area_cell, adults,
            DISPLAY_SEPARATOR.join(name for name, _phone in people), phones,
            YES if unsold else NO, org_codes.get(bid, ""),
        ]))
        count += 1
    workbook.save(fileobj)
    return count


def write_template(fileobj: IO[bytes]) -> None:
    """The empty layout, plus a second sheet that explains each column."""
    workbook, _sheet = _workbook_with_header()
    notes = workbook.create_sheet(_("Instructions"))
    for letter, width in zip("ABCD", (20, 10, 70, 26)):
        notes.column_dimensions[letter].width = width
    notes.append([_("Column"), _("Filling in"), _("Content"), _("Example")])
    for column in COLUMNS:
        notes.append([column.header, column.requirement, str(column.description), column.example])
    notes.append([])
    for line in (
        _("One row per household; the first row of the first sheet holds the column headers."),
        _("Buildings and units are created as needed; a household already in the system (same building, "
          "unit and room) is updated, and households missing from the file are left alone."),
        _("If any row is wrong nothing is imported, and every wrong row is listed with the reason."),
    ):
        notes.append([line])
    workbook.save(fileobj)
