"""The session store: one DuckDB connection holding the canonical tables of several applications.

`Session.load()` stages an application's rows (see `ingest.loader`) and writes them to the cache, a DuckDB file
per log. Each canonical table of the session (`main.tasks`, ...) is a view over the rows held in memory
(`main._rows_tasks`: applications loaded without the cache) and the same table of every cache file attached
(read-only) for the applications that have one: a cached application is opened in place, without copying its rows
into memory. A load changes the views and rows in one transaction, so a failed load leaves earlier applications
untouched. `EventLog` is the handle on one application: SQL and DataFrames over its rows only, and History Server
REST answers.
"""
from __future__ import annotations

import hashlib
import os
import re
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import duckdb

from .errors import SeveralApplications, SparkswordError
from .ingest.catalog import catalog
from .ingest.loader import (
    STAGING_TABLES,
    LoadReport,
    Staging,
    default_workdir,
    out_of_memory_error,
    stage_app_log,
)
from .ingest.locate import find_app_logs
from .ingest.remote import is_remote
from .ingest.sources import AppLog, application_identity, discover
from .spark.quantiles import summary_sql
from .text import terminal_safe
from .version import __version__

if TYPE_CHECKING:
    from collections.abc import Iterable

    import pandas as pd

    from .compare import Comparison
    from .fleets import Fleet
    from .timeline import TimeAccount

# Bump when the tables' shape changes, so old cache files are not reused.
CACHE_FORMAT = 1

# The task metrics of the stage_task_quantiles view (each a sorted list of the stage attempt's successful tasks).
_SUMMARY_COLUMNS = ("duration_ms", "run_time_ms", "shuffle_read_bytes", "input_bytes", "shuffle_write_bytes",
                    "memory_spill_bytes", "disk_spill_bytes", "gc_time_ms")

# Views over the canonical tables that every panel needs.
_VIEWS = {
    # Order statistics at min(floor(q * n), n - 1) over the successful tasks, the History Server's rule
    # (not interpolation); `log.rest(".../taskSummary")` gives its exact answer incl. its duration quirks.
    "stage_task_quantiles": f"""
        WITH ok AS (
          SELECT app_id, attempt_id, stage_id, stage_attempt_id, count(*) AS n,
            list_sort(list(duration_ms)) AS duration_ms, list_sort(list(executor_run_time_ms)) AS run_time_ms,
            list_sort(list(shuffle_read_bytes)) AS shuffle_read_bytes,
            list_sort(list(input_bytes)) AS input_bytes, list_sort(list(shuffle_write_bytes)) AS shuffle_write_bytes,
            list_sort(list(memory_bytes_spilled)) AS memory_spill_bytes,
            list_sort(list(disk_bytes_spilled)) AS disk_spill_bytes, list_sort(list(jvm_gc_time_ms)) AS gc_time_ms
          FROM tasks WHERE status = 'SUCCESS' GROUP BY ALL
        )
        SELECT app_id, attempt_id, stage_id, stage_attempt_id, n AS successful_tasks,
          {", ".join(f"{summary_sql(column, 'n')} AS {column}_q" for column in _SUMMARY_COLUMNS)}
        FROM ok""",
    "shuffle_edges": """
        SELECT c.app_id, c.attempt_id, p.parent_id AS parent_stage_id, c.stage_id AS child_stage_id,
          (SELECT max(s.shuffle_write_bytes) FROM stages s WHERE s.app_id = c.app_id
             AND s.attempt_id = c.attempt_id AND s.stage_id = p.parent_id) AS shuffle_write_bytes,
          max(c.shuffle_read_bytes) AS shuffle_read_bytes
        FROM stages c, unnest(c.parent_ids) AS p(parent_id) GROUP BY ALL""",
    "executor_timeline": """
        SELECT app_id, attempt_id, executor_id, host, cores, added_ms, removed_ms, removed_reason,
          (SELECT count(*) FROM tasks t WHERE t.app_id = e.app_id AND t.attempt_id = e.attempt_id
             AND t.executor_id = e.executor_id) AS tasks
        FROM executors e""",
}

CANONICAL_TABLES: tuple[str, ...] = STAGING_TABLES
VIEWS: tuple[str, ...] = tuple(_VIEWS)


