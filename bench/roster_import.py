"""Benchmark: import 100,000 households from .xlsx into a fresh SQLite database.

    .venv/bin/python bench/roster_import.py [--households 100000] [--keep DIR]

Targets (issue 2): the import takes <= 30 s and <= 500 MB peak memory on SQLite.

The workbook is generated first (one estate of 2,000 buildings x 5 units x 10
households at the default size; 1-2 owners per household, some owners owning
two households, some unsold households, one building Party group per 20
buildings). A separate process then migrates a fresh SQLite database with the
app's migrations, builds the org tree, and times the import, the export of the
result and the re-import of that export (which must change nothing). Peak
memory is that process's maximum resident set size (getrusage), read right
after the import, so it covers start-up plus import and nothing else.
"""
from __future__ import annotations

import argparse
import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
from decimal import Decimal

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
# Import the app from the repository root, and never a bench/ script named like a
# package (python puts this script's directory first on sys.path).
sys.path[:] = [ROOT] + [entry for entry in sys.path if os.path.abspath(entry or os.curdir) != HERE]

TARGET_SECONDS = 30.0
TARGET_MB = 500.0
ESTATE = "BENCH-E1"
UNITS_PER_BUILDING = 5
HOUSEHOLDS_PER_UNIT = 10  # 5 floors x 2 rooms
BUILDINGS_PER_GROUP = 20
SURNAMES = "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗梁宋郑谢韩唐冯于董萧程曹袁邓许傅沈曾彭吕苏卢蒋蔡"
GIVEN = "建国秀英桂兰志强海燕国华丽华玉兰文明春梅德胜淑珍金凤永红晓东立新红梅振华"


