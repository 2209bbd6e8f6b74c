"""Benchmark: the public plan page of an estate with 200 items and 2,000 progress
bulletins (target: median <= 50 ms, warm).

Run: .venv/bin/python bench/plans_page.py [--items N] [--bulletins N] [--runs R] [--database-url URL]

Builds the demo org tree in a fresh database (a temporary SQLite file unless
--database-url names one; a PostgreSQL database given there is dropped and created
again), starts 翠湖小区's plan with the services (every item and bulletin written
through plans.services, so the audit chain is as in use), publishes it, and then
times whole requests through the WSGI app: the public page (first and a middle page
of bulletins), the JSON API and the staff page. Bulletins are shown 20 to a page.
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import sqlalchemy as sa  # noqa: E402
from flask_migrate import upgrade  # noqa: E402
from sqlalchemy import select  # noqa: E402

from app import create_app  # noqa: E402
from core.db import write_transaction  # noqa: E402
from core.extensions import db  # noqa: E402
from orgs import demo  # noqa: E402
from orgs.models import Estate, Person  # noqa: E402
from plans import services  # noqa: E402

TARGET_MS = 50.0
LEVELS = ("community_committee", "street_committee", "grid_branch", "building_group")
STATES = ("planned", "in_progress", "done")


def fresh_app(url: str):
    if url.startswith("postgresql"):
        target = sa.engine.make_url(url)
        admin = sa.create_engine(target.set(database="postgres"), isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{target.database}" WITH (FORCE)')
            conn.exec_driver_sql(f'CREATE DATABASE "{target.database}"')
        admin.dispose()
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench-only", "TESTING": False})
    with app.app_context():
        upgrade(directory=str(ROOT / "migrations"))
    return app


def build(app, items: int, bulletins: int) -> int:
    with app.app_context():
        with write_transaction():
            demo.load_org_tree()
        estate = db.session.scalar(select(Estate).where(Estate.code == "FSL-E1"))
        community = db.session.scalar(select(Person).where(Person.username == "community"))
        builder = db.session.scalar(select(Person).where(Person.username == "builder"))
        record = services.create_plan(community, estate_id=estate.id, year=2026, summary="基准测试用方案")
        services.set_budget(community, record.id, None, total="38600000.00", government="26000000.00",
                            owners="8600000.00", social="4000000.00")
        start = time.perf_counter()
        for index in range(items):
            services.add_item(community, record.id, None, {
                "title": f"改造项目第{index + 1}项：楼栋外墙保温与屋面防水", "category": "basic",
                "state": STATES[index % 3], "progress": (index * 7) % 101,
                "deadline": (date(2026, 6, 1) + timedelta(days=index)).isoformat(),
                "level": LEVELS[index % len(LEVELS)], "budget": f"{10000 + index * 37}.50",
                "note": "施工期间请注意安全。" if index % 5 == 0 else "",
            })
        for index in range(bulletins):
            services.post_bulletin(builder if index % 2 else community, record.id,
                                   title=f"第{index + 1}期工程进度通报",
                                   body="本周完成道路铺设一段，下周进行管网施工，请居民注意绕行。")
        services.fire(community, record.id, "publish", None)
        print(f"built: {items} items, {bulletins} bulletins through the services in "
              f"{time.perf_counter() - start:.1f} s")
        return record.id


def measure(client, path: str, runs: int, expect: str) -> tuple[list[float], list[float]]:
    """Wall-clock and CPU milliseconds of each request (CPU time tells the page's own cost
    apart from waiting for a busy machine; the database server's work is in wall time only)."""
    response = client.get(path)  # warm: templates compiled, caches filled
    assert response.status_code == 200 and expect in response.get_data(as_text=True), path
    wall, cpu = [], []
    for _ in range(runs):
        start, start_cpu = time.perf_counter(), time.process_time()
        response = client.get(path)
        wall.append((time.perf_counter() - start) * 1000)
        cpu.append((time.process_time() - start_cpu) * 1000)
        assert response.status_code == 200
    return wall, cpu


def report(label: str, measured: tuple[list[float], list[float]], size: int, target: float | None = None) -> None:
    wall, cpu = sorted(measured[0]), measured[1]
    p95 = wall[max(0, int(len(wall) * 0.95) - 1)]
    verdict = ""
    if target is not None:
        verdict = "  OK" if statistics.median(wall) <= target else f"  OVER the {target:.0f} ms target"
    print(f"{label:<48} median {statistics.median(wall):6.1f} ms  p95 {p95:6.1f} ms  "
          f"cpu {statistics.median(cpu):5.1f} ms  ({size // 1024} KB){verdict}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--items", type=int, default=200)
    parser.add_argument("--bulletins", type=int, default=2000)
    parser.add_argument("--runs", type=int, default=50)
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        url = args.database_url or f"sqlite:///{tmp}/bench.db"
        app = fresh_app(url)
        record_id = build(app, args.items, args.bulletins)
        client = app.test_client()
        print(f"database: {sa.engine.make_url(url).get_backend_name()}; {args.runs} warm runs each")
        middle = max(1, args.bulletins // 40)
        public = measure(client, f"/plans/{record_id}", args.runs, "改造项目第200项" if args.items >= 200 else "")
        report("public plan page (bulletins page 1)", public, len(client.get(f"/plans/{record_id}").data), TARGET_MS)
        paged = measure(client, f"/plans/{record_id}?page={middle}", args.runs, "工程进度通报")
        report(f"public plan page (bulletins page {middle})", paged,
               len(client.get(f"/plans/{record_id}?page={middle}").data), TARGET_MS)
        api = measure(client, f"/api/v1/plans/{record_id}", args.runs, "items")
        report("GET /api/v1/plans/<id>", api, len(client.get(f"/api/v1/plans/{record_id}").data))
        staff = app.test_client()
        login = staff.get("/login").get_data(as_text=True)
        token = login.split('name="csrf_token" type="hidden" value="', 1)[-1].split('"', 1)[0]
        staff.post("/login", data={"login": "community", "password": demo.DEMO_PASSWORD, "csrf_token": token})
        manage = measure(staff, f"/plans/{record_id}/manage", max(5, args.runs // 5), "设定预算")
        report("staff plan page (with the forms of every item)", manage,
               len(staff.get(f"/plans/{record_id}/manage").data))
        with app.app_context():
            db.engine.dispose()
        print(f"load average while measuring: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
        ok = statistics.median(public[0]) <= TARGET_MS and statistics.median(paged[0]) <= TARGET_MS
        return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