def cache_dir() -> Path:
    """Where parsed logs are kept (SPARKSWORD_CACHE_DIR, else the user's cache directory)."""
    value = os.environ.get("SPARKSWORD_CACHE_DIR")
    if value:
        return Path(value)
    import platformdirs

    return Path(platformdirs.user_cache_dir("sparksword_nb"))


# What a session's DuckDB may hold in memory before it spills to disk (SPARKSWORD_MEMORY_LIMIT overrides): the
# 1.04 GB benchmark log's load needs ~900 MB and does not spill under it (4.1 s, peak RSS 0.9 GB, as with 1.5 GB);
# the 5.2 GB one spills and stays at 1.4 GB of RSS (24 s; 1.7 GB under a 1.5 GB limit). Python, the libraries and
# DuckDB's allocations outside its buffer pool take the last ~200 MB of RSS.
DEFAULT_MEMORY_LIMIT = "1200MB"

# The cache holds at most this many bytes (SPARKSWORD_CACHE_MAX_BYTES overrides); the least recently used go first.
DEFAULT_CACHE_MAX_BYTES = 4 << 30
# Logs smaller than this are cached in 16 KiB blocks instead of DuckDB's 256 KiB: a 60 KB log then takes a few
# hundred KB of cache, not megabytes, and small tables read no slower.
_SMALL_LOG_BYTES = 64 << 20
_SMALL_BLOCK_SIZE = 16384


def remote_mirror_dir() -> Path:
    """Where logs read from remote stores and History Servers are copied (inside the cache directory)."""
    return cache_dir() / "remote"


def cache_max_bytes() -> int:
    """The cache's size bound in bytes (SPARKSWORD_CACHE_MAX_BYTES, else 4 GiB)."""
    value = os.environ.get("SPARKSWORD_CACHE_MAX_BYTES")
    try:
        return int(value) if value else DEFAULT_CACHE_MAX_BYTES
    except ValueError:
        raise SparkswordError(f"SPARKSWORD_CACHE_MAX_BYTES must be a number of bytes, not {value!r}") from None


def _cache_files() -> list[Path]:
    folder = cache_dir()
    return sorted(folder.glob("*.duckdb")) if folder.is_dir() else []


def _downloaded_files() -> list[Path]:
    """The copies of remote logs (and their version notes) in the mirror."""
    folder = remote_mirror_dir()
    return [f for f in folder.rglob("*") if f.is_file()] if folder.is_dir() else []


def cache_info() -> dict[str, Any]:
    """Where the cache is, how many parsed logs it holds, their bytes, and its bound; and the remote logs'
    downloaded copies (`downloaded_files`, `downloaded_bytes`)."""
    files = _cache_files()
    downloaded = _downloaded_files()
    return {"directory": str(cache_dir()), "files": len(files), "bytes": sum(f.stat().st_size for f in files),
            "max_bytes": cache_max_bytes(), "downloaded_files": len(downloaded),
            "downloaded_bytes": sum(f.stat().st_size for f in downloaded)}


def clear_cache() -> int:
    """Delete every cached parse and every downloaded copy of a remote log; returns how many parses were removed."""
    import shutil

    files = _cache_files()
    for f in files:
        f.unlink(missing_ok=True)
    shutil.rmtree(remote_mirror_dir(), ignore_errors=True)
    return len(files)


def trim_cache(max_bytes: int | None = None) -> int:
    """Delete the least recently used cached parses until the cache fits `max_bytes`; returns how many."""
    limit = cache_max_bytes() if max_bytes is None else max_bytes
    files = sorted(_cache_files(), key=lambda f: f.stat().st_mtime)
    total = sum(f.stat().st_size for f in files)
    removed = 0
    for f in files:
        if total <= limit:
            break
        total -= f.stat().st_size
        f.unlink(missing_ok=True)
        removed += 1
    return removed


def _tables_signature() -> str:
    """A digest of the SQL and column types that shape the tables: a change to them retires old caches."""
    from .ingest import canonical, loader, schema
    from .spark import plan_graph

    digest = hashlib.sha256()
    for module in (schema, canonical, loader, plan_graph):
        digest.update(Path(str(module.__file__)).read_bytes())
    return digest.hexdigest()[:16]


def _cache_file(app_log: AppLog) -> Path:
    key = repr((CACHE_FORMAT, __version__, _tables_signature(), app_log.fingerprint())).encode()
    return cache_dir() / f"{hashlib.sha256(key).hexdigest()[:32]}.duckdb"


