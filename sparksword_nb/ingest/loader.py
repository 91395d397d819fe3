"""Load one application's event log into staging tables: decode, parse in one DuckDB pass, derive tables.

The flow for one `AppLog`:
1. its files become JSON-lines inputs DuckDB can read: plain files are read where they are; compressed
   ones are decoded (streaming) into one temporary file; a torn last line of an in-progress log is cut off;
2. `read_json` parses every line at once with the typed columns of `schema.EVENT_COLUMNS` (no Python per
   event) into `_lines`: the task events' columns of every line, and the few other events' columns packed on
   their own lines, which become the typed table `_events`;
3. the SELECTs of `canonical.TASK_SQL` and `EVENT_SQL` derive each canonical table's rows into its staged
   table (see `Staging`: `_stg_<table>`, or the cache file being written);
4. each query's final plan tree becomes Spark's plan graph (SparkPlanGraph: its node ids, nodes and edges) in
   the staged `sql_plan_nodes` / `sql_metrics`.
The caller (the store) makes the staged tables the application's rows, in one transaction.
"""
from __future__ import annotations

import errno
import json
import os
import re
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from ..errors import SparkswordError
from ..spark.plan_graph import spark_plan_graph
from .canonical import (
    EVENT_SQL,
    METRIC_NAMES,
    STAGES_BASE_SQL,
    TASK_DEDUPE,
    TASK_RESUBMITTED_ORD,
    TASK_SQL,
)
from .codecs import codec_for, decode_to, decoded_head, json_lines_problem, read_head, zstd_frames_complete
from .schema import TASK_EVENTS_SQL, lines_select_sql, other_events_type_sql, read_json_columns_sql
from .sources import AppLog

# The largest single line we accept (Spark writes multi-MB lines for huge plans and environments).
MAX_LINE_BYTES = 256 * 1024 * 1024
# DuckDB's JSON reader holds buffers of twice its maximum object size per file it reads: the first parse allows
# lines up to 64 MiB (a 128 MiB buffer, within a bounded memory limit), and only a log with a longer line (a
# giant plan) is parsed again allowing MAX_LINE_BYTES.
FIRST_TRY_LINE_BYTES = 64 * 1024 * 1024
_TAIL_PROBE_BYTES = 4 * 1024 * 1024
_FIRST_TAIL_PROBE_BYTES = 64 * 1024

# What the parse leaves for the canonical SQL: the task lines and the other events (see canonical).
PARSED_TABLES: tuple[str, ...] = ("_lines", "_events")

STAGING_TABLES: tuple[str, ...] = (
    "applications", "tasks", "stages", "rdds", "stage_accumulables", "task_accumulables", "jobs",
    "executors", "stage_executor_metrics", "exclusions", "resource_profiles", "misc_processes", "config",
    "sql_executions", "sql_driver_accum_updates", "sql_adaptive_metrics", "sql_plan_nodes", "sql_metrics",
)


@dataclass
class LoadReport:
    """What a load read and what it had to leave out."""

    app_id: str
    attempt_id: str
    events: int = 0
    skipped: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Staging:
    """Where a load leaves its canonical tables: temp tables `_stg_<name>` (in memory, spilled to disk past the
    session's memory limit), or the tables of an attached database file (the cache file being written), so
    that the rows go to disk as they are made instead of being held in memory and copied there afterwards."""

    database: str | None = None
    """The alias of the attached database file; None for temp tables."""

    def table(self, name: str) -> str:
        """The staged canonical table `name`."""
        return f"{self.database}.{name}" if self.database else f"_stg_{name}"

    def create(self, name: str) -> str:
        """The start of the statement that (re)creates it."""
        if self.database:
            return f"CREATE OR REPLACE TABLE {self.table(name)}"
        return f"CREATE OR REPLACE TEMP TABLE {self.table(name)}"


@dataclass
class _Inputs:
    files: list[Path]
    skipped: list[str]
    tmpdir: tempfile.TemporaryDirectory | None
    compression: str = "none"
    """How DuckDB reads the files: "none", or "zstd" for a finished zstd log it decodes itself."""


class _DuckDBCannotDecode(Exception):
    """DuckDB could not read a compressed log itself: it is decoded by our codecs, which say precisely why."""


