"""Roster import and export (.xlsx): what officers see on the page and on the CLI,
and what lands in the database."""
from __future__ import annotations

import io
import re
import zipfile
from decimal import Decimal
from pathlib import Path

import pytest
from babel.messages.checkers import python_format
from babel.messages.extract import extract_from_file
from babel.messages.pofile import read_po
from openpyxl import Workbook, load_workbook
from sqlalchemy import func, select

from core.errors import NotFound, NotPermitted
from core.extensions import db
from orgs import roster
from orgs.models import Building, Estate, Household, HouseholdPerson, OrgNode, Person, RosterImport, StairwellUnit

ROOT = Path(__file__).resolve().parents[2]
CATALOG = ROOT / "translations" / "zh_Hans_CN" / "LC_MESSAGES" / "messages.po"
HEADER = [column.header for column in roster.COLUMNS]


# --- fixtures and helpers ------------------------------------------------------------

def row(building="3号楼", unit="1单元", room="101", area="88.50", adults=2, names="张三",
        phones="13900000001", unsold="否", org=None) -> list:
    return [building, unit, room, area, adults, names, phones, unsold, org]


def workbook_bytes(rows: list[list], header: list | None = None) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(HEADER if header is None else header)
    for values in rows:
        sheet.append(values)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


GOOD_ROWS = [
    row(room="101", area="88.50", names="张三", phones="13900000001", org="C1G1B1"),
    row(room="102", area=75.25, adults=3, names="李四、王五", phones="13900000002、13900000003"),
    row(unit="2单元", room="101", area=92, adults=1, names="张三", phones="13900000001"),
    row(unit="2单元", room="102", area="60", adults=0, names="", phones="", unsold="是"),
    row(building="4号楼", room="101", area="100.00", names="赵六", phones=""),
]


def counts(app) -> dict[str, int]:
    with app.app_context():
        return {
            model.__tablename__: db.session.scalar(select(func.count()).select_from(model))
            for model in (Building, StairwellUnit, Household, Person, HouseholdPerson)
        }


def upload(auth, estate_id: int, data: bytes, filename: str = "名册.xlsx"):
    """Upload on the roster page. An accepted file redirects to its import job's page: the
    job is then run as a deployment's worker would, and that page is returned."""
    response = auth.post(
        f"/estates/{estate_id}/roster",
        {"file": (io.BytesIO(data), filename)},
        content_type="multipart/form-data",
    )
    if response.status_code != 303:
        return response
    assert f"/estates/{estate_id}/roster/imports/" in response.location
    app = auth.client.application
    with app.app_context():
        assert roster.run_queued_jobs()
    return auth.client.get(response.location)


def last_job_status(app) -> str | None:
    with app.app_context():
        return db.session.scalar(select(RosterImport.status).order_by(RosterImport.id.desc()).limit(1))


def cli_import(runner, tmp_path, data: bytes, *options: str):
    path = tmp_path / "roster.xlsx"
    path.write_bytes(data)
    return runner.invoke(args=["roster", "import", str(path), *options])


def household(app, building: str, unit: str, room: str) -> dict | None:
    """A household of estate E1 (the estate the tests import into)."""
    with app.app_context():
        found = db.session.scalar(
            select(Household).join(StairwellUnit).join(Building).join(Estate, Household.estate_id == Estate.id)
            .where(Estate.code == "E1", Building.number == building, StairwellUnit.number == unit,
                   Household.room == room)
        )
        if found is None:
            return None
        return {
            "area": found.area,
            "adults": found.adult_count,
            "unsold": found.unsold,
            "path": found.path,
            "owners": sorted((p.name, p.phone) for p in found.owners),
            "owner_ids": sorted(p.id for p in found.owners),
        }