def quote_literal(text: str) -> str:
    """`text` as a SQL string literal (for the statements that take no parameters: ATTACH, SET)."""
    return "'" + text.replace("'", "''") + "'"


def dict_rows(cursor: duckdb.DuckDBPyConnection) -> list[dict[str, Any]]:
    """The rows of the query `cursor` has just executed, one dict (column -> value) each."""
    columns = [d[0] for d in cursor.description]
    return [dict(zip(columns, values)) for values in cursor.fetchall()]


class Session:
    """One DuckDB connection (in memory, or a database file) holding any number of applications."""

    def __init__(self, database: str | Path = ":memory:", *, memory_limit: str | None = None) -> None:
        """`memory_limit` (DuckDB's syntax, e.g. "4GB"; default SPARKSWORD_MEMORY_LIMIT, else 1200MB) bounds what
        loads and queries hold in memory: above it DuckDB writes to a temporary folder instead, so a 5 GB log loads
        in about as much memory as a 1 GB one (slower), rather than taking the kernel down."""
        self.con = duckdb.connect(str(database))
        # Our own tqdm bar reports loads; DuckDB's would print raw progress lines into the notebook.
        self.con.execute("SET enable_progress_bar = false")
        limit = memory_limit or os.environ.get("SPARKSWORD_MEMORY_LIMIT") or DEFAULT_MEMORY_LIMIT
        try:
            self.con.execute(f"SET memory_limit = {quote_literal(limit)}")
        except duckdb.Error as err:
            raise SparkswordError(f"bad memory limit {limit!r} (use e.g. 4GB): {str(err).splitlines()[0]}") from None
        # one folder per process: DuckDB names its spill files the same in every process
        spill = Path(os.environ.get("SPARKSWORD_TMPDIR") or tempfile.gettempdir()) / f"sparksword-spill-{os.getpid()}"
        self.con.execute(f"SET temp_directory = {quote_literal(str(spill))}")
        self._logs: dict[tuple[str, str], EventLog] = {}
        self._schema_counter = 0
        # (app id, attempt id) -> the alias of the cache file its rows are read from. Only an in-memory session
        # reads cache files in place: a database file's views would name files that are gone when it is reopened.
        self._attached: dict[tuple[str, str], str] = {}
        self._attach_counter = 0
        self._reads_cache_in_place = str(database) == ":memory:"

    # ---- loading -------------------------------------------------------------------------------
    def load(self, path: Any, *, app: str | None = None, cache: bool = True,
             storage_options: dict[str, Any] | None = None) -> EventLog:
        """Load one application.

        `path` is a file, rolling dir, history dir or glob; a bundled sample's name; a SparkSession or SparkContext
        (the application it is running, as far as it has written its log); a History Server URL
        (``http://host:18080``); or a remote store URL (``s3://``, ``gs://``, ``abfs://``, ``hdfs://``, ``https://``),
        read with each store's credential chain and `storage_options`. Where it holds several applications, `app`
        names which: its log name, its application id (the latest attempt), ``<application id>/<attempt id>``, or
        its row in :func:`applications_in`.
        """
        return self._load_one(find_app_log(path, app=app, storage_options=storage_options), cache=cache)

    def load_app_log(self, app_log: AppLog, *, cache: bool = True, progress: bool = True) -> EventLog:
        """Load the application whose files `find_app_log` found (`progress=False`: no progress bar, as for the
        refreshes a live report makes in the background)."""
        return self._load_one(app_log, cache=cache, progress=progress)

    def load_all(self, path: str | Path, *, cache: bool = True) -> list[EventLog]:
        """Load every application found under `path`, side by side in this session."""
        return [self._load_one(log, cache=cache) for log in discover(path)]

    def _load_one(self, app_log: AppLog, *, cache: bool, progress: bool = True) -> EventLog:
        from tqdm.auto import tqdm

        desc = f"sparksword: {terminal_safe(app_log.log_name, limit=80)}"
        with tqdm(total=2, desc=desc, unit="step", delay=1.0, leave=False, disable=not progress) as bar:
            report = self._open_cache(app_log) if cache else None
            bar.update(1)
            if report is None and cache:
                report = self._load_into_cache(app_log)
            if report is None:
                in_memory = Staging()
                try:
                    report = self._stage(app_log, in_memory)
                    self._commit(report, in_memory.table)
                finally:
                    for name in STAGING_TABLES:
                        self.con.execute(f"DROP TABLE IF EXISTS {in_memory.table(name)}")
            bar.update(1)
        log = self._logs.get((report.app_id, report.attempt_id))
        if log is None:
            log = EventLog(self, report.app_id, report.attempt_id)
            self._logs[(report.app_id, report.attempt_id)] = log
        log._rows_stored(report)
        return log

    def _open_cache(self, app_log: AppLog) -> LoadReport | None:
        """Make the application's cache file its rows (attached in place, or copied into a database file session);
        None when there is no usable cache."""
        path = _cache_file(app_log)
        if not path.exists():
            return None
        self._attach_counter += 1
        alias = f"_cache_{self._attach_counter}"
        try:
            self.con.execute(f"ATTACH {quote_literal(str(path))} AS {alias} (READ_ONLY)")
        except duckdb.Error:
            return None
        try:
            os.utime(path)  # recently used: the last to go when the cache is trimmed
        except OSError:
            pass
        kept = False
        try:
            if not self._cache_fits(alias):
                return None  # a cache file of other tables (or a broken one): the log is parsed again
            app_id, attempt, events, skipped = self.con.execute(
                f"SELECT app_id, attempt_id, events, skipped FROM {alias}.applications"
            ).fetchall()[0]
            report = LoadReport(app_id=app_id, attempt_id=attempt, events=int(events), skipped=list(skipped or []))
            attach_as = alias if self._reads_cache_in_place else None
            self._commit(report, lambda name: f"{alias}.{name}", attach_as=attach_as)
            kept = attach_as is not None
            return report
        except (duckdb.Error, IndexError, SparkswordError):
            return None
        finally:
            if not kept:
                self.con.execute(f"DETACH {alias}")

    def _cache_fits(self, alias: str) -> bool:
        """Whether the attached cache file holds every canonical table, shaped as the session's own."""
        theirs = self._table_shapes(alias, "")
        ours = self._table_shapes("main", "_rows_")
        return set(theirs) == set(STAGING_TABLES) and (not ours or ours == theirs)

    def _table_shapes(self, database: str, prefix: str) -> dict[str, list[tuple[str, str]]]:
        """The columns (name, type) of each canonical table in `database`, whose tables are named `prefix` + name."""
        rows = self.con.execute(
            "SELECT table_name, list([column_name, data_type] ORDER BY column_index) FROM duckdb_columns() "
            "WHERE database_name = ? AND schema_name = 'main' GROUP BY table_name", [database]
        ).fetchall()
        shapes = {str(table)[len(prefix):]: [tuple(c) for c in columns] for table, columns in rows
                  if str(table).startswith(prefix)}
        return {name: columns for name, columns in shapes.items() if name in STAGING_TABLES}

    def _stage(self, app_log: AppLog, staging: Staging) -> LoadReport:
        try:
            return stage_app_log(self.con, app_log, workdir=default_workdir(), staging=staging)
        except duckdb.OutOfMemoryException:
            raise out_of_memory_error(self.con, app_log) from None

    def _load_into_cache(self, app_log: AppLog) -> LoadReport | None:
        """Parse the log straight into its cache file (its rows go to disk as they are made, not through memory),
        then open that; None when the cache cannot be written (the load then stages in memory)."""
        path = _cache_file(app_log)
        tmp = path.with_suffix(f".tmp{os.getpid()}")
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp.unlink(missing_ok=True)
            small = sum(size for _, size, _ in app_log.fingerprint()) < _SMALL_LOG_BYTES
            options = f" (BLOCK_SIZE {_SMALL_BLOCK_SIZE})" if small else ""
            self.con.execute(f"ATTACH {quote_literal(str(tmp))} AS _cache_w{options}")
        except (OSError, duckdb.Error):
            return None  # a read-only or full disk: the cache only saves time
        try:
            try:
                self._stage(app_log, Staging("_cache_w"))
            finally:
                self.con.execute("DETACH _cache_w")
            os.replace(tmp, path)
        except (OSError, duckdb.IOException):
            tmp.unlink(missing_ok=True)
            return None  # the disk filled up while writing: staged in memory instead
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
        trim_cache()
        return self._open_cache(app_log)

    def _commit(self, report: LoadReport, source: Callable[[str], str], *, attach_as: str | None = None) -> None:
        """Make `source(table)` the application's rows, atomically: copied into the session's own tables, or, with
        `attach_as` (the alias of the attached cache file `source` names), read from that file in place."""
        con = self.con
        key = (report.app_id, report.attempt_id)
        # The tables are created before the transaction: DuckDB 2.0 corrupts constant columns (app_id)
        # of a table created and filled with over one row group (122,880 rows) in one transaction.
        for name in STAGING_TABLES:
            con.execute(f"CREATE TABLE IF NOT EXISTS main._rows_{name} AS SELECT * FROM {source(name)} WHERE false")
        replaced = self._attached.get(key)
        # the attached files once this commits: the session's own state changes only when it has
        attached = {k: alias for k, alias in self._attached.items() if k != key}
        if attach_as is not None:
            attached[key] = attach_as
        con.execute("BEGIN TRANSACTION")
        try:
            for name in STAGING_TABLES:
                con.execute(f"DELETE FROM main._rows_{name} WHERE app_id = ? AND attempt_id = ?", list(key))
                if attach_as is None:
                    con.execute(f"INSERT INTO main._rows_{name} BY NAME SELECT * FROM {source(name)}")
            self._create_views(attached)
            con.execute("COMMIT")
        except duckdb.Error as err:
            con.execute("ROLLBACK")
            raise SparkswordError(f"could not store the application: {str(err).splitlines()[0]}") from None
        self._attached = attached
        if replaced is not None:
            con.execute(f"DETACH {replaced}")  # (DETACH is no transaction's part: only once the views are done)

    def _create_views(self, attached: dict[tuple[str, str], str]) -> None:
        """The session's tables as views: its own rows and those of the `attached` cache files."""
        for name in STAGING_TABLES:
            parts = [f"SELECT * FROM main._rows_{name}"]
            parts += [f"SELECT * FROM {alias}.{name}" for alias in attached.values()]
            self.con.execute(f"CREATE OR REPLACE VIEW main.{name} AS {' UNION ALL BY NAME '.join(parts)}")
        for name, body in _VIEWS.items():
            self.con.execute(f"CREATE OR REPLACE VIEW main.{name} AS {body}")

    # ---- what is loaded ------------------------------------------------------------------------
    @property
    def logs(self) -> list[EventLog]:
        """The applications loaded in this session, in load order."""
        return list(self._logs.values())

    def applications(self) -> pd.DataFrame:
        """One row per loaded application attempt."""
        if not self._logs:
            import pandas as pd  # imported on use: it is most of the package's import time

            return pd.DataFrame()
        return self.con.sql("SELECT * FROM main.applications ORDER BY app_id, attempt_id").df()

    def _new_schema_name(self) -> str:
        self._schema_counter += 1
        return f"app_{self._schema_counter}"

    def close(self) -> None:
        """Close the DuckDB connection."""
        self.con.close()


