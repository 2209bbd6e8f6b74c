"""Benchmark: sign task force minutes through the full service path (taskforce.services.sign_minutes).

Run from the project root: ``.venv/bin/python bench/minutes_pdf.py``. A scratch SQLite database
gets the demo data in a separate process (`flask db upgrade`, `flask demo load`), so this process
starts cold. Eleven meetings of the demo task force are held with eight members present, minutes of
about two pages drafted and approved by every member present; then each is signed: loading the
meeting, the Chinese context, WeasyPrint rendering, the convening committee's PAdES signature (key
decrypted from the database), storage under the content hash and the transition to "signed" with
its audit entry. Prints the cold time (first signing in this process), the warm median of 10, the
PDF size and peak memory against the targets; exits 1 if one is missed.
"""
from __future__ import annotations

import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import timedelta
from io import BytesIO
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if sys.path[0] == str(Path(__file__).resolve().parent):
    sys.path.pop(0)  # bench/pdf.py must not shadow a package
sys.path.insert(0, str(ROOT))

TARGETS = {"warm_s": 0.6, "cold_s": 2.0, "size_kb": 600, "peak_mb": 350}
WARM_RUNS = 10
MINUTES = "\n".join(
    f"{n}、{topic}：施工方通报本周完成情况，监理方通报抽检结果，居民代表反映意见，会议逐项研究并明确责任单位和完成时限。"
    for n, topic in enumerate(["外墙保温", "雨污分流", "屋面防水", "飞线入地", "电动车棚", "道路铺装", "绿化提升",
                               "楼道粉刷", "消防设施", "智能门禁", "停车位划线", "充电桩安装"] * 2, start=1)
)


def prepare(workdir: Path) -> dict[str, str]:
    env = {**os.environ, "FLASK_APP": "app.py", "DATABASE_URL": f"sqlite:///{workdir / 'bench.sqlite'}",
           "STORAGE_DIR": str(workdir / "storage"), "SECRET_KEY": "bench-secret", "WUJI_ENV": "development"}
    for command in (["db", "upgrade"], ["demo", "load"]):
        subprocess.run([str(ROOT / ".venv" / "bin" / "flask"), *command], cwd=ROOT, env=env, check=True,
                       capture_output=True)
    return env


def approved_meetings(count: int) -> list[int]:
    """`count` meetings held yesterday, minutes drafted and approved by every member present."""
    from sqlalchemy import select, update

    from core.db import utcnow, write_transaction
    from core.extensions import db
    from orgs.models import Person
    from taskforce import services
    from taskforce.models import TaskForce, TaskForceMeeting

    community = db.session.scalar(select(Person).where(Person.username == "community"))
    task_force = db.session.scalar(select(TaskForce))
    start = services.to_local(utcnow() + timedelta(days=1)).replace(tzinfo=None, second=0, microsecond=0)
    ids = [m.id for m in services.schedule_meetings(community, task_force.id, services.Schedule(
        title="工作推进会（基准）", starts_at=start, location="社区会议室", every_days=7, count=count))]
    with write_transaction():
        db.session.execute(update(TaskForceMeeting).where(TaskForceMeeting.id.in_(ids)).values(
            starts_at=utcnow() - timedelta(days=1), ends_at=utcnow() - timedelta(hours=22)))
    members = services.get_task_force(community, task_force.id).active_members
    for meeting_id in ids:
        services.record_attendance(community, meeting_id, None, [m.id for m in members])
        services.draft_minutes(community, meeting_id, None, MINUTES, "一、严格落实夜间施工管控；二、三日内清理消防通道。")
        for member in members:
            services.approve_minutes(member.person, meeting_id, None)
    return ids


def sign(meeting_id: int) -> tuple[float, float, bytes]:
    from core.extensions import db
    from documents import services as documents
    from orgs.models import Person
    from sqlalchemy import select
    from taskforce import services

    db.session.expire_all()
    community = db.session.scalar(select(Person).where(Person.username == "community"))
    start, cpu_start = time.perf_counter(), time.process_time()
    meeting = services.sign_minutes(community, meeting_id, None)
    elapsed, cpu = time.perf_counter() - start, time.process_time() - cpu_start
    return elapsed, cpu, documents.document_bytes(services.minutes_document(meeting))


def report_line(label: str, value: float, unit: str, target: float) -> bool:
    ok = value <= target
    print(f"  {label:<30}{value:>10.3f} {unit:<3} target <= {target:g} {unit:<3} {'ok' if ok else 'MISSED'}")
    return ok


def main() -> int:
    with tempfile.TemporaryDirectory(prefix="wuji-bench-") as scratch:
        env = prepare(Path(scratch))
        os.environ.update({key: env[key] for key in ("DATABASE_URL", "STORAGE_DIR", "SECRET_KEY", "WUJI_ENV")})
        from app import create_app
        from documents import services as documents
        from pyhanko.pdf_utils.reader import PdfFileReader

        app = create_app()
        with app.test_request_context():
            setup_start = time.perf_counter()
            ids = approved_meetings(WARM_RUNS + 1)
            setup = time.perf_counter() - setup_start
            cold, cold_cpu, pdf = sign(ids[0])
            runs = [sign(meeting_id) for meeting_id in ids[1:]]
            warm, warm_cpu, pdf = [r[0] for r in runs], [r[1] for r in runs], runs[-1][2]
            report = documents.verify(pdf)
        pages = int(PdfFileReader(BytesIO(pdf)).root["/Pages"]["/Count"])
        out = ROOT / "bench" / "out"
        out.mkdir(parents=True, exist_ok=True)
        (out / "taskforce_minutes.pdf").write_bytes(pdf)
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(f"Task force minutes signed through the service: {pages} pages, 1 signature, valid: {report.valid}")
        print(f"  {'meetings held + approved (not counted)':<30}{setup:>10.3f} s")
        print(f"  {'warm min / max':<30}{min(warm):>10.3f} / {max(warm):.3f} s")
        print(f"  {'CPU time warm (median) / cold':<30}{statistics.median(warm_cpu):>10.3f} / {cold_cpu:.3f} s")
        print(f"  {'load average (1 min)':<30}{os.getloadavg()[0]:>10.2f} on {os.cpu_count()} CPUs")
        results = [
            report_line("sign minutes warm (median)", statistics.median(warm), "s", TARGETS["warm_s"]),
            report_line("sign minutes cold (first)", cold, "s", TARGETS["cold_s"]),
            report_line("signed PDF size", len(pdf) / 1024, "KB", TARGETS["size_kb"]),
            report_line("peak memory (maxrss)", peak, "MB", TARGETS["peak_mb"]),
        ]
        return 0 if all(results) and report.valid else 1


if __name__ == "__main__":
    sys.exit(main())