def generate(path: str, households: int, seed: int = 20261121) -> dict:
    from openpyxl import Workbook

    from orgs.roster import COLUMNS, NO, YES

    rng = random.Random(seed)
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("名册")
    sheet.append([column.header for column in COLUMNS])
    per_building = UNITS_PER_BUILDING * HOUSEHOLDS_PER_UNIT
    buildings = -(-households // per_building)
    owners_seen: list[tuple[str, str]] = []
    next_phone = 13_900_000_000
    stats = {"households": 0, "buildings": buildings, "groups": -(-buildings // BUILDINGS_PER_GROUP),
             "multi_owners": 0, "unsold": 0}

    def new_owner() -> tuple[str, str]:
        nonlocal next_phone
        next_phone += rng.randrange(1, 7)
        start = rng.randrange(0, len(GIVEN) // 2) * 2
        return rng.choice(SURNAMES) + GIVEN[start:start + 2], str(next_phone)

    for b in range(1, buildings + 1):
        group = f"BENCH-G{(b - 1) // BUILDINGS_PER_GROUP + 1}"
        for u in range(1, UNITS_PER_BUILDING + 1):
            for h in range(HOUSEHOLDS_PER_UNIT):
                if stats["households"] == households:
                    break
                stats["households"] += 1
                room = f"{h // 2 + 1}{h % 2 + 1:02d}"
                area = Decimal(rng.randrange(4000, 14000)) / 100
                draw = rng.random()
                owners: list[tuple[str, str]] = []
                unsold = draw < 0.03
                stats["unsold"] += unsold
                if not unsold:
                    if draw < 0.08 and owners_seen:
                        owners.append(rng.choice(owners_seen))  # owns another household too
                        stats["multi_owners"] += 1
                    else:
                        owners.append(new_owner())
                    if draw > 0.75:
                        owners.append(new_owner())
                    owners_seen.extend(owners[:1])
                sheet.append([
                    f"{b}号楼", f"{u}单元", room, area, rng.randrange(0, 5),
                    "、".join(name for name, _phone in owners), "、".join(phone for _name, phone in owners),
                    YES if unsold else NO, group if u == 1 and h == 0 else "",
                ])
    workbook.save(path)
    return stats


def run_child(file: str, database: str, groups: int) -> dict:
    from flask_migrate import upgrade
    from sqlalchemy import func, select

    from app import create_app
    from core.db import write_transaction
    from core.extensions import db
    from orgs import roles, roster, services
    from orgs.models import Household, HouseholdPerson, Person

    figures: dict = {}
    start = time.perf_counter()
    app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{database}", "SECRET_KEY": "bench"})
    with app.app_context():
        upgrade()
        with write_transaction():
            street = services.add_org_node(None, "street_committee", "BENCH-S", "基准测试街道党工委")
            community = services.add_org_node(street, "community_committee", "BENCH-C", "基准测试社区党委")
            grid = services.add_org_node(community, "grid_branch", "BENCH-GRID", "基准测试网格")
            for g in range(1, groups + 1):
                services.add_org_node(grid, "building_group", f"BENCH-G{g}", f"第{g}楼院党小组")
            services.add_estate(community, ESTATE, "基准测试小区")
            admin = services.add_person("管理员", username="admin")
            services.grant_role(admin, street, roles.ADMIN)
        figures["setup_seconds"] = time.perf_counter() - start
        figures["baseline_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        admin = db.session.scalar(select(Person).where(Person.username == "admin"))
        stage_end: dict[str, float] = {}

        def stages(stage: str, done: int, total: int | None) -> None:
            stage_end[stage] = time.perf_counter()

        start, cpu = time.perf_counter(), time.process_time()
        with open(file, "rb") as handle:
            report = roster.import_roster(admin, ESTATE, handle, progress=stages)
        figures["import_seconds"] = time.perf_counter() - start
        figures["import_cpu_seconds"] = time.process_time() - cpu
        figures["read_seconds"] = stage_end[roster.READ] - start
        figures["import_peak_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        if not report.ok:
            figures["errors"] = [str(error) for error in report.errors[:20]]
            return figures
        figures["report"] = report.summary()
        figures["households_in_db"] = db.session.scalar(select(func.count()).select_from(Household))
        figures["owners_in_db"] = db.session.scalar(select(func.count()).select_from(Person)) - 1
        figures["owner_links_in_db"] = db.session.scalar(select(func.count()).select_from(HouseholdPerson))

        exported = file + ".export.xlsx"
        start, cpu = time.perf_counter(), time.process_time()
        with open(exported, "wb") as handle:
            figures["exported_rows"] = roster.export_roster(admin, ESTATE, handle)
        figures["export_seconds"] = time.perf_counter() - start
        figures["export_cpu_seconds"] = time.process_time() - cpu

        start, cpu = time.perf_counter(), time.process_time()
        with open(exported, "rb") as handle:
            again = roster.import_roster(admin, ESTATE, handle)
        figures["reimport_seconds"] = time.perf_counter() - start
        figures["reimport_cpu_seconds"] = time.process_time() - cpu
        figures["reimport_unchanged"] = again.households_unchanged
        figures["reimport_changed"] = again.households_created + again.households_updated
        figures["final_peak_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return figures


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--households", type=int, default=100_000)
    parser.add_argument("--keep", help="directory to keep the workbook and database in")
    parser.add_argument("--child", nargs=3, metavar=("FILE", "DATABASE", "GROUPS"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        file, database, groups = args.child
        print(json.dumps(run_child(file, database, int(groups)), ensure_ascii=False))
        return 0

    directory = args.keep or tempfile.mkdtemp(prefix="wuji-bench-")
    os.makedirs(directory, exist_ok=True)
    file = os.path.join(directory, "roster.xlsx")
    database = os.path.join(directory, "bench.sqlite")
    for stale in (database, database + "-wal", database + "-shm"):
        if os.path.exists(stale):
            os.unlink(stale)
    start = time.perf_counter()
    stats = generate(file, args.households)
    generate_seconds = time.perf_counter() - start
    print(f"generated {stats['households']:,} households in {stats['buildings']:,} buildings "
          f"({stats['multi_owners']:,} owned by someone who owns another one, {stats['unsold']:,} "
          f"unsold) in {generate_seconds:.1f} s: {os.path.getsize(file) / 1e6:.1f} MB")
    child = subprocess.run(
        [sys.executable, os.path.abspath(__file__), "--child", file, database, str(stats["groups"])],
        capture_output=True, text=True, cwd=ROOT,
    )
    if child.returncode != 0:
        print(child.stdout, child.stderr, file=sys.stderr)
        return 1
    figures = json.loads(child.stdout.strip().splitlines()[-1])
    if "errors" in figures:
        print("import refused:", *figures["errors"], sep="\n  ")
        return 1
    print(f"set-up (migrate, org tree): {figures['setup_seconds']:.1f} s")
    print(f"import:   {figures['import_seconds']:.1f} s (target <= {TARGET_SECONDS:.0f} s), "
          f"peak memory {figures['import_peak_mb']:.0f} MB (target <= {TARGET_MB:.0f} MB)")
    writing = figures["import_seconds"] - figures["read_seconds"]
    print(f"          (the process held {figures['baseline_mb']:.0f} MB after start-up and migration); "
          f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    print(f"          reading and checking the rows {figures['read_seconds']:.1f} s, writing {writing:.1f} s; "
          f"CPU time {figures['import_cpu_seconds']:.1f} s")
    print(f"          {figures['report']}")
    print(f"          in the database: {figures['households_in_db']:,} households, "
          f"{figures['owners_in_db']:,} owners, {figures['owner_links_in_db']:,} owner links")
    print(f"export:   {figures['export_seconds']:.1f} s, CPU time {figures['export_cpu_seconds']:.1f} s "
          f"({figures['exported_rows']:,} rows)")
    print(f"re-import of the export: {figures['reimport_seconds']:.1f} s, CPU time "
          f"{figures['reimport_cpu_seconds']:.1f} s, "
          f"{figures['reimport_unchanged']:,} unchanged, {figures['reimport_changed']} changed; "
          f"peak memory of the whole run {figures['final_peak_mb']:.0f} MB")
    met = (figures["import_seconds"] <= TARGET_SECONDS and figures["import_peak_mb"] <= TARGET_MB
           and figures["households_in_db"] == stats["households"] and figures["reimport_changed"] == 0)
    print("targets met" if met else "TARGETS MISSED")
    if not args.keep:
        for name in os.listdir(directory):
            os.unlink(os.path.join(directory, name))
        os.rmdir(directory)
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