def find_app_log(path: Any, *, app: str | None = None, storage_options: dict[str, Any] | None = None) -> AppLog:
    """The files of the one application `path` and `app` name (see `Session.load`), remote ones copied locally."""
    logs, app, shown = find_app_logs(path, app=app, storage_options=storage_options, mirror_dir=remote_mirror_dir())
    return _pick(logs, app, shown) if len(logs) > 1 or app is not None else logs[0]


def _pick(logs: list[AppLog], app: str | None, path: str | Path) -> AppLog:
    """The log `app` names: a log name, an application id (its latest attempt), `<application id>/<attempt>`, or
    a row number of the folder's table (`applications_in`, newest first)."""
    names = sorted(log.log_name for log in logs)
    if app is None:
        raise SeveralApplications(names, lambda: catalog(logs), path=path)
    exact = [log for log in logs if log.log_name == app]
    if exact:
        return exact[0]
    # the application id is in each log's ApplicationStart; file names need not hold it (attempt_1_eventlog)
    wanted_id, _, wanted_attempt = app.partition("/")
    named = [log for log in logs if log.log_name.startswith(wanted_id + "_") or log.log_name == wanted_id]
    candidates = named or logs
    found = [(identity, log) for log in candidates
             for identity in [application_identity(log)] if identity[0] == wanted_id]
    if wanted_attempt:
        found = [(identity, log) for identity, log in found if (identity[1] or "") == wanted_attempt]
    if found:
        # an application id alone means its latest attempt, as the History Server lists it first
        return max(found, key=lambda f: _attempt_order(f[0][1]))[1]
    if app.isdigit():
        table = catalog(logs)
        row = int(app)
        if row < len(table):
            return next(log for log in logs if log.log_name == table["app"][row])
        raise SparkswordError(f"no row {row} in the table of its {len(table)} applications (rows 0-{len(table) - 1})",
                              path=path)
    raise SparkswordError(f"no application {app!r} here; found: {', '.join(names)}", path=path)