def database_roster(app, estate_id: int) -> list[tuple]:
    """Every household of the estate as the export's row would show it."""
    with app.app_context():
        rows = []
        for h in db.session.scalars(select(Household).where(Household.estate_id == estate_id)):
            building = h.unit.building
            owners = sorted(((link.person.id, link.person.name, link.person.phone or "")
                             for link in h.people if link.relation == "owner"))
            rows.append((
                building.number, h.unit.number, h.room, h.area, h.adult_count,
                "、".join(name for _id, name, _phone in owners),
                "、".join(phone for _id, _name, phone in owners) if any(p for _i, _n, p in owners) else "",
                "是" if h.unsold else "否",
                building.org.code if building.org else "",
            ))
        return sorted(rows)


def workbook_roster(data: bytes) -> list[tuple]:
    sheet = load_workbook(io.BytesIO(data)).worksheets[0]
    values = list(sheet.iter_rows(values_only=True))
    assert list(values[0]) == HEADER
    return sorted(
        (b, u, r, Decimal(str(area)).quantize(Decimal("0.01")), adults, names or "", phones or "", unsold, org or "")
        for b, u, r, area, adults, names, phones, unsold, org in values[1:]
    )


def snapshot(app) -> dict[str, list]:
    with app.app_context():
        return {
            "buildings": db.session.execute(select(Building.id, Building.number, Building.org_id, Building.path)
                                            .order_by(Building.id)).all(),
            "units": db.session.execute(select(StairwellUnit.id, StairwellUnit.building_id, StairwellUnit.number,
                                               StairwellUnit.path).order_by(StairwellUnit.id)).all(),
            "households": db.session.execute(select(Household.id, Household.unit_id, Household.room, Household.area,
                                                    Household.adult_count, Household.unsold, Household.path)
                                             .order_by(Household.id)).all(),
            "people": db.session.execute(select(Person.id, Person.name, Person.phone).order_by(Person.id)).all(),
            "links": db.session.execute(select(HouseholdPerson.household_id, HouseholdPerson.person_id,
                                               HouseholdPerson.relation)
                                        .order_by(HouseholdPerson.household_id, HouseholdPerson.person_id)).all(),
        }


# --- a good import -------------------------------------------------------------------

def test_good_import_creates_buildings_units_households_and_owners(app, auth, world):
    before = counts(app)
    auth.login("community")
    response = upload(auth, world.estate_ids[0], workbook_bytes(GOOD_ROWS))
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "导入完成" in page
    assert "新增住户5户" in page
    after = counts(app)
    assert after["building"] == before["building"] + 2
    assert after["stairwell_unit"] == before["stairwell_unit"] + 3
    assert after["household"] == before["household"] + 5
    assert after["person"] == before["person"] + 4  # 张三 owns two households and is one person

    first = household(app, "3号楼", "1单元", "101")
    assert first["area"] == Decimal("88.50") and isinstance(first["area"], Decimal)
    assert first["adults"] == 2 and first["owners"] == [("张三", "13900000001")]
    assert household(app, "3号楼", "2单元", "101")["owner_ids"] == first["owner_ids"]
    assert household(app, "3号楼", "2单元", "101")["area"] == Decimal("92.00")
    pair = household(app, "3号楼", "1单元", "102")
    assert pair["area"] == Decimal("75.25")
    assert pair["owners"] == [("李四", "13900000002"), ("王五", "13900000003")]
    unsold = household(app, "3号楼", "2单元", "102")
    assert unsold["unsold"] is True and unsold["owners"] == []
    assert household(app, "4号楼", "1单元", "101")["owners"] == [("赵六", None)]


def test_org_code_puts_the_building_and_its_households_under_that_group(app, auth, world):
    auth.login("community")
    upload(auth, world.estate_ids[0], workbook_bytes(GOOD_ROWS))
    with app.app_context():
        group = db.session.get(OrgNode, world.node_ids["C1G1B1"])
        building = db.session.scalar(select(Building).where(Building.number == "3号楼",
                                                            Building.estate_id == world.estate_ids[0]))
        assert building.org_id == group.id and building.path == group.path
        estate_path = db.session.get(Estate, world.estate_ids[0]).path
        assert db.session.scalar(select(Building.path).where(Building.number == "4号楼")) == estate_path
    assert household(app, "3号楼", "2单元", "101")["path"] == group.path


