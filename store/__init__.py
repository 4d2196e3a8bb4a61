"""Persistence: SQLModel tables and the one Store API that opens database sessions.

Example:
    >>> from store import Store
    >>> with Store.in_memory() as store:
    ...     store.ensure_source("mofcom", "商务部").slug
    'mofcom'
"""

from store.api import Store
from store.db import default_path, make_engine
from store.errors import CorruptDatabase, DatabaseLocked, NotFound, SchemaTooNew, SchemaTooOld, StoreError
from store.migrations import MIGRATIONS, Migration, Migrations, SchemaState
from store.models import (
    Alert,
    Appearance,
    Capture,
    Change,
    CrawlRun,
    Delivery,
    Document,
    DocumentUrl,
    Relation,
    Source,
    Recheck,
    Tag,
    Version,
    WithdrawalCheck,
)
from store.results import CaptureInfo, HistoryRow, SearchHit, VersionResult
from store.withdrawals import PendingRecheck, RecheckTarget

__all__ = [
    "MIGRATIONS",
    "Alert",
    "Appearance",
    "Capture",
    "CaptureInfo",
    "Change",
    "CorruptDatabase",
    "CrawlRun",
    "DatabaseLocked",
    "Delivery",
    "Document",
    "DocumentUrl",
    "HistoryRow",
    "Migration",
    "Migrations",
    "NotFound",
    "PendingRecheck",
    "Recheck",
    "RecheckTarget",
    "Relation",
    "SchemaState",
    "SchemaTooNew",
    "SchemaTooOld",
    "SearchHit",
    "Source",
    "Store",
    "StoreError",
    "Tag",
    "Version",
    "VersionResult",
    "WithdrawalCheck",
    "default_path",
    "make_engine",
]