def _attempt_order(attempt: str | None) -> tuple[int, str]:
    text = attempt or ""
    return (int(text), text) if text.isdigit() else (-1, text)


_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


class EventLog:
    """One loaded application attempt: its tables, SQL over them, and History Server answers."""

    def __init__(self, session: Session, app_id: str, attempt_id: str) -> None:
        self.session = session
        self.app_id = app_id
        self.attempt_id = attempt_id
        self.report: LoadReport | None = None
        self._con: duckdb.DuckDBPyConnection | None = None
        self._time_account: TimeAccount | None = None

    def _rows_stored(self, report: LoadReport) -> None:
        """Take the report of a (re)load: what was derived from the application's earlier rows is dropped."""
        self.report = report
        self._time_account = None

    def __repr__(self) -> str:
        attempt = f", attempt={self.attempt_id!r}" if self.attempt_id else ""
        return f"EventLog(app_id={self.app_id!r}{attempt})"

    @property
    def con(self) -> duckdb.DuckDBPyConnection:
        """A cursor of the session's database whose search path shows this application's rows only.

        search_path is per connection, so each EventLog keeps its own cursor: relations it returns stay
        bound to this application even when they run after another application's query.
        """
        if self._con is None:
            schema = self.session._new_schema_name()
            session_con = self.session.con
            session_con.execute(f"CREATE SCHEMA IF NOT EXISTS {schema}")
            where = f"app_id = {quote_literal(self.app_id)} AND attempt_id = {quote_literal(self.attempt_id)}"
            for name in (*CANONICAL_TABLES, *VIEWS):
                session_con.execute(
                    f"CREATE OR REPLACE VIEW {schema}.{name} AS SELECT * FROM main.{name} WHERE {where}"
                )
            cursor = session_con.cursor()
            cursor.execute(f"SET search_path = '{schema},main'")
            self._con = cursor
        return self._con

    def sql(self, query: str, params: Iterable[Any] | dict | None = None) -> duckdb.DuckDBPyRelation:
        """Run SQL in which the canonical table names (tasks, stages, ...) hold this application's rows only."""
        try:
            return self.con.sql(query, params=params)
        except duckdb.Error as err:
            raise SparkswordError(f"SQL error: {str(err).splitlines()[0]}") from None

    def rows(self, query: str, params: Iterable[Any] | dict | None = None) -> list[dict[str, Any]]:
        """The result of SQL over this application's tables, as one dict per row.

        The query runs once on this application's cursor (a relation from `sql()` would bind it and run
        it again), which is what the detectors and the panels need for their small aggregates.
        """
        try:
            return dict_rows(self.con.execute(query, params) if params else self.con.execute(query))
        except duckdb.Error as err:
            raise SparkswordError(f"SQL error: {str(err).splitlines()[0]}") from None

    def table(self, name: str) -> pd.DataFrame:
        """A canonical table or view of this application as a pandas DataFrame."""
        if name not in CANONICAL_TABLES and name not in VIEWS:
            raise SparkswordError(f"no table {name!r}; tables: {', '.join((*CANONICAL_TABLES, *VIEWS))}")
        return self.sql(f"SELECT * FROM {name}").df()

    @property
    def skipped(self) -> list[str]:
        """What the load had to leave out (e.g. a torn last line of an in-progress log)."""
        return list(self.report.skipped) if self.report else []

    def insights(self, *, as_frame: bool = False) -> Any:
        """What made this application slow: `Insight`s sorted by impact (or a DataFrame with as_frame=True)."""
        from .detectors import run_detectors

        found = run_detectors(self)
        if as_frame:
            import pandas as pd

            return pd.DataFrame([i.model_dump() for i in found])
        return found

    def runtime(self) -> str | None:
        """The Spark version that wrote the log; for Databricks logs (no LogStart) the runtime its settings name."""
        rows = self.rows("""
            SELECT (SELECT spark_version FROM applications) AS version,
              (SELECT value FROM config WHERE key = 'spark.databricks.clusterUsageTags.sparkVersion' LIMIT 1) AS dbr""")
        version, databricks = (rows[0]["version"], rows[0]["dbr"]) if rows else (None, None)
        if version:
            return str(version)
        return f"Databricks {databricks}" if databricks else None

    def time_account(self) -> TimeAccount:
        """Where the wall time went: parts that add up to the duration, per-job critical paths, core time.

        Computed once per load: the report header, the detectors, the time panel and the CLI all read it.
        """
        if self._time_account is None:
            from .timeline import time_account

            self._time_account = time_account(self)
        return self._time_account

    def time_breakdown(self) -> pd.DataFrame:
        """The application's wall time in parts that add up to its duration (see `time_account`).

        Columns: part, kind, start_ms, end_ms, ms, share, what, job_ids, core_ms, busy_core_ms.
        """
        return self.time_account().frame()

    def rest(self, api_path: str) -> Any:
        """Answer a Spark History Server REST path (`applications/{id}/stages`, ...) as its JSON value."""
        from .rest import answer

        return answer(self, api_path)

    def compare(self, after: EventLog) -> Comparison:
        """This run against `after`: settings that differ, stages matched by what they do, changes beyond noise."""
        from .compare import compare

        return compare(self, after)