def test_org_code_moves_an_existing_building_with_its_units_and_households(app, auth, world):
    auth.login("community")
    response = upload(auth, world.estate_ids[0], workbook_bytes([
        row(building="1号楼", unit="2单元", room="101", area="81.50", adults=2, names="", phones="", org="C1G1"),
    ]))
    assert response.status_code == 200
    with app.app_context():
        grid = db.session.get(OrgNode, world.node_ids["C1G1"])
        building = db.session.scalar(select(Building).where(Building.number == "1号楼",
                                                            Building.estate_id == world.estate_ids[0]))
        assert building.org_id == grid.id and building.path == grid.path
        assert {unit.path for unit in building.units} == {grid.path}
        assert {h.path for unit in building.units for h in unit.households} == {grid.path}
        other = db.session.scalar(select(Building).where(Building.number == "2号楼",
                                                         Building.estate_id == world.estate_ids[0]))
        assert other.org.code == "C1G1B1"


def test_columns_may_come_in_any_order_with_extra_columns(app, auth, world):
    header = ["备注", "房号", "单元", "楼栋", "业主手机号", "业主姓名", "是否未售", "成年居民数", "专有部分面积（平方米）"]
    auth.login("community")
    response = upload(auth, world.estate_ids[0], workbook_bytes(
        [["东侧", "101", "1单元", "3号楼", "13900000001", "张三", "否", 2, 88.5]], header=header))
    assert response.status_code == 200
    assert household(app, "3号楼", "1单元", "101")["owners"] == [("张三", "13900000001")]


def test_existing_household_is_updated_in_place(app, auth, world):
    auth.login("community")
    before = counts(app)
    old = household(app, "1号楼", "1单元", "101")
    response = upload(auth, world.estate_ids[0], workbook_bytes([
        row(building="1号楼", unit="1单元", room="101", area="90.10", adults=4, names="居民甲",
            phones="13800000001"),
    ]))
    assert response.status_code == 200
    assert "更新1户" in response.get_data(as_text=True)
    assert counts(app)["household"] == before["household"]
    new = household(app, "1号楼", "1单元", "101")
    assert new["area"] == Decimal("90.10") and new["adults"] == 4
    assert new["owner_ids"] == old["owner_ids"]  # the resident, matched by phone


def test_new_owners_replace_old_ones_and_a_phoneless_owner_gets_the_phone(app, auth, world):
    auth.login("community")
    upload(auth, world.estate_ids[0], workbook_bytes([row(names="钱七、孙八", phones="")]))
    before = household(app, "3号楼", "1单元", "101")
    upload(auth, world.estate_ids[0], workbook_bytes([row(names="钱七", phones="13900000009")]))
    after = household(app, "3号楼", "1单元", "101")
    assert after["owners"] == [("钱七", "13900000009")]
    assert after["owner_ids"][0] in before["owner_ids"]  # the same person, now with a phone


def test_reimporting_the_export_changes_nothing(app, auth, client, world):
    auth.login("community")
    upload(auth, world.estate_ids[0], workbook_bytes(GOOD_ROWS))
    exported = client.get(f"/estates/{world.estate_ids[0]}/roster.xlsx")
    assert exported.status_code == 200
    before = snapshot(app)
    response = upload(auth, world.estate_ids[0], exported.data)
    assert response.status_code == 200
    assert "未变21户" in response.get_data(as_text=True)  # 16 households of the world + 5 imported
    assert snapshot(app) == before


def test_export_rows_equal_the_database(app, auth, client, world):
    auth.login("community")
    upload(auth, world.estate_ids[0], workbook_bytes(GOOD_ROWS))
    response = client.get(f"/estates/{world.estate_ids[0]}/roster.xlsx")
    assert response.status_code == 200
    assert response.mimetype == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    assert workbook_roster(response.data) == database_roster(app, world.estate_ids[0])
    assert len(workbook_roster(response.data)) == 21


