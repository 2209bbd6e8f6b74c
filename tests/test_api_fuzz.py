"""Schemathesis over /api/v1/openapi.json: generated requests to every documented operation,
sent with a community officer's token, never get a server error (5xx).

Bounded (a few examples per operation, derandomised: the same requests every run) so that it
runs in `make test` on both databases; raise WUJI_FUZZ_EXAMPLES for a longer search.
"""
from __future__ import annotations

import os

import schemathesis
from hypothesis import HealthCheck, given, settings

from tests.issues.test_api import bearer

EXAMPLES = int(os.environ.get("WUJI_FUZZ_EXAMPLES", "8"))


def test_no_generated_request_gets_a_server_error(app, world):
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    headers = bearer(app, "community")
    server_errors: list[str] = []
    operations = 0
    for result in schema.get_all_operations():
        operation = result.ok()
        operations += 1

        @given(case=operation.as_strategy())
        @settings(max_examples=EXAMPLES, derandomize=True, deadline=None, database=None,
                  suppress_health_check=list(HealthCheck))
        def probe(case):
            response = case.call(headers=headers)
            if response.status_code >= 500:
                server_errors.append(f"{case.method} {case.formatted_path} {case.body!r} -> {response.status_code}")

        probe()
    assert operations > 20
    assert server_errors == [], "\n".join(server_errors[:20])
