"""The workflow engine: workflows declared as data and fired in one transaction
(engine), the audit hash chain (audit), deadline referral (deadlines) and the one
sweep (sweep), timelines in words (timeline) and diagrams (diagram)."""
from __future__ import annotations

from flask import Flask

from workflow import audit, cli  # noqa: F401 - audit: its table


def init_app(app: Flask) -> None:
    cli.register(app)