# --- bad input: nothing is written, every bad row is named ---------------------------

def _zip_without_workbook() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("hello.txt", "not a workbook")
    return buffer.getvalue()


def _good_then(*bad_rows: list) -> bytes:
    return workbook_bytes([row(building="9号楼", room="901", phones="13900000099"), *bad_rows])


BAD_INPUTS = {
    "missing columns": (
        workbook_bytes([["3号楼", "1单元", "101"]], header=["楼栋", "单元", "房号", "成年居民数", "业主姓名", "是否未售"]),
        "缺少列：专有部分面积(㎡)、业主手机号",
    ),
    "empty file": (b"", "文件是空的"),
    "empty workbook": (workbook_bytes([], header=[]), "文件是空的"),
    "header only": (workbook_bytes([]), "没有住户数据行"),
    "not a spreadsheet": ("楼栋,单元,房号\n3号楼,1单元,101\n".encode(), "不是可以读取的 .xlsx 工作簿"),
    "zip that is not a workbook": (_zip_without_workbook(), "不是可以读取的 .xlsx 工作簿"),
    "negative area": (_good_then(row(area="-5")), "第3行：面积 -5 为负数"),
    "non-numeric area": (_good_then(row(area="八十")), "第3行：面积 八十 不是数字"),
    "three decimals": (_good_then(row(area="80.125")), "第3行：面积 80.125 的小数超过两位"),
    "empty area": (_good_then(row(area=None)), "第3行：专有部分面积(㎡)为空"),
    "duplicate household": (
        _good_then(row(room="101", phones="13900000001"), row(room="101", phones="13900000002", names="李四")),
        "第4行：住户 3号楼 1单元 101 已在第3行出现",
    ),
    "phones do not match owners": (
        _good_then(row(names="张三、李四", phones="13900000001")),
        "第3行：业主姓名有2个，手机号码有1个",
    ),
    "unsold with owners": (_good_then(row(unsold="是")), "第3行：未售住户不能有业主"),
    "unknown org code": (_good_then(row(org="NO-SUCH-ORG")), "第3行：组织编码 NO-SUCH-ORG 不存在"),
    "org of another community": (_good_then(row(org="C2G1B1")), "第3行：组织编码 C2G1B1 不存在"),
    "phone registered under another name": (
        _good_then(row(names="张三", phones="13800000001")),
        "第3行：手机号码 13800000001 已登记在另一个姓名下",
    ),
    "bad phone": (_good_then(row(phones="abc")), "第3行：手机号码 abc 无效"),
    "ten-digit mobile": (_good_then(row(phones="1390000000")), "第3行：手机号码 1390000000 无效：应为以 1 开头的 11 位数字"),
    "every wrong number of a cell": (
        _good_then(row(names="张三、李四、王五", phones="1390000000、13900000002、2345678")),
        "第3行：手机号码 1390000000、2345678 无效",
    ),
    "adults not a number": (_good_then(row(adults="两个")), "第3行：成年居民数 两个 应为 0 到 999 的整数"),
    "unsold neither yes nor no": (_good_then(row(unsold="也许")), "第3行：是否未售应填写 是 或 否，而不是 也许"),
}


# Whole-file problems the upload itself finds: the page answers 422 and no job is queued.
# The others are found by the import job, whose page then shows them.
REFUSED_AT_UPLOAD = {"missing columns", "empty file", "empty workbook", "header only", "not a spreadsheet",
                     "zip that is not a workbook"}