_default_session: Session | None = None


def default_session() -> Session:
    """The process-wide session `load()` uses when no session is given."""
    global _default_session
    if _default_session is None:
        _default_session = Session()
    return _default_session


def load(path: Any, *, app: str | None = None, session: Session | None = None, cache: bool = True,
         storage_options: dict[str, Any] | None = None) -> EventLog:
    """Load a Spark event log into DuckDB and return the `EventLog` of its application (see `Session.load`).

    `path` may be a local path or glob, a sample's name, a SparkSession, a History Server or remote store URL.
    With several applications under `path`, `app` names which one; otherwise a SparkswordError lists them.
    """
    return (session or default_session()).load(path, app=app, cache=cache, storage_options=storage_options)


def compare(before: Any, after: Any, *, session: Session | None = None, cache: bool = True) -> Comparison:
    """Compare two runs: each an `EventLog` or anything `load` takes (a path, sample name, URL, SparkSession)."""
    from .compare import compare as compare_logs

    target = session or default_session()
    logs = [run if isinstance(run, EventLog) else target.load(run, cache=cache) for run in (before, after)]
    return compare_logs(logs[0], logs[1])


def applications_in(path: str | Path, *, storage_options: dict[str, Any] | None = None) -> pd.DataFrame:
    """The applications a folder (local, remote or a History Server) holds, without loading them.

    One row each: `app` (what ``app=`` / ``--app`` takes), app_id, attempt_id, name, start, duration_ms, status,
    size_bytes, path; newest first. A row number is also accepted as ``app=``.
    """
    try:
        logs, _, shown = find_app_logs(path, storage_options=storage_options, mirror_dir=remote_mirror_dir())
    except SeveralApplications as several:
        return several.table()
    table = catalog(logs)
    if isinstance(path, str) and is_remote(path):
        table["path"] = shown  # a remote log's one application: where it is, not its copy in the cache
    return table


def fleet(path: str | Path, *, engine: str = "duckdb", store: str | Path | None = None, workers: int | None = None,
          spark: Any = None, storage_options: dict[str, Any] | None = None, memory_limit: str | None = None,
          progress: bool = True) -> Fleet:
    """Every application under `path` (a history folder, a glob, a remote prefix or a History Server URL), each
    loaded and diagnosed once, as a `Fleet`: per application its id, name, user, start, duration, executors,
    core-hours used and idle, status and findings; across them the costliest findings, idle core-hours and the
    jobs that got slower.

    `engine`: ``"duckdb"`` (default; `workers` processes on this machine, each under the memory limit) or
    ``"spark"`` (one Spark task per application on `spark`, a SparkSession; default a local one). The rows are
    kept in `store` (a DuckDB file; default one per `path` in the cache directory), so a second call reads only
    new and changed logs. `memory_limit` bounds each application's load (default SPARKSWORD_MEMORY_LIMIT), on
    every worker or executor.
    """
    from .fleets import run_fleet

    return run_fleet(path, engine=engine, store=store, workers=workers, spark=spark,  # type: ignore[arg-type]
                     storage_options=storage_options, memory_limit=memory_limit, progress=progress)
