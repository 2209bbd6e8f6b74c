"""Column types shared by the packages."""
from sqlalchemy import String, and_
from sqlalchemy.sql.elements import ColumnElement


def PathColumnType():
    """Materialized path ("/1/4/17/"): byte-wise collation on PostgreSQL too, so that
    the prefix range below can use a plain btree index on both backends."""
    return String(255).with_variant(String(255, collation="C"), "postgresql")


def under_path(column, prefix: str) -> ColumnElement[bool]:
    """column lies at or under `prefix` (which ends with "/"): an index range scan.

    The upper bound replaces the final "/" by the next character ("0"), so every
    "/1/4/..." lies in ["/1/4/", "/1/40") while "/1/40/" and "/1/5/" do not.
    """
    upper = prefix[:-1] + chr(ord(prefix[-1]) + 1)
    return and_(column >= prefix, column < upper)
