"""Roster import and export: the households of one estate as an .xlsx workbook.

Layout (one workbook, the first worksheet is read; row 1 is the header, then one
row per household; columns are found by their header, in any order, and columns
not listed here are ignored):

=================  ==============  ========  ==============================================
header             key             required  content
=================  ==============  ========  ==============================================
楼栋                building        yes       building number, e.g. 3号楼
单元                unit            yes       stairwell unit, e.g. 2单元
房号                room            yes       room, e.g. 501
专有部分面积(㎡)     area            yes       registered exclusive area, >= 0, at most 2 decimals
成年居民数          adults          yes       adult residents, a whole number 0-999 (blank = 0)
业主姓名            owner_names     yes       owners, separated by 、 , ， ; or ； (blank = none)
业主手机号          owner_phones    yes       the owners' phones in the same order (blank = none;
                                             an empty slot, as in "13800000001、", means that
                                             owner has no phone)
是否未售            unsold          yes       是 / 否 (blank = 否); an unsold household has no owners
负责楼院党小组编码   org_code        no        code of the org node (usually a building Party
                                             group) answering for the row's building
=================  ==============  ========  ==============================================

The headers and the 是/否 values are the file format, not interface text: they
stay the same whatever language the interface speaks (the English keys above are
accepted as headers too), so a file exported by anyone imports for everyone.
`write_template()` writes the empty layout plus a sheet explaining each column.

What an import does:
- Buildings and units are created as needed. A household is identified by
  (building, unit, room): a new one is created, an existing one is updated (area,
  adult residents, unsold, owners) and one that is not in the file is left alone.
  Exporting and importing the export again changes nothing.
- Owners with a phone are matched by phone across the whole system, so a person
  who owns several households is one person (a phone already registered under a
  different name is an error). Owners without a phone are matched by name among
  the household's current owners, else created; give a phone to make a person who
  owns several households one person.
- A blank org code leaves an existing building's org as it is; a code must name
  an org node at or under the estate's own org node.
- Every row is checked before anything is written. Any bad row means nothing is
  imported; the report lists every bad row with its row number and the reason.
  The writes are one transaction, with bulk inserts and updates.

`export_roster()` writes the same layout (openpyxl write-only mode), so an
export imports back unchanged.

The web page does not import in the request: `queue_import()` checks the file
cheaply, stores it (core.storage) and queues a job (orgs.models.RosterImport);
`run_import_job()` runs it later, in a thread of the web process or from
`flask roster run-jobs`, and writes its progress and outcome to the job row.

Modules: columns (the workbook's columns, the report), reading (cells, rows, checks),
importing (one transaction), exporting (export and template), jobs (the web page's imports).
"""
from __future__ import annotations

from orgs.models import RosterImport  # noqa: F401 - the job rows
from orgs.roster.columns import COLUMNS, NO, READ, WRITE, YES, ImportReport, RowError
from orgs.roster.exporting import export_roster, write_template
from orgs.roster.importing import import_roster
from orgs.roster.jobs import (
    DONE,
    FAILED,
    JOB_ERRORS,
    QUEUED,
    RUNNING,
    STALE,
    STALE_MINUTES,
    FileRefused,
    fail_stale_jobs,
    queue_import,
    recent_imports,
    run_import_job,
    run_queued_jobs,
    stale_before,
    stale_message,
    start_import_thread,
)

__all__ = [
    "COLUMNS", "DONE", "FAILED", "JOB_ERRORS", "NO", "QUEUED", "READ", "RUNNING", "STALE", "STALE_MINUTES", "WRITE",
    "YES", "FileRefused", "ImportReport", "RowError", "export_roster", "fail_stale_jobs", "import_roster",
    "queue_import", "recent_imports", "run_import_job", "run_queued_jobs", "stale_before", "stale_message",
    "start_import_thread", "write_template",
]
