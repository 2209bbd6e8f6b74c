"""Benchmark: how long a wrong password takes for an unknown account and for a known one.

Run: .venv/bin/python bench/login_timing.py [--runs N]

With the production password hash (scrypt), an attacker must not learn from the time
taken whether an account name exists. Prints the median time of each case and their
ratio (target: unknown / known between 0.8 and 1.25). The throttle is lifted between
tries so that every try reaches the password check.
"""
from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path[:] = [str(HERE.parent)] + [p for p in sys.path if Path(p or ".").resolve() != HERE]

from flask_migrate import upgrade  # noqa: E402
from sqlalchemy import delete  # noqa: E402

from app import create_app  # noqa: E402
from core.db import write_transaction  # noqa: E402
from core.errors import DomainError  # noqa: E402
from core.extensions import db  # noqa: E402
from orgs import services  # noqa: E402
from orgs.models import LoginAttempt  # noqa: E402


def _median_ms(app, login: str, runs: int) -> float:
    times = []
    for _ in range(runs):
        with app.app_context():
            with write_transaction():
                db.session.execute(delete(LoginAttempt))
            started = time.perf_counter()
            try:
                services.authenticate(login, "not-the-password", "127.0.0.1")
            except DomainError:
                pass
            times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp}/bench.sqlite", "SECRET_KEY": "bench"})
        with app.app_context():
            upgrade()
            with write_transaction():
                services.add_person("测试", username="known", password="correct-horse-battery-staple")
        known = _median_ms(app, "known", args.runs)
        unknown = _median_ms(app, "nobody-by-this-name", args.runs)
        print(f"password hash: {app.config['PASSWORD_HASH_METHOD']}")
        print(f"wrong password, known account:   {known:7.1f} ms (median of {args.runs})")
        print(f"wrong password, unknown account: {unknown:7.1f} ms")
        print(f"ratio unknown/known: {unknown / known:.2f} (target 0.80-1.25)")


if __name__ == "__main__":
    main()