@dataclass
class _Tail:
    """The end of a JSON-lines file: its unterminated last line and any NUL padding after it."""

    cut_at: int
    """Offset where the last line without a newline starts (= where the content ends when there is none)."""
    line: bytes | None
    """That line (b"" when the content ends with a newline); None when it is longer than MAX_LINE_BYTES."""
    nul_bytes: int
    """NUL bytes after the content: padding a crashed writer or a preallocated (sparse) file leaves."""


def _content_end(f, size: int) -> int:
    """Where the content of the open file ends once trailing NUL bytes are dropped.

    Holes of a sparse file are skipped with SEEK_DATA/SEEK_HOLE, so a 10 GB sparse tail costs a few system
    calls, not 10 GB of reading; NUL bytes that were really written are read back over (at most
    MAX_LINE_BYTES of them: a longer run is left for the parser to refuse).
    """
    end = size
    if size and hasattr(os, "SEEK_DATA"):
        pos = last_data_end = 0
        try:
            while pos < size:
                pos = os.lseek(f.fileno(), os.lseek(f.fileno(), pos, os.SEEK_DATA), os.SEEK_HOLE)
                last_data_end = pos
            end = min(last_data_end, size)
        except OSError as e:
            if e.errno == errno.ENXIO:  # no data after `pos`: the rest of the file is a hole
                end = last_data_end
    scanned = 0
    step = _FIRST_TAIL_PROBE_BYTES  # most logs end in a newline: one small read
    while end > 0 and scanned < MAX_LINE_BYTES:
        step = min(step, end)
        f.seek(end - step)
        kept = len(f.read(step).rstrip(b"\x00"))
        end -= step - kept
        scanned += step
        if kept:
            break
        step = min(2 * step, _TAIL_PROBE_BYTES)
    return end


def _tail_fragment(path: Path) -> _Tail:
    """The unterminated last line of `path` and the NUL bytes after it, reading only the file's end."""
    size = path.stat().st_size
    with open(path, "rb") as f:
        end = _content_end(f, size)
        pieces: list[bytes] = []
        pos = end
        step = _FIRST_TAIL_PROBE_BYTES
        while pos > 0:
            step = min(step, pos)
            pos -= step
            f.seek(pos)
            chunk = f.read(step)
            nl = chunk.rfind(b"\n")
            if nl >= 0:
                pieces.append(chunk[nl + 1:])
                pos += nl + 1
                break
            if end - pos > MAX_LINE_BYTES:
                return _Tail(cut_at=pos, line=None, nul_bytes=size - end)  # too long to be read anyway
            pieces.append(chunk)
            step = min(2 * step, _TAIL_PROBE_BYTES)
        return _Tail(cut_at=pos, line=b"".join(reversed(pieces)), nul_bytes=size - end)


def _is_whole_json(fragment: bytes) -> bool:
    text = fragment.strip()
    if not text:
        return True
    try:
        decoded = text.decode("utf-8")
    except UnicodeDecodeError:
        return False  # (a line cut inside a multi-byte character)
    # DuckDB's JSON reader is what will read the line, and it has no recursion limit (Python's json module
    # raises RecursionError on a line nested 200,000 levels deep).
    with duckdb.connect() as con:
        return bool(con.execute("SELECT json_valid(?)", [decoded]).fetchall()[0][0])


class _FirstBytesCheck:
    """Passes decoded bytes on to `out`, refusing them as soon as their start shows they are no event log.

    Checking while decoding, not after: a 32 KB crafted stream can decode to gigabytes of NUL bytes, which
    must not be written to disk first.
    """

    def __init__(self, out, shown: Path) -> None:
        self.out = out
        self.shown = shown
        self.head: bytearray | None = bytearray()

    def write(self, data) -> int:
        if self.head is not None:
            self.head += data[: _HEAD_CHECK_BYTES - len(self.head)]
            if len(self.head) >= _HEAD_CHECK_BYTES:
                self.check()
        return self.out.write(data)

    def check(self) -> None:
        """Refuse the start seen so far (called once the start is long enough, or at the end)."""
        if self.head is None:
            return
        head, self.head = bytes(self.head), None
        problem = json_lines_problem(head)
        if problem:
            raise SparkswordError(f"once decompressed, {problem}", path=self.shown)


