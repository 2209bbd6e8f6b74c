"""Benchmark: the administration pages on the demo sub-district.

Run from the project root: ``.venv/bin/python bench/admin_pages.py``. A scratch SQLite
database gets the demo data in a separate process (`flask db upgrade`, `flask demo load`);
then the demo administrator opens each administration page 10 times through the test
client, and creating an account (the whole request, with its temporary password) is timed.
Prints the median and worst time per page against the 0.6 s target; exits 1 if one misses.
"""
from __future__ import annotations

import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if sys.path[0] == str(Path(__file__).resolve().parent):
    sys.path.pop(0)
sys.path.insert(0, str(ROOT))

TARGET_S = 0.6
RUNS = 10


def main() -> int:
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        env = {**os.environ, "FLASK_APP": "app.py", "DATABASE_URL": f"sqlite:///{workdir / 'bench.sqlite'}",
               "STORAGE_DIR": str(workdir / "storage"), "SECRET_KEY": "bench-secret", "WUJI_ENV": "development"}
        for command in (["db", "upgrade"], ["demo", "load"]):
            subprocess.run([str(ROOT / ".venv" / "bin" / "flask"), *command], cwd=ROOT, env=env, check=True,
                           capture_output=True)
        os.environ.update({key: env[key] for key in ("DATABASE_URL", "STORAGE_DIR", "SECRET_KEY", "WUJI_ENV")})
        from sqlalchemy import select

        from app import create_app
        from core.extensions import db
        from orgs import demo
        from orgs.models import Estate, OrgNode, StairwellUnit

        app = create_app({"WTF_CSRF_ENABLED": False})
        client = app.test_client()
        client.post("/login", data={"login": "admin", "password": demo.DEMO_PASSWORD})
        with app.app_context():
            root = db.session.scalar(select(OrgNode.id).where(OrgNode.parent_id.is_(None)))
            estate = db.session.scalar(select(Estate.id).order_by(Estate.id))
            unit = db.session.scalar(select(StairwellUnit.id).order_by(StairwellUnit.id))
        pages = ["/admin/", f"/admin/orgs/{root}", f"/admin/estates/{estate}", f"/admin/units/{unit}",
                 "/admin/people/", "/admin/people/?q=%E7%BD%91%E6%A0%BC", "/admin/claims/"]
        failed = False
        for path in pages:
            times = []
            for _ in range(RUNS):
                start = time.perf_counter()
                response = client.get(path)
                times.append(time.perf_counter() - start)
                assert response.status_code == 200, (path, response.status_code)
            worst = max(times)
            failed |= worst > TARGET_S
            print(f"{path:<40} median {statistics.median(times) * 1000:7.1f} ms  worst {worst * 1000:7.1f} ms")
        root_code = _root_code(app)
        times = []
        for n in range(RUNS):
            start = time.perf_counter()
            response = client.post("/admin/people/", data={"name": f"测试{n}", "username": f"bench{n}",
                                                           "org": root_code, "role": "grid_worker"})
            times.append(time.perf_counter() - start)
            assert re.search(r'id="temp-password"', response.get_data(as_text=True)), response.status_code
        print(f"{'create account (POST)':<40} median {statistics.median(times) * 1000:7.1f} ms  "
              f"worst {max(times) * 1000:7.1f} ms")
        failed |= max(times) > TARGET_S
        print("target: every page under %.1f s: %s" % (TARGET_S, "missed" if failed else "met"))
        return 1 if failed else 0


def _root_code(app) -> str:
    from sqlalchemy import select

    from core.extensions import db
    from orgs.models import OrgNode

    with app.app_context():
        return db.session.scalar(select(OrgNode.code).where(OrgNode.parent_id.is_(None)))


if __name__ == "__main__":
    sys.exit(main())
