"""The fleet store: one DuckDB file with a row per application and a row per finding, whatever engine filled it.

It is what makes a second run cheap (an application whose log has the same fingerprint is not read again) and
what the fleet's questions are asked of (`Fleet`). Only the process that runs the fleet writes it.
"""
from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import duckdb

from ..errors import SparkswordError
from ..store import dict_rows, quote_literal
from .summary import APP_COLUMNS, FINDING_COLUMNS, FleetResult

# Bumped when a column changes: an older store is rebuilt rather than read wrongly.
STORE_VERSION = 1

_SCHEMA = f"""
CREATE TABLE IF NOT EXISTS fleet_meta (version INTEGER);
CREATE TABLE IF NOT EXISTS apps (
  key VARCHAR PRIMARY KEY, fingerprint VARCHAR, app VARCHAR, app_id VARCHAR, attempt_id VARCHAR, name VARCHAR,
  "user" VARCHAR, spark_version VARCHAR, start_ms BIGINT, end_ms BIGINT, duration_ms BIGINT, status VARCHAR,
  executors BIGINT, cores BIGINT, core_ms_allocated BIGINT, core_ms_busy BIGINT, core_ms_idle BIGINT,
  tasks BIGINT, failed_tasks BIGINT, size_bytes BIGINT, path VARCHAR, error VARCHAR, load_s DOUBLE
);
CREATE TABLE IF NOT EXISTS findings (
  key VARCHAR, app_id VARCHAR, attempt_id VARCHAR, type VARCHAR, finding VARCHAR, title VARCHAR, severity VARCHAR,
  confidence VARCHAR, impact_ms BIGINT, impact_share DOUBLE, stage_ids VARCHAR
);
INSERT INTO fleet_meta SELECT {STORE_VERSION} WHERE NOT EXISTS (SELECT 1 FROM fleet_meta);
"""


def default_store_path(target: str) -> Path:
    """Where the fleet of `target` is kept unless the user names a file: one store per target, in the cache."""
    from ..store import cache_dir

    digest = hashlib.sha1(target.encode("utf-8", "surrogateescape")).hexdigest()[:16]
    return cache_dir() / "fleet" / f"{digest}.duckdb"


class FleetStore:
    """The DuckDB file (or ``:memory:``) holding a fleet's rows."""

    def __init__(self, path: str | Path) -> None:
        self.path = str(path)
        if self.path != ":memory:":
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        try:
            self.con = duckdb.connect(self.path)
        except duckdb.Error as err:
            raise SparkswordError(f"cannot open the fleet store ({str(err).splitlines()[0]})", path=self.path) from None
        self.con.execute("SET enable_progress_bar = false")
        try:
            version = self.con.execute("SELECT max(version) FROM fleet_meta").fetchone()
        except duckdb.CatalogException:
            version = None
        if version is not None and version[0] != STORE_VERSION:
            self.con.execute("DROP TABLE IF EXISTS apps; DROP TABLE IF EXISTS findings; DROP TABLE fleet_meta")
        self.con.execute(_SCHEMA)

    def fingerprints(self) -> dict[str, tuple[str, str]]:
        """``key -> (fingerprint, status)`` of every application the store holds."""
        return {k: (f, s) for k, f, s in self.con.execute("SELECT key, fingerprint, status FROM apps").fetchall()}

    def forget(self, keys: list[str]) -> None:
        """Drop these applications (their logs are gone or are about to be read again)."""
        if keys:
            self.con.execute("DELETE FROM findings WHERE key IN (SELECT unnest($keys))", {"keys": keys})
            self.con.execute("DELETE FROM apps WHERE key IN (SELECT unnest($keys))", {"keys": keys})

    def put(self, result: FleetResult) -> None:
        """Store one application's row and findings, replacing what the store held for its key."""
        self.forget([result.app["key"]])
        self.con.execute(f"INSERT INTO apps ({', '.join(_quoted(APP_COLUMNS))}) VALUES "
                         f"({', '.join('?' * len(APP_COLUMNS))})", [result.app.get(c) for c in APP_COLUMNS])
        if result.findings:
            self.con.executemany(
                f"INSERT INTO findings ({', '.join(FINDING_COLUMNS)}) VALUES ({', '.join('?' * len(FINDING_COLUMNS))})",
                [[f.get(c) for c in FINDING_COLUMNS] for f in result.findings])

    def rows(self, query: str, params: dict[str, Any] | None = None) -> list[dict[str, Any]]:
        """The result of SQL over the store's tables (`apps`, `findings`), as dicts."""
        return dict_rows(self.con.execute(query, params or {}))

    def close(self) -> None:
        """Close the file (a fleet run leaves it for the next one)."""
        self.con.close()

    def detached(self) -> FleetStore:
        """Close the file and return an in-memory copy of its rows: a notebook that keeps a fleet open does not
        hold the file's lock, so the next run (another kernel, the CLI, a scheduled job) can write it."""
        if self.path == ":memory:":
            return self
        self.con.execute("CHECKPOINT")
        self.con.close()
        copy = FleetStore(":memory:")
        copy.path = self.path
        copy.con.execute(f"ATTACH {quote_literal(self.path)} AS _file (READ_ONLY)")
        copy.con.execute("DELETE FROM fleet_meta")
        for table in ("fleet_meta", "apps", "findings"):
            copy.con.execute(f"INSERT INTO {table} SELECT * FROM _file.{table}")
        copy.con.execute("DETACH _file")
        return copy


def _quoted(columns: tuple[str, ...]) -> list[str]:
    return [f'"{c}"' for c in columns]