_HEAD_CHECK_BYTES = 64 * 1024


def _prepare_inputs(app_log: AppLog, workdir: Path | None, *, duckdb_decodes: bool = True) -> _Inputs:
    """JSON-lines files for DuckDB, decoding compressed logs and cutting a torn last line and NUL padding.

    Input that cannot be an event log is refused from its first bytes (SparkswordError naming the file),
    before DuckDB scans it to the end. A finished zstd log (Spark's are standard zstd frames) is left for DuckDB
    to decode while it parses (`duckdb_decodes`): writing it out decoded first made it 1.5x slower to load than
    the plain log.
    """
    if duckdb_decodes and _duckdb_decodes(app_log):
        return _Inputs(files=list(app_log.files), skipped=list(app_log.notes), tmpdir=None, compression="zstd")
    skipped: list[str] = list(app_log.notes)
    files: list[Path] = list(app_log.files)
    tmp: tempfile.TemporaryDirectory | None = None
    decoded: Path | None = None
    try:
        if _plain(app_log):
            for part in app_log.files:
                problem = json_lines_problem(read_head(part))
                if problem:
                    raise SparkswordError(problem, path=part)
        else:
            tmp = tempfile.TemporaryDirectory(prefix="sparksword-", dir=workdir)
            decoded = Path(tmp.name) / "events.json"
            with open(decoded, "wb") as raw_out:
                out = _FirstBytesCheck(raw_out, _shown_path(app_log))
                for i, part in enumerate(app_log.files):
                    last = i == len(app_log.files) - 1
                    # every file has its own codec by its name: mixed in a Databricks rotated folder
                    result = decode_to(part, codec_for(part), out, tolerate_torn_tail=last and app_log.in_progress)
                    if result.torn_tail:
                        skipped.append(f"{part.name}: {result.torn_tail}")
                    if not last and result.bytes_out:
                        # Rolled files end with a newline; should one not, its last event must not glue onto
                        # the next file's first (the broken line is then reported, not merged).
                        out.write(b"\n")
                out.check()
            files = [decoded]

        last_file = files[-1]
        tail = _tail_fragment(last_file)
        torn = tail.line is None or not _is_whole_json(tail.line)
        if torn or tail.nul_bytes:
            where = app_log.files[-1].name
            if tail.nul_bytes:
                skipped.append(
                    f"{where}: {tail.nul_bytes} NUL bytes at the end (padding left by a writer that stopped), skipped"
                )
            cut_at = tail.cut_at
            if torn:
                size = f"{len(tail.line)} bytes" if tail.line is not None else f"over {MAX_LINE_BYTES} bytes"
                if not app_log.in_progress:
                    # A completed log should end with a whole line; still, what is before it is good data.
                    skipped.append(f"{where}: torn last line ({size}) in a log marked complete, skipped")
                else:
                    skipped.append(f"{where}: torn last line of the in-progress log ({size}), skipped")
            else:
                cut_at += len(tail.line or b"")
            if decoded is not None:
                with open(decoded, "r+b") as f:
                    f.truncate(cut_at)
            else:
                tmp = tmp or tempfile.TemporaryDirectory(prefix="sparksword-", dir=workdir)
                trimmed = Path(tmp.name) / (last_file.name + ".whole")
                with open(last_file, "rb") as src, open(trimmed, "wb") as dst:
                    remaining = cut_at
                    while remaining > 0:
                        chunk = src.read(min(remaining, 16 * 1024 * 1024))
                        if not chunk:
                            break
                        dst.write(chunk)
                        remaining -= len(chunk)
                files = files[:-1] + [trimmed]
    except BaseException:
        if tmp is not None:
            tmp.cleanup()
        raise
    return _Inputs(files=files, skipped=skipped, tmpdir=tmp)