@pytest.mark.parametrize("case", list(BAD_INPUTS))
def test_bad_input_on_the_page_is_refused_in_chinese_and_writes_nothing(app, auth, world, case):
    data, message = BAD_INPUTS[case]
    auth.login("community")
    before = snapshot(app)
    response = upload(auth, world.estate_ids[0], data)
    if case in REFUSED_AT_UPLOAD:
        assert response.status_code == 422
        assert last_job_status(app) is None
    else:
        assert response.status_code == 200
        assert last_job_status(app) == "failed"
    page = response.get_data(as_text=True)
    assert "未导入任何数据" in page
    assert message in page
    assert snapshot(app) == before


@pytest.mark.parametrize("case", list(BAD_INPUTS))
def test_bad_input_on_the_cli_exits_1_in_chinese_and_writes_nothing(app, runner, world, tmp_path, case):
    data, message = BAD_INPUTS[case]
    before = snapshot(app)
    result = cli_import(runner, tmp_path, data, "--estate", "E1", "--as", "community")
    assert result.exit_code == 1
    assert message in result.output
    assert snapshot(app) == before


def test_org_outside_the_estate_is_named_for_those_who_can_see_it(app, auth, world):
    auth.login("admin")
    response = upload(auth, world.estate_ids[0], _good_then(row(org="C2G1B1")))
    assert response.status_code == 200 and last_job_status(app) == "failed"
    assert "第3行：组织 C2G1B1（第2社区楼院党小组）不在本小区所属组织之下" in response.get_data(as_text=True)


def test_every_bad_row_is_listed(app, auth, world):
    auth.login("community")
    response = upload(auth, world.estate_ids[0], workbook_bytes([
        row(room="101", area="-1"),
        row(room="102"),
        row(room="103", area="abc", unsold="是"),
    ]))
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and last_job_status(app) == "failed"
    assert "发现3个问题" in page
    assert "第2行：面积 -1 为负数" in page
    assert "第4行：面积 abc 不是数字" in page
    assert "第4行：未售住户不能有业主" in page
    assert "第3行" not in page


def test_unknown_estate_on_the_cli(runner, world, tmp_path):
    result = cli_import(runner, tmp_path, workbook_bytes(GOOD_ROWS), "--estate", "E9")
    assert result.exit_code == 1
    assert "没有编码为 E9 的小区" in result.output


def test_upload_without_a_file_is_refused(app, auth, world):
    auth.login("community")
    response = auth.post(f"/estates/{world.estate_ids[0]}/roster", {}, content_type="multipart/form-data")
    assert response.status_code == 422
    assert "请选择要上传的 .xlsx 文件" in response.get_data(as_text=True)


def test_upload_without_csrf_token_is_refused(app, auth, client, world):
    auth.login("community")
    before = counts(app)
    response = client.post(f"/estates/{world.estate_ids[0]}/roster",
                           data={"file": (io.BytesIO(workbook_bytes(GOOD_ROWS)), "名册.xlsx")},
                           content_type="multipart/form-data")
    assert response.status_code == 400
    assert counts(app) == before


# --- permissions ---------------------------------------------------------------------

@pytest.fixture
def grid_estate(app, world) -> int:
    """A small estate answered for by grid C1G1 itself, so the grid worker sees it."""
    from core.db import write_transaction
    from orgs import services

    with app.app_context():
        with write_transaction():
            grid = db.session.get(OrgNode, world.node_ids["C1G1"])
            estate = services.add_estate(grid, "E3", "网格小区")
            unit = services.add_unit(services.add_building(estate, "1号楼"), "1单元")
            services.add_household(unit, "101", Decimal("70.00"))
            db.session.flush()
            return estate.id


def test_grid_worker_may_export_but_not_import(app, auth, client, world, grid_estate):
    auth.login("grid")
    before = counts(app)
    assert client.get(f"/estates/{grid_estate}/roster").status_code == 403
    assert upload(auth, grid_estate, workbook_bytes(GOOD_ROWS)).status_code == 403
    assert counts(app) == before
    response = client.get(f"/estates/{grid_estate}/roster.xlsx")
    assert response.status_code == 200
    assert workbook_roster(response.data) == database_roster(app, grid_estate)


