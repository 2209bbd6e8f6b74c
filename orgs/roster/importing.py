"""Importing a checked roster into the estate in one transaction."""
from __future__ import annotations

from contextlib import contextmanager
from typing import IO, Iterator, Optional

from flask_babel import gettext as _
from sqlalchemy import bindparam, delete, func, insert, select
from sqlalchemy.exc import IntegrityError

from core.db import is_sqlite, lock, write_transaction
from core.errors import StaleVersion
from core.extensions import db
from orgs import permissions
from orgs.models import Building, Estate, Household, HouseholdPerson, OrgNode, Person, StairwellUnit
from orgs.roster.columns import (
    SQLITE_CACHE_KIB,
    WRITE,
    WRITE_BATCH,
    ImportReport,
    Progress,
    _chunks,
    _estate_for,
    _Rejected,
    _sort_key,
)
from orgs.roster.reading import _read, _Row

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