def _duckdb_decodes(app_log: AppLog) -> bool:
    """Whether DuckDB can read the log's files itself: all zstd, finished (an in-progress log's last frame may be
    unfinished, which our decoder cuts off), every frame whole (DuckDB would read a cut stream short without a
    word), and starting as an event log does."""
    if app_log.in_progress or not all(codec_for(part) == "zstd" for part in app_log.files):
        return False
    try:
        return (json_lines_problem(decoded_head(app_log.files[0], "zstd", _HEAD_CHECK_BYTES)) is None
                and all(zstd_frames_complete(part) for part in app_log.files))
    except (SparkswordError, OSError):
        return False


_DUCK_PROBLEM = re.compile(r"in (?:line|record/value) \d+: (?P<problem>.*)$")


def _shown_path(app_log: AppLog) -> Path:
    return app_log.files[0] if len(app_log.files) == 1 else app_log.files[0].parent


def out_of_memory_error(con: duckdb.DuckDBPyConnection, app_log: AppLog) -> SparkswordError:
    """What a load of `app_log` that DuckDB could not fit in the session's memory limit tells the user."""
    limit = con.execute("SELECT current_setting('memory_limit')").fetchall()[0][0]
    return SparkswordError(f"not enough memory to load it within the session's limit of {limit} (raise it: "
                           "SPARKSWORD_MEMORY_LIMIT=4GB, or Session(memory_limit='4GB'))", path=_shown_path(app_log))


def _line_too_long(err: duckdb.Error) -> bool:
    text = str(err).splitlines()[0]
    return "maximum_object_size" in text or "too large" in text


def _explain_parse_error(
    con: duckdb.DuckDBPyConnection, err: duckdb.Error, app_log: AppLog, inputs: _Inputs, file_list: str
) -> SparkswordError:
    """Turn DuckDB's message into one line that names the user's file and the exact line.

    DuckDB's own line numbers drift when a broken line swallows its newline, so the line is found again
    by a tolerant parse in which every input line is one row (only on this error path).
    """
    text = str(err).splitlines()[0]
    shown = _shown_path(app_log)
    if "Out of Memory" in text:
        return out_of_memory_error(con, app_log)
    if _line_too_long(err):
        return SparkswordError(f"a line is longer than {MAX_LINE_BYTES // (1024 * 1024)} MiB", path=shown)
    m = _DUCK_PROBLEM.search(text)
    problem = (m.group("problem") if m else text).strip().rstrip(".")
    try:
        rows = con.execute(
            f"SELECT filename, rn FROM (SELECT filename, Event, row_number() OVER (PARTITION BY filename) AS rn "
            f"FROM read_json({file_list}, format='newline_delimited', columns={{'Event': 'VARCHAR'}}, "
            f"filename=true, ignore_errors=true, maximum_object_size={MAX_LINE_BYTES}, compression='none')) "
            f"WHERE Event IS NULL ORDER BY filename, rn LIMIT 1"
        ).fetchall()
    except duckdb.Error:
        rows = []
    if "Expected OBJECT, but got ARRAY" in text:
        return SparkswordError("not a Spark event log: a JSON array, not one event object per line", path=shown)
    if "UTF-8" in text or "utf-8" in text or "unicode" in text.lower():
        if rows:
            where = "" if _plain(app_log) else " of the decompressed log"
            shown = next((p for p in app_log.files if p.name == Path(rows[0][0]).name), shown)
            return SparkswordError(f"line {int(rows[0][1])}{where} is not valid UTF-8 text ({problem})", path=shown)
        return SparkswordError("not UTF-8 text (is it an event log, or compressed with another codec?)", path=shown)
    if not rows:
        return SparkswordError(f"cannot parse as an event log: {problem}", path=shown)
    fname, line = Path(rows[0][0]), int(rows[0][1])
    if _plain(app_log):
        shown = next((p for p in app_log.files if p.name == fname.name), shown)
        return SparkswordError(f"line {line} is not valid JSON ({problem})", path=shown)
    return SparkswordError(f"line {line} of the decompressed log is not valid JSON ({problem})", path=shown)


def _plain(app_log: AppLog) -> bool:
    """Whether every file of the log is uncompressed (DuckDB reads them in place, with their own line numbers)."""
    return all(codec_for(part) is None for part in app_log.files)