def test_grid_worker_gets_404_for_an_estate_above_the_grid(auth, client, world):
    auth.login("grid")
    assert client.get(f"/estates/{world.estate_ids[0]}/roster").status_code == 404
    assert client.get(f"/estates/{world.estate_ids[0]}/roster.xlsx").status_code == 404


def test_company_at_the_community_sees_the_estate_but_gets_403(app, auth, client, world):
    auth.login("property")
    before = counts(app)
    assert client.get(f"/estates/{world.estate_ids[0]}/roster").status_code == 403
    assert upload(auth, world.estate_ids[0], workbook_bytes(GOOD_ROWS)).status_code == 403
    assert client.get(f"/estates/{world.estate_ids[0]}/roster.xlsx").status_code == 403
    assert counts(app) == before


def test_officer_of_another_community_gets_404(app, auth, client, world):
    auth.login("community2")
    before = counts(app)
    assert client.get(f"/estates/{world.estate_ids[0]}/roster").status_code == 404
    assert upload(auth, world.estate_ids[0], workbook_bytes(GOOD_ROWS)).status_code == 404
    assert client.get(f"/estates/{world.estate_ids[0]}/roster.xlsx").status_code == 404
    assert counts(app) == before
    assert client.get(f"/estates/{world.estate_ids[1]}/roster").status_code == 200


def test_service_refuses_like_the_page(app, world):
    with app.app_context():
        company = db.session.get(Person, world.person_ids["property"])
        with pytest.raises(NotPermitted):
            roster.import_roster(company, "E1", io.BytesIO(workbook_bytes(GOOD_ROWS)))
        other = db.session.get(Person, world.person_ids["community2"])
        with pytest.raises(NotFound):
            roster.import_roster(other, "E1", io.BytesIO(workbook_bytes(GOOD_ROWS)))
        with pytest.raises(NotFound):
            roster.export_roster(other, "E1", io.BytesIO())


def test_estate_page_links_to_the_roster_only_for_importers(auth, client, world, grid_estate):
    auth.login("community")
    page = client.get(f"/estates/{world.estate_ids[0]}").get_data(as_text=True)
    assert f"/estates/{world.estate_ids[0]}/roster\"" in page
    auth.logout()
    auth.login("property")
    page = client.get(f"/estates/{world.estate_ids[0]}").get_data(as_text=True)
    assert "/roster" not in page
    auth.logout()
    auth.login("grid")
    page = client.get(f"/estates/{grid_estate}").get_data(as_text=True)
    assert f"/estates/{grid_estate}/roster\"" not in page
    assert f"/estates/{grid_estate}/roster.xlsx" in page


# --- CLI ------------------------------------------------------------------------------

def test_cli_import_as_admin_by_default_prints_the_chinese_report(app, runner, world, tmp_path):
    result = cli_import(runner, tmp_path, workbook_bytes(GOOD_ROWS), "--estate", "E1")
    assert result.exit_code == 0, result.output
    assert "读取行" in result.output  # the progress bar's label
    assert "导入5行：新增住户5户" in result.output
    assert household(app, "3号楼", "1单元", "101")["area"] == Decimal("88.50")


def test_cli_import_as_someone_without_the_right(app, runner, world, tmp_path):
    before = counts(app)
    result = cli_import(runner, tmp_path, workbook_bytes(GOOD_ROWS), "--estate", "E1", "--as", "property")
    assert result.exit_code == 1
    assert "无权" in result.output
    result = cli_import(runner, tmp_path, workbook_bytes(GOOD_ROWS), "--estate", "E1", "--as", "nobody")
    assert result.exit_code == 1
    assert "nobody" in result.output
    assert counts(app) == before


