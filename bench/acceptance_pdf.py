"""Benchmark: issue a 3-page signed acceptance record through the full service path.

Run from the project root: ``.venv/bin/python bench/acceptance_pdf.py``. A scratch SQLite
database gets the demo data in a separate process (`flask db upgrade`, `flask demo load`),
so this process starts cold. The demo's accepted inspection is given 60 checklist items,
then its record is issued again and again by acceptance.record.issue_record:
loading the inspection, the Chinese context, WeasyPrint rendering, the community
committee's signature and the street committee's incremental countersignature (keys
decrypted from the database), storage under the content hash and the short linking
transaction. Prints the cold time (first issue in this process), the warm median of 10,
the PDF size and the peak resident memory against the targets; exits 1 if one is missed.
"""
from __future__ import annotations

import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from io import BytesIO
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if sys.path[0] == str(Path(__file__).resolve().parent):
    sys.path.pop(0)  # bench/pdf.py must not shadow a package
sys.path.insert(0, str(ROOT))

TARGETS = {"warm_s": 0.6, "cold_s": 2.0, "size_kb": 600, "peak_mb": 350}
WARM_RUNS = 10
ITEMS = 60


def prepare(workdir: Path) -> dict[str, str]:
    """A scratch database with the demo data, built by another process."""
    env = {**os.environ, "FLASK_APP": "app.py", "DATABASE_URL": f"sqlite:///{workdir / 'bench.sqlite'}",
           "STORAGE_DIR": str(workdir / "storage"), "SECRET_KEY": "bench-secret", "WUJI_ENV": "development"}
    for command in (["db", "upgrade"], ["demo", "load"]):
        subprocess.run([str(ROOT / ".venv" / "bin" / "flask"), *command], cwd=ROOT, env=env, check=True,
                       capture_output=True)
    return env


def add_items(inspection_id: int) -> None:
    """Bring the demo inspection to 60 passed items (a 3-page record)."""
    from core.db import write_transaction
    from core.extensions import db
    from documents.samples import sample_checklist
    from acceptance.models import InspectionCheck, InspectionItem, JointInspection

    with write_transaction():
        inspection = db.session.get(JointInspection, inspection_id)
        extra = sample_checklist(ITEMS - len(inspection.items))
        for offset, row in enumerate(extra):
            item = InspectionItem(inspection=inspection, position=len(inspection.items) + offset, text=row["item"])
            item.checks.append(InspectionCheck(inspection_id=inspection.id, round_number=inspection.round,
                                               result="pass", notes=row["notes"] if row["result"] == "pass" else ""))
            db.session.add(item)


def issue_again(inspection_id: int) -> tuple[float, float, bytes]:
    """Forget the issued record, then time issuing it through the service (wall and CPU)."""
    from core.db import write_transaction
    from core.extensions import db
    from documents import services as documents
    from acceptance.models import JointInspection
    from acceptance.record import issue_record

    with write_transaction():
        db.session.get(JointInspection, inspection_id).record_document_id = None
    db.session.expire_all()
    start, cpu_start = time.perf_counter(), time.process_time()
    document = issue_record(inspection_id)
    elapsed, cpu = time.perf_counter() - start, time.process_time() - cpu_start
    return elapsed, cpu, documents.document_bytes(document)


def report_line(label: str, value: float, unit: str, target: float) -> bool:
    ok = value <= target
    print(f"  {label:<30}{value:>10.3f} {unit:<3} target <= {target:g} {unit:<3} {'ok' if ok else 'MISSED'}")
    return ok


def main() -> int:
    with tempfile.TemporaryDirectory(prefix="wuji-bench-") as scratch:
        env = prepare(Path(scratch))
        os.environ.update({key: env[key] for key in ("DATABASE_URL", "STORAGE_DIR", "SECRET_KEY", "WUJI_ENV")})
        setup_start = time.perf_counter()
        from app import create_app
        from core.extensions import db
        from documents import services as documents
        from pyhanko.pdf_utils.reader import PdfFileReader
        from sqlalchemy import select
        from acceptance.models import JointInspection

        app = create_app()
        with app.app_context():
            inspection_id = db.session.scalar(select(JointInspection.id).where(JointInspection.state == "accepted"))
            add_items(inspection_id)
            setup = time.perf_counter() - setup_start
            cold, cold_cpu, pdf = issue_again(inspection_id)
            runs = [issue_again(inspection_id) for _ in range(WARM_RUNS)]
            warm, warm_cpu, pdf = [run[0] for run in runs], [run[1] for run in runs], runs[-1][2]
            report = documents.verify(pdf)
        pages = int(PdfFileReader(BytesIO(pdf)).root["/Pages"]["/Count"])
        out = ROOT / "bench" / "out"
        out.mkdir(parents=True, exist_ok=True)
        (out / "acceptance_record_service.pdf").write_bytes(pdf)
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(f"Acceptance record through the service: {ITEMS} items, {pages} pages, 2 signatures "
              f"(community + street countersignature), valid: {report.valid}")
        print(f"  {'app start + data (not counted)':<30}{setup:>10.3f} s")
        print(f"  {'warm min / max':<30}{min(warm):>10.3f} / {max(warm):.3f} s")
        print(f"  {'CPU time warm (median) / cold':<30}{statistics.median(warm_cpu):>10.3f} / {cold_cpu:.3f} s")
        print(f"  {'load average (1 min)':<30}{os.getloadavg()[0]:>10.2f} on {os.cpu_count()} CPUs")
        results = [
            report_line("issue record warm (median)", statistics.median(warm), "s", TARGETS["warm_s"]),
            report_line("issue record cold (first)", cold, "s", TARGETS["cold_s"]),
            report_line("signed PDF size", len(pdf) / 1024, "KB", TARGETS["size_kb"]),
            report_line("peak memory (maxrss)", peak, "MB", TARGETS["peak_mb"]),
        ]
        return 0 if all(results) and report.valid and pages == 3 else 1


if __name__ == "__main__":
    sys.exit(main())