def _literal_file(path: Path) -> str:
    """`path` as a SQL string that DuckDB's file readers take literally.

    They expand glob patterns, so a file named `local-*` would read every log beside it: `*`, `?` and
    `[` become one-character classes.
    """
    escaped = re.sub(r"([*?\[])", r"[\1]", str(path))
    return "'" + escaped.replace("'", "''") + "'"


def _parse_lines(con: duckdb.DuckDBPyConnection, app_log: AppLog, inputs: _Inputs) -> tuple[int, bool]:
    """Parse the inputs into `_lines` and `_events`, refusing what is no single application's event log.

    Returns the number of events kept and whether a task id ends (or starts) more than once.
    """
    file_list = "[" + ", ".join(_literal_file(p) for p in inputs.files) + "]"
    for line_bytes in (FIRST_TRY_LINE_BYTES, MAX_LINE_BYTES):
        sql = (
            f"CREATE OR REPLACE TEMP TABLE _lines AS SELECT {lines_select_sql()} FROM read_json({file_list}, "
            f"format='newline_delimited', columns={read_json_columns_sql()}, "
            f"maximum_object_size={line_bytes}, compression='{inputs.compression}')"
        )
        try:
            con.execute(sql)
            break
        except duckdb.Error as err:
            if inputs.compression != "none":
                # (also for lack of memory: its decompression buffers do not fit as small a limit as ours)
                raise _DuckDBCannotDecode() from None
            if line_bytes < MAX_LINE_BYTES and _line_too_long(err):
                continue
            raise _explain_parse_error(con, err, app_log, inputs, file_list) from None
    count, with_event = con.execute("SELECT count(*), count(Event) FROM _lines").fetchall()[0]
    shown = _shown_path(app_log)
    if count == 0:
        raise SparkswordError("empty: no events in the log", path=shown)
    if with_event == 0:
        raise SparkswordError("not a Spark event log: no line has an \"Event\" field", path=shown)
    if with_event < count:
        line = con.execute("SELECT min(rowid) + 1 FROM _lines WHERE Event IS NULL").fetchall()[0][0]
        raise SparkswordError(f"line {line} is JSON but not a Spark event (no \"Event\" field)", path=shown)
    first = con.execute(
        "SELECT count(*) FROM _lines WHERE Event IN ('SparkListenerLogStart', 'SparkListenerApplicationStart', "
        "'SparkListenerEnvironmentUpdate', 'SparkListenerJobStart', 'SparkListenerTaskEnd')"
    ).fetchall()[0][0]
    if first == 0:
        raise SparkswordError("not a Spark event log: no Spark listener events found", path=shown)
    repeated = _task_ids_repeat(con)
    dropped = _drop_repeated_events(con, inputs.skipped, repeated)
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE _events AS SELECT rowid AS ord, Event, "
        f"unnest(CAST(other AS {other_events_type_sql()})) FROM _lines WHERE other IS NOT NULL ORDER BY rowid"
    )
    # their text is not needed any more (a giant plan or property would otherwise be held twice)
    con.execute("ALTER TABLE _lines DROP COLUMN other")
    _check_one_application(con, shown)
    return int(count) - dropped, repeated


def _check_one_application(con: duckdb.DuckDBPyConnection, shown: Path) -> None:
    """Refuse a file holding several applications' events (logs joined together): their numbers would mix."""
    starts = con.execute(
        "SELECT COALESCE(\"App ID\", ''), COALESCE(\"App Attempt ID\", ''), min(ord) + 1 AS line FROM _events "
        "WHERE Event = 'SparkListenerApplicationStart' GROUP BY ALL ORDER BY line LIMIT 2"
    ).fetchall()
    if len(starts) > 1:
        (first_id, first_attempt, first_line), (other_id, other_attempt, other_line) = starts
        def name(app_id: str, attempt: str) -> str:
            return repr(app_id + (f" attempt {attempt}" if attempt else ""))
        raise SparkswordError(
            f"line {other_line} starts another application ({name(other_id, other_attempt)}, after "
            f"{name(first_id, first_attempt)} at line {first_line}): several event logs joined into one?",
            path=shown,
        )


