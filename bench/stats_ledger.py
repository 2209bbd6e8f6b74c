"""Benchmark a 100,000-row ledger (prints figures; not a test).

The street of bench/stats_dashboard.py with --issues generated issues (default
100,000; the database is built once and cached the same way), and the street's ledger
of every item (a custom period over the two years) written by stats.ledger.write_ledger
to a file, in a fresh process so that its peak memory is the ledger's own.
Target: <= 20 s and <= 300 MB (peak resident set of the process).

Run:  .venv/bin/python bench/stats_ledger.py [--issues 100000] [--no-pg] [--pg URL]
"""
from __future__ import annotations

import argparse
import importlib.util
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:] = [str(ROOT)] + [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]

TIME_TARGET_S = 20.0
MEMORY_TARGET_MB = 300.0


def _dashboard_bench():
    spec = importlib.util.spec_from_file_location("stats_dashboard_bench", Path(__file__).with_name("stats_dashboard.py"))
    module = importlib.util.module_from_spec(spec)
    sys.modules["stats_dashboard_bench"] = module
    spec.loader.exec_module(module)
    return module


def _peak_mb() -> float:
    """This process's peak resident set (VmHWM: unlike ru_maxrss, not inherited across exec)."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def measure(url: str) -> None:
    """In this (fresh) process: write the street's ledger, print rows, seconds, peak MB."""
    from datetime import date

    import sqlalchemy as sa

    from app import create_app
    from core.extensions import db
    from orgs.models import OrgNode
    from stats.ledger import write_ledger
    from stats.periods import Period

    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench-only"})
    with app.app_context(), app.test_request_context():
        street = db.session.scalar(sa.select(OrgNode).where(OrgNode.parent_id.is_(None)))
        period = Period("custom", date(2000, 1, 1), date(2100, 12, 31))
        handle, path = tempfile.mkstemp(suffix=".xlsx")
        os.close(handle)
        before = _peak_mb()
        start, start_cpu = time.perf_counter(), time.process_time()
        rows = write_ledger(street, period, path)
        seconds, cpu = time.perf_counter() - start, time.process_time() - start_cpu
        peak = _peak_mb()
        size = os.path.getsize(path) / 1e6
        os.unlink(path)
    print(f"  {rows:,} rows in {seconds:.1f} s (CPU {cpu:.1f} s), file {size:.1f} MB, peak memory {peak:.0f} MB "
          f"(app loaded: {before:.0f} MB)")
    ok = seconds <= TIME_TARGET_S and peak <= MEMORY_TARGET_MB
    print(f"  target <= {TIME_TARGET_S:.0f} s and <= {MEMORY_TARGET_MB:.0f} MB: {'met' if ok else 'NOT met'}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--issues", type=int, default=100_000)
    parser.add_argument("--pg", default="postgresql+psycopg://postgres@127.0.0.1:5432/wuji_bench_ledger")
    parser.add_argument("--no-pg", action="store_true")
    parser.add_argument("--measure", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure:
        measure(args.measure)
        return
    bench = _dashboard_bench()
    out = ROOT / "bench" / "out"
    out.mkdir(exist_ok=True)
    backends = [("SQLite", f"sqlite:///{out / f'stats_dashboard_{args.issues}.sqlite'}")]
    if not args.no_pg and bench.wt.pg_reachable(args.pg):
        backends.append(("PostgreSQL", args.pg))
    for label, url in backends:
        print(f"{label}: ledger of a street with {args.issues:,} issues", flush=True)
        app, _person = bench.prepare(url, args.issues)
        with app.app_context():
            bench.db.engine.dispose()
        subprocess.run([sys.executable, __file__, "--measure", url], check=True)


if __name__ == "__main__":
    main()