def test_cli_export_then_import_round_trips(app, runner, world, tmp_path):
    cli_import(runner, tmp_path, workbook_bytes(GOOD_ROWS), "--estate", "E1")
    target = tmp_path / "export.xlsx"
    result = runner.invoke(args=["roster", "export", "--estate", "E1", str(target)])
    assert result.exit_code == 0, result.output
    assert "导出21户" in result.output
    assert workbook_roster(target.read_bytes()) == database_roster(app, world.estate_ids[0])
    before = snapshot(app)
    result = runner.invoke(args=["roster", "import", str(target), "--estate", "E1"])
    assert result.exit_code == 0, result.output
    assert snapshot(app) == before


def test_cli_export_refused_leaves_no_file(runner, world, tmp_path):
    target = tmp_path / "export.xlsx"
    result = runner.invoke(args=["roster", "export", "--estate", "E1", "--as", "community2", str(target)])
    assert result.exit_code == 1
    assert not target.exists() and list(tmp_path.glob("*.xlsx")) == []


def test_template_from_the_cli_and_the_page_has_the_layout(app, auth, client, runner, world, tmp_path):
    target = tmp_path / "template.xlsx"
    assert runner.invoke(args=["roster", "template", str(target)]).exit_code == 0
    auth.login("community")
    response = client.get("/roster/template.xlsx")
    assert response.status_code == 200
    for data in (target.read_bytes(), response.data):
        book = load_workbook(io.BytesIO(data))
        assert [cell.value for cell in book.worksheets[0][1]] == HEADER
        assert book.worksheets[0].max_row == 1
        assert book.worksheets[1].title == "填写说明"
        # The blank template imports as "no household rows", nothing else.
        with app.app_context():
            officer = db.session.get(Person, world.person_ids["community"])
            report = roster.import_roster(officer, "E1", io.BytesIO(data))
        assert [str(e) for e in report.errors] == ["表格只有表头，没有住户数据行。"]


def test_the_roster_page_lists_the_columns_in_chinese(auth, client, world):
    auth.login("community")
    page = client.get(f"/estates/{world.estate_ids[0]}/roster").get_data(as_text=True)
    assert "测试1小区名册" in page
    for header in HEADER:
        assert header in page
    assert "登记的专有部分面积" in page


def test_each_column_says_one_thing_about_filling_it_in(auth, client, world):
    """业主姓名 may be blank: the page and the template's instructions say so, and never
    "required" beside "blank if not known"."""
    auth.login("community")
    page = client.get(f"/estates/{world.estate_ids[0]}/roster").get_data(as_text=True)
    rows = {re.sub(r"<[^>]+>", "", cells[0]): re.sub(r"<[^>]+>", "", cells[1])
            for cells in re.findall(r"<tr><td>(.*?)</td><td>(.*?)</td>", page)}
    assert rows["业主姓名"] == "须有此列，内容可留空"
    assert rows["楼栋"] == "必填" and rows["负责楼院党小组编码"] == "可选列"
    book = load_workbook(io.BytesIO(client.get("/roster/template.xlsx").data))
    notes = {row[0]: row[1] for row in book.worksheets[1].iter_rows(values_only=True) if row and row[0]}
    assert notes["业主姓名"] == "须有此列，内容可留空" and notes["房号"] == "必填"


# --- the catalog -----------------------------------------------------------------------

def _msgids(path: Path, method: str) -> set[str]:
    keywords = {"_": None, "gettext": None, "_l": None, "lazy_gettext": None}
    options = {"extensions": "jinja2.ext.i18n"} if method.startswith("jinja2") else {}
    found = set()
    for _lineno, message, _comments, _context in extract_from_file(method, str(path), keywords=keywords,
                                                                    options=options):
        found.add(message if isinstance(message, str) else message[0])
    return found


# Messages of this feature outside its own modules (the CLI group, the estate page's links).
CLI_MESSAGES = {"Reading rows", "Writing households", "Exported %(n)d households.",
                "No active account named %(name)s (choose one with --as).",
                "%(n)d roster imports that stopped without finishing were marked as failed.",
                "Roster import %(id)d (%(file)s): %(summary)s"}