def _task_ids_repeat(con: duckdb.DuckDBPyConnection) -> bool:
    """Whether a task id starts or ends more than once: an event copied twice, or a task that succeeded and was
    ended again as Resubmitted (see canonical.TASK_DEDUPE)."""
    rows = con.execute(
        f"SELECT count(*) - count(DISTINCT \"Task Info\".\"Task ID\") FROM _lines WHERE Event IN {TASK_EVENTS_SQL} "
        "GROUP BY Event"
    ).fetchall()
    return any(row[0] > 0 for row in rows)


def _drop_repeated_events(con: duckdb.DuckDBPyConnection, skipped: list[str], task_ids_repeat: bool) -> int:
    """Drop exact repeats of an earlier event (a log copied twice into one file) and say so; the count dropped.

    A repeated task end or accumulator update would otherwise count twice. Task events can only be repeated
    where a task id is (`task_ids_repeat`); the few other events are compared by their packed columns.
    """
    repeated_others = con.execute(
        f"SELECT count(*) - count(DISTINCT (Event, other)) FROM _lines WHERE Event NOT IN {TASK_EVENTS_SQL}"
    ).fetchall()[0][0]
    if not task_ids_repeat and not repeated_others:
        return 0
    con.execute(
        "CREATE OR REPLACE TEMP TABLE _repeated AS SELECT rowid AS r FROM _lines "
        "QUALIFY row_number() OVER (PARTITION BY Event, hash(_lines) ORDER BY rowid) > 1"
    )
    dropped, first = con.execute("SELECT count(*), min(r) + 1 FROM _repeated").fetchall()[0]
    if dropped:
        con.execute("DELETE FROM _lines WHERE rowid IN (SELECT r FROM _repeated)")
        skipped.append(
            f"{dropped} repeated events ignored (exact copies of earlier lines, the first at line {first})"
        )
    con.execute("DROP TABLE _repeated")
    return int(dropped)


def _application_identity(con: duckdb.DuckDBPyConnection, app_log: AppLog) -> tuple[str, str]:
    rows = con.execute(
        "SELECT \"App ID\", \"App Attempt ID\" FROM _events WHERE Event = 'SparkListenerApplicationStart' "
        "ORDER BY ord LIMIT 1"
    ).fetchall()
    row = rows[0] if rows else None
    app_id = str(row[0]) if row and row[0] else app_log.log_name
    attempt = str(row[1]) if row and row[1] else ""
    return app_id, attempt


def _stage_applications(
    con: duckdb.DuckDBPyConnection, staging: Staging, app_log: AppLog, params: dict, skipped: list[str], events: int
) -> None:
    con.execute(
        f"""
        {staging.create("applications")} AS
        WITH picked AS (
          -- one pass over the few events that describe the application (first start, last end)
          SELECT
            arg_min("App Name", ord) FILTER (WHERE Event = 'SparkListenerApplicationStart') AS name,
            arg_min("User", ord) FILTER (WHERE Event = 'SparkListenerApplicationStart') AS "user",
            arg_min("Spark Version", ord) FILTER (WHERE Event = 'SparkListenerLogStart') AS spark_version,
            arg_min("Timestamp", ord) FILTER (WHERE Event = 'SparkListenerApplicationStart') AS start_ms,
            arg_max("Timestamp", ord) FILTER (WHERE Event = 'SparkListenerApplicationEnd') AS end_ms,
            count(*) FILTER (WHERE Event = 'SparkListenerApplicationEnd') > 0 AS has_application_end,
            arg_max("ExitCode", ord) FILTER (WHERE Event = 'SparkListenerApplicationEnd') AS exit_code,
            arg_min("Driver Logs", ord) FILTER (WHERE Event = 'SparkListenerApplicationStart') AS driver_logs,
            arg_min("Driver Attributes", ord) FILTER (WHERE Event = 'SparkListenerApplicationStart')
              AS driver_attributes
          FROM _events
          WHERE Event IN ('SparkListenerApplicationStart', 'SparkListenerApplicationEnd', 'SparkListenerLogStart')
        )
        SELECT $app_id AS app_id, $attempt_id AS attempt_id, name, "user", spark_version, start_ms, end_ms,
          end_ms - start_ms AS duration_ms, has_application_end,
          -- as the History Server: an application is completed when its log has ApplicationEnd
          has_application_end AS completed, exit_code,
          driver_logs, driver_attributes,
          $log_name AS log_name, $source_paths::VARCHAR[] AS source_paths, $codec AS codec,
          $rolling AS rolling, $skipped::VARCHAR[] AS skipped,
          $events AS events
        FROM picked
        """,
        {
            **params,
            "log_name": app_log.log_name,
            "source_paths": [str(p) for p in app_log.files],
            "codec": app_log.codec or "none",
            "rolling": app_log.rolling,
            "skipped": skipped,
            "events": events,
        },
    )


