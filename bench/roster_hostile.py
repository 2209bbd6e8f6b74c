"""Benchmark: memory of a hostile roster import (a ~100 KB .xlsx whose owner-name cell
unpacks to 100 MB).

Run: .venv/bin/python bench/roster_hostile.py

Writes the workbook (the cell as an inline string, deflated), then imports it in a child
process through the import service and prints the child's peak memory and what the
report says. Target: peak memory <= 300 MB, a short error, nothing written.
"""
from __future__ import annotations

import io
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent

CHILD = r"""
import resource, sys, io
sys.path.insert(0, %(root)r)
from flask_migrate import upgrade
from app import create_app
from core.db import write_transaction
from orgs import roster, services, roles
app = create_app({"SQLALCHEMY_DATABASE_URI": "sqlite:///%(db)s", "SECRET_KEY": "bench"})
with app.app_context():
    started = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    upgrade()
    print(f"memory after start-up: {started:.0f} MB; after migrating: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")
    with write_transaction():
        street = services.add_org_node(None, "street_committee", "S", "街道")
        services.add_estate(street, "E1", "小区", "路1号")
        admin = services.add_person("管理员", username="admin", password="correct-horse-battery-staple")
        services.grant_role(admin, street, roles.ADMIN)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    report = roster.import_roster(admin, "E1", open(%(path)r, "rb"))
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"import ok: {report.ok}; errors: {report.errors_total}; first: {str(report.errors[0])[:120]!r}")
    print(f"longest error message: {max(len(str(e)) for e in report.errors)} characters")
    print(f"peak memory of the importing process: {peak:.0f} MB (target <= 300 MB); {before:.0f} MB before the import")
"""

SHEET = ('<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.openxmlformats.org/'
         'spreadsheetml/2006/main"><sheetData><row r="1">{header}</row><row r="2">{cells}</row></sheetData>'
         '</worksheet>')


def _inline(ref: str, text: str) -> str:
    return f'<c r="{ref}" t="inlineStr"><is><t>{text}</t></is></c>'


def hostile_workbook(path: Path, cell_mb: int = 100) -> int:
    sys.path.insert(0, str(ROOT))
    from openpyxl import Workbook

    from orgs.roster import COLUMNS

    base = io.BytesIO()
    Workbook().save(base)  # every other part of a valid workbook
    letters = "ABCDEFGHI"
    header = "".join(_inline(f"{letters[i]}1", c.header) for i, c in enumerate(COLUMNS))
    values = ["1号楼", "1单元", "101", "80", "2", "张" * (cell_mb * 1024 * 1024 // 3), "", "否", ""]
    cells = "".join(_inline(f"{letters[i]}2", v) for i, v in enumerate(values))
    with zipfile.ZipFile(base) as source, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as out:
        for item in source.infolist():
            data = source.read(item.filename)
            if item.filename == "xl/worksheets/sheet1.xml":
                data = SHEET.format(header=header, cells=cells).encode("utf-8")
            out.writestr(item.filename, data)
    return path.stat().st_size


def main() -> None:
    if len(sys.argv) == 3 and sys.argv[1] == "--make":
        hostile_workbook(Path(sys.argv[2]))
        return
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "hostile.xlsx"
        # Made in a process of its own: Linux keeps a process's peak memory across exec, so
        # the importing child must not be forked from one that held the 100 MB cell.
        subprocess.run([sys.executable, __file__, "--make", str(path)], check=True)
        size = path.stat().st_size
        print(f"hostile workbook: {size / 1024:.0f} KB on disk, one cell of 100 MB unpacked")
        code = CHILD % {"root": str(ROOT), "db": f"{tmp}/bench.sqlite", "path": str(path)}
        subprocess.run([sys.executable, "-c", code], check=True)


if __name__ == "__main__":
    main()