ESTATE_PAGE_MESSAGES = {"Roster import and export", "Export the current roster"}


def test_every_roster_message_has_a_chinese_translation():
    used = _msgids(ROOT / "orgs" / "roster_views.py", "python")
    for module in sorted((ROOT / "orgs" / "roster").glob("*.py")):
        used |= _msgids(module, "python")
    for template in ("roster.html", "roster_report.html", "roster_import.html"):
        used |= _msgids(ROOT / "templates" / "orgs" / template, "jinja2.ext:babel_extract")
    assert CLI_MESSAGES <= _msgids(ROOT / "orgs" / "cli.py", "python")
    assert ESTATE_PAGE_MESSAGES <= _msgids(ROOT / "templates" / "orgs" / "estate.html", "jinja2.ext:babel_extract")
    used |= CLI_MESSAGES | ESTATE_PAGE_MESSAGES
    with CATALOG.open("rb") as handle:
        catalog = read_po(handle, locale="zh_Hans_CN")
    assert not catalog.fuzzy
    for msgid in used:
        message = catalog.get(msgid)
        assert message is not None and message.string and not message.fuzzy, f"untranslated: {msgid!r}"
        python_format(catalog, message)  # raises on a placeholder mismatch


# --- hostile spreadsheets ---------------------------------------------------------------

def test_a_huge_cell_is_refused_with_a_short_message(app, auth, world):
    auth.login("community")
    before = counts(app)
    page = upload(auth, world.estate_ids[0], workbook_bytes([row(names="张" * 2_000_000)]))
    text = page.get_data(as_text=True)
    assert "有单元格超过 1000 个字符" in text
    assert "张" * 1001 not in text
    assert counts(app) == before
    with app.app_context():
        job = db.session.scalars(select(RosterImport).order_by(RosterImport.id.desc())).first()
        assert job.status == roster.FAILED and max(len(error) for error in job.errors) < 400


def test_a_workbook_that_unpacks_too_large_is_refused_before_it_is_parsed(app, world, monkeypatch):
    from core import xlsx
    from orgs.roster import importing  # noqa: F401 - the service under test

    monkeypatch.setattr(xlsx, "MAX_MEMBER_BYTES", 4096)  # a small bound, so the test file stays small
    data = workbook_bytes([row(room=str(100 + n), names="张三" * 20) for n in range(200)])
    with app.app_context():
        from tests.issues.helpers import person

        report = roster.import_roster(person("community"), "E1", io.BytesIO(data))
    assert not report.ok and "工作簿解压后过大" in str(report.errors[0])
    assert counts(app)["household"] == 32


def test_a_formula_without_a_saved_value_is_refused_not_read_as_blank(app, auth, world):
    auth.login("community")
    before = counts(app)
    rows = [row(room="101"), row(room="102", names="=F2", phones="")]  # openpyxl saves formulas without values
    page = upload(auth, world.estate_ids[0], workbook_bytes(rows))
    assert "单元格 F3 是没有保存计算结果的公式" in page.get_data(as_text=True)
    assert counts(app) == before


def test_a_name_that_looks_like_a_formula_is_exported_as_text(app, client, auth, world):
    from core.db import write_transaction
    from orgs import services as S

    with app.app_context(), write_transaction():
        household = db.session.get(Household, world.household_ids[0])
        S.link_household(S.add_person('=HYPERLINK("http://evil.example","点我")'), household, "owner")
    auth.login("community")
    response = client.get(f"/estates/{world.estate_ids[0]}/roster.xlsx")
    sheet = load_workbook(io.BytesIO(response.data)).active
    cells = [c for r in sheet.iter_rows(min_row=2) for c in r if isinstance(c.value, str) and "HYPERLINK" in c.value]
    assert cells and all(c.data_type == "s" for c in cells)
    with zipfile.ZipFile(io.BytesIO(response.data)) as archive:
        assert b"<f>" not in archive.read("xl/worksheets/sheet1.xml")