def _stage_stages(con: duckdb.DuckDBPyConnection, staging: Staging, params: dict[str, str]) -> None:
    con.execute(f"CREATE OR REPLACE TEMP TABLE _stages_base AS {STAGES_BASE_SQL}", params)
    sums = ",\n".join(f"sum({m})::BIGINT AS {m}" for m in METRIC_NAMES)
    con.execute(
        f"""
        {staging.create("stages")} AS
        WITH agg AS (
          SELECT stage_id, stage_attempt_id,
            count(*) FILTER (WHERE status = 'RUNNING') AS num_active_tasks,
            count(*) FILTER (WHERE status = 'SUCCESS') AS num_complete_tasks,
            count(*) FILTER (WHERE status = 'FAILED') AS num_failed_tasks,
            count(*) FILTER (WHERE status = 'KILLED') AS num_killed_tasks,
            count(DISTINCT "index") FILTER (WHERE status = 'SUCCESS') AS num_completed_indices,
            min(launch_ms) AS first_task_launched_ms,
            {sums}
          FROM {staging.table("tasks")} GROUP BY ALL
        )
        SELECT b.*, COALESCE(a.num_active_tasks, 0) AS num_active_tasks,
          COALESCE(a.num_complete_tasks, 0) AS num_complete_tasks,
          COALESCE(a.num_failed_tasks, 0) AS num_failed_tasks,
          COALESCE(a.num_killed_tasks, 0) AS num_killed_tasks,
          COALESCE(a.num_completed_indices, 0) AS num_completed_indices,
          a.first_task_launched_ms,
          {", ".join(f"COALESCE(a.{m}, 0) AS {m}" for m in METRIC_NAMES)}
        FROM _stages_base b
        LEFT JOIN agg a USING (stage_id, stage_attempt_id)
        ORDER BY stage_id, stage_attempt_id
        """
    )
    con.execute("DROP TABLE _stages_base")


def _flatten_plans(
    con: duckdb.DuckDBPyConnection, staging: Staging, params: dict, skipped: list[str] | None = None
) -> None:
    """Final sparkPlanInfo trees -> Spark's plan graph: one row per graph node and per node metric.

    Node ids, the nodes kept and the edges are those of Spark's SparkPlanGraph (what the SQL tab and the
    History Server's `sql` endpoint show); Python, as there are only a few trees per app.
    """
    nodes: list[tuple] = []
    metrics: list[tuple] = []
    for execution_id, plan_text in con.execute(
        f"SELECT execution_id, plan_json FROM {staging.table('sql_executions')} WHERE plan_json IS NOT NULL "
        "ORDER BY execution_id"
    ).fetchall():
        try:
            plan = json.loads(plan_text)
        except ValueError:
            continue
        except RecursionError:
            # Python's json module recurses per level; a hostile or degenerate plan must not end the load.
            if skipped is not None:
                skipped.append(f"SQL execution {execution_id}: its plan is nested too deeply to read "
                               f"(over {sys.getrecursionlimit()} levels), plan graph left out")
            continue
        if not isinstance(plan, dict):
            continue
        for node in spark_plan_graph(plan):
            info = node.plan
            nodes.append((
                execution_id, node.node_id, node.parent_id, node.depth, info.get("nodeName"),
                info.get("simpleString"), json.dumps(info.get("metadata") or {}, sort_keys=True),
                node.cluster_id, node.out_edges,
            ))
            plan_metrics = [m for m in info.get("metrics") or [] if isinstance(m, dict)]
            for order, m in enumerate(plan_metrics):
                metrics.append((
                    execution_id, node.node_id, m.get("accumulatorId"), m.get("name"), m.get("metricType"), order,
                ))
    # parent_node_id: the node this one's own edge leads to; out_edges: all its edges (a reused exchange
    # feeds several nodes), edge_order being the edge's place in Spark's edge list.
    con.execute(
        f"{staging.create('sql_plan_nodes')} (app_id VARCHAR, attempt_id VARCHAR, "
        "execution_id BIGINT, node_id INTEGER, parent_node_id INTEGER, depth INTEGER, node_name VARCHAR, "
        "simple_string VARCHAR, metadata JSON, codegen_cluster_id INTEGER, "
        "out_edges STRUCT(to_node_id INTEGER, edge_order INTEGER)[])"
    )
    con.execute(
        f"{staging.create('sql_metrics')} (app_id VARCHAR, attempt_id VARCHAR, "
        "execution_id BIGINT, node_id INTEGER, accumulator_id BIGINT, name VARCHAR, metric_type VARCHAR, "
        "metric_order INTEGER)"
    )
    app, attempt = params["app_id"], params["attempt_id"]
    # One bulk insert per table from a DataFrame: executemany costs ~1 ms a row in DuckDB 2.0.
    for table, rows in ((staging.table("sql_plan_nodes"), nodes), (staging.table("sql_metrics"), metrics)):
        if not rows:
            continue
        import pandas as pd  # imported on use: it is most of the package's import time

        columns = [c[0] for c in con.execute(f"DESCRIBE {table}").fetchall()]
        frame = pd.DataFrame([(app, attempt, *r) for r in rows], columns=columns)
        con.register("_plan_rows", frame)
        try:
            con.execute(f"INSERT INTO {table} BY NAME SELECT * FROM _plan_rows")
        finally:
            con.unregister("_plan_rows")


