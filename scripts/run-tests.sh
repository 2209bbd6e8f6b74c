#!/usr/bin/env bash
# Run the whole suite on SQLite, then on PostgreSQL when it answers at TEST_DATABASE_URL.
# With CI=true an unreachable PostgreSQL is a failure, not a skip.
set -uo pipefail
cd "$(dirname "$0")/.."
PY=.venv/bin/python
export TEST_DATABASE_URL="${TEST_DATABASE_URL:-postgresql+psycopg://postgres@127.0.0.1:5432/test}"

echo "== tests on SQLite =="
WUJI_TEST_BACKEND=sqlite $PY -m pytest -q "$@"
sqlite_status=$?

if $PY - <<'PY'
import os, sys
import sqlalchemy as sa
try:
    sa.create_engine(os.environ["TEST_DATABASE_URL"]).connect().close()
except Exception as exc:  # noqa: BLE001 - any failure means "not reachable"
    print(f"PostgreSQL not reachable: {exc}", file=sys.stderr)
    sys.exit(1)
PY
then
  echo "== tests on PostgreSQL =="
  WUJI_TEST_BACKEND=postgresql $PY -m pytest -q "$@"
  pg_status=$?
else
  if [ "${CI:-}" = "true" ]; then
    echo "CI=true: PostgreSQL must be reachable at $TEST_DATABASE_URL" >&2
    pg_status=1
  else
    echo "PostgreSQL tests skipped (not reachable at $TEST_DATABASE_URL)"
    pg_status=0
  fi
fi

if [ $sqlite_status -ne 0 ] || [ $pg_status -ne 0 ]; then
  exit 1
fi