def _stage_canonical(con: duckdb.DuckDBPyConnection, staging: Staging, queries: dict[str, str],
                     params: dict[str, str], fills: dict[str, str]) -> None:
    for name, select in queries.items():
        for placeholder, text in fills.items():
            select = select.replace(placeholder, text)
        used = {k: v for k, v in params.items() if f"${k}" in select}
        con.execute(f"{staging.create(name)} AS {select}", used)


def stage_app_log(con: duckdb.DuckDBPyConnection, app_log: AppLog, *, workdir: Path | None = None,
                  staging: Staging = Staging()) -> LoadReport:
    """Parse `app_log` and leave its canonical tables where `staging` says (temp tables `_stg_<name>` on `con` by
    default).

    Raises SparkswordError (one line, naming the file) when the log cannot be read.
    """
    try:
        inputs = _prepare_inputs(app_log, workdir)
        try:
            events, repeated = _parse_lines(con, app_log, inputs)
        except _DuckDBCannotDecode:
            inputs = _prepare_inputs(app_log, workdir, duckdb_decodes=False)
            events, repeated = _parse_lines(con, app_log, inputs)
        finally:
            if inputs.tmpdir is not None:
                inputs.tmpdir.cleanup()
        app_id, attempt = _application_identity(con, app_log)
        params = {"app_id": app_id, "attempt_id": attempt}
        fills = {
            "{dedupe}": TASK_DEDUPE if repeated else "",
            "{resubmitted}": TASK_RESUBMITTED_ORD if repeated else "NULL::BIGINT",
        }
        _stage_canonical(con, staging, TASK_SQL, params, fills)
        con.execute("DROP TABLE _lines")
        _stage_applications(con, staging, app_log, params, inputs.skipped, events)
        _stage_stages(con, staging, params)
        _stage_canonical(con, staging, EVENT_SQL, params, fills)
    finally:
        # a failed load must not keep the parsed lines (the bulk of its memory) until the next one
        for parsed in PARSED_TABLES:
            con.execute(f"DROP TABLE IF EXISTS {parsed}")
    _flatten_plans(con, staging, params, inputs.skipped)
    return LoadReport(app_id=app_id, attempt_id=attempt, events=events, skipped=list(inputs.skipped))


def default_workdir() -> Path | None:
    """Where decompressed logs are written while loading (SPARKSWORD_TMPDIR, else the system's)."""
    value = os.environ.get("SPARKSWORD_TMPDIR")
    return Path(value) if value else None
