"""Finding the Spark application(s) a user's path means, as Spark's ``EventLogFileReader``s do.

A path can be:

* a single event-log file (``<appId>[_<attempt>][.<codec>][.inprogress]``), whatever its name;
* a rolling event-log directory (``eventlog_v2_<appId>[_<attempt>]/`` holding ``events_<n>_...`` files and an
  ``appstatus_...`` marker), possibly compacted (``events_<n>_....compact``);
* a Databricks cluster-log folder: ``eventlog`` (the part being written) beside rotated parts
  ``eventlog-YYYY-MM-DD--HH-MM[.gz]``, one application read oldest part first, ``eventlog`` last;
* a history directory (like ``spark.eventLog.dir``) whose entries are single files and rolling directories;
* a glob pattern matching any of those.

:func:`discover` returns one :class:`AppLog` per application attempt, with the files to read in order.
"""
from __future__ import annotations

import glob
import os
import re
import stat
from dataclasses import dataclass
from pathlib import Path

from ..errors import SparkswordError
from .codecs import CODECS, codec_for, content_problem

__all__ = ["AppLog", "application_identity", "application_start", "discover", "log_name_of"]

ROLLING_DIR_PREFIX = "eventlog_v2_"
EVENTS_PREFIX = "events_"
APPSTATUS_PREFIX = "appstatus_"
COMPACT_SUFFIX = ".compact"
IN_PROGRESS_SUFFIX = ".inprogress"

EVENTS_FILE = re.compile(r"events_(\d+)_(.+)\Z", re.DOTALL)
DATABRICKS_CURRENT = "eventlog"
_DATABRICKS_PART = re.compile(r"eventlog-(\d{4}-\d{2}-\d{2}--\d{2}-\d{2})(?:\.[A-Za-z0-9]+)?\Z")
_GLOB_CHARS = re.compile(r"[*?\[]")
_HISTORY_PROBE_BYTES = 4096  # enough to tell a log from other files; a history dir may hold thousands


@dataclass(frozen=True)
class AppLog:
    """One application attempt's event log: the files to read, in order."""

    log_name: str
    """The file or rolling-dir name without ``eventlog_v2_``, codec and ``.inprogress`` suffixes,
    e.g. ``local-1795302147485``, ``local-1430917381535_1``."""
    files: tuple[Path, ...]
    """Absolute paths, in read order."""
    codec: str | None
    """Compression codec of the first file (as Spark: the codec of the first file it reads); None = plain."""
    in_progress: bool
    """Single file: its name ends in ``.inprogress``; rolling dir: its appstatus file's name does (or it has none)."""
    rolling: bool
    """True for a rolling event-log directory."""
    notes: tuple[str, ...] = ()
    """What the load should tell the user about the files chosen (e.g. a rotated part read alone)."""

    def fingerprint(self) -> tuple[tuple[str, int, int], ...]:
        """``(path, size, mtime_ns)`` of each file, for a cache key: it changes when a file is rewritten or grows."""
        result = []
        for p in self.files:
            try:
                st = p.stat()
            except OSError as e:
                raise SparkswordError(f"cannot read the file ({e.strerror or e})", path=p) from None
            result.append((str(p), st.st_size, st.st_mtime_ns))
        return tuple(result)


def application_start(head: bytes) -> dict:
    """The ApplicationStart event among the first decoded bytes of a log ({} when they hold no readable one)."""
    import json

    for line in head.splitlines():
        if b"SparkListenerApplicationStart" not in line:
            continue
        try:
            event = json.loads(line)
        except ValueError:
            return {}
        return event if isinstance(event, dict) else {}
    return {}


def application_identity(app_log: AppLog) -> tuple[str | None, str | None]:
    """(App ID, App Attempt ID) from the log's ApplicationStart event, read from its first megabytes only."""
    from .codecs import decoded_head

    first = app_log.files[0]
    try:
        start = application_start(decoded_head(first, codec_for(first)))
    except SparkswordError:
        return None, None
    return start.get("App ID"), start.get("App Attempt ID")


def discover(path: str | Path) -> list[AppLog]:
    """The application attempts that ``path`` (a file, rolling dir, history dir or glob pattern) names.

    * A file is always one event log (even if oddly named): the loader judges its content.
    * A rolling dir (``eventlog_v2_*``, or any dir with ``events_<n>_*`` files and an ``appstatus_*`` file) is one
      event log: its ``events_`` files sorted by index, a ``.compact`` file after the plain file of the same index,
      everything before the last ``.compact`` file dropped; the remaining indices must be contiguous (and start at
      1 unless the first is a ``.compact`` file). A rolling dir without an ``appstatus_`` file is accepted and
      treated as in progress (Spark's reader would refuse it; the files are still a readable log). An event
      file that is a symbolic link to a file outside the directory is refused.
    * Any other directory is a history directory: each entry that is a single event-log file or a rolling dir
      is one event log (it is not searched deeper). Names starting with ``.`` and ``.crc`` files are ignored,
      and so are files whose first bytes show they are no event log (empty, or neither JSON lines nor a
      compressed stream); when nothing else is left, the error lists them.
    * A pattern with ``*``, ``?`` or ``[`` (that is not an existing path) is expanded; each match is taken as above.

    Results are sorted by :attr:`AppLog.log_name` (a glob's: per match, in sorted match order) and de-duplicated.
    Raises :class:`SparkswordError` for a missing or unreadable path, a directory without logs, a pattern that
    matches nothing, or a broken rolling dir.
    """
    text = os.fspath(path)
    expanded = os.path.expanduser(text)
    if not os.path.lexists(expanded) and _GLOB_CHARS.search(expanded):
        matches = sorted(glob.glob(expanded))
        if not matches:
            raise SparkswordError("no file or directory matches this pattern", path=text)
        seen: set[tuple[Path, ...]] = set()
        result: list[AppLog] = []
        for match in matches:
            for app in _discover_path(Path(match)):
                if app.files not in seen:
                    seen.add(app.files)
                    result.append(app)
        return result
    return _discover_path(Path(expanded))


# --------------------------------------------------------------------------------------------- internals


def _absolute(p: Path) -> Path:
    """Absolute and normalised, without resolving symlinks (their names carry the codec)."""
    return Path(os.path.abspath(p))


def _stat(p: Path) -> os.stat_result:
    try:
        return p.stat()
    except FileNotFoundError:
        if os.path.islink(p):
            raise SparkswordError("broken symbolic link", path=p) from None
        raise SparkswordError("no such file or directory", path=p) from None
    except OSError as e:
        raise SparkswordError(f"cannot access ({e.strerror or e})", path=p) from None


def _list_dir(p: Path) -> list[Path]:
    try:
        return sorted(p.iterdir())
    except OSError as e:
        raise SparkswordError(f"cannot list the directory ({e.strerror or e})", path=p) from None


def _ignored(name: str) -> bool:
    return name.startswith(".") or name.endswith(".crc")


def _discover_path(p: Path) -> list[AppLog]:
    p = _absolute(p)
    st = _stat(p)
    if stat.S_ISDIR(st.st_mode):
        if _is_rolling_dir(p):
            return [_rolling_log(p)]
        if _is_databricks_dir(p):
            return [_databricks_log(p)]
        return _history_dir(p)
    if not os.access(p, os.R_OK):
        raise SparkswordError("cannot read the file (permission denied)", path=p)
    single = _single_log(p)
    if _is_databricks_dir(p.parent) and (p.name == DATABRICKS_CURRENT or _DATABRICKS_PART.match(p.name)):
        others = [f.name for f in _databricks_parts(p.parent) if f != p]
        note = (f"{p.name} is one part of a Databricks rotated event log: {len(others)} other part(s) "
                f"({', '.join(others[:3])}{', ...' if len(others) > 3 else ''}) hold this application's other events "
                f"and were not read; load the folder {p.parent} for the whole application")
        single = AppLog(log_name=single.log_name, files=single.files, codec=single.codec,
                        in_progress=single.in_progress, rolling=False, notes=(note,))
    return [single]


def _is_databricks_dir(p: Path) -> bool:
    """A Databricks cluster-log folder: an ``eventlog`` file and at least one rotated ``eventlog-<date>`` part."""
    try:
        names = {e.name for e in os.scandir(p) if not _ignored(e.name)}
    except OSError:
        return False
    return DATABRICKS_CURRENT in names and any(_DATABRICKS_PART.match(n) for n in names)


def _databricks_parts(p: Path) -> list[Path]:
    """The rotated parts oldest first (their names carry the rotation time), then ``eventlog``."""
    rotated = sorted((f for f in _list_dir(p) if _DATABRICKS_PART.match(f.name)),
                     key=lambda f: (_DATABRICKS_PART.match(f.name).group(1), f.name))  # type: ignore[union-attr]
    return [_absolute(f) for f in rotated] + [_absolute(p / DATABRICKS_CURRENT)]


def _databricks_log(p: Path) -> AppLog:
    files = _databricks_parts(p)
    for f in files:
        if not os.access(f, os.R_OK):
            raise SparkswordError("cannot read the file (permission denied)", path=f)
    # each part has its own codec (rotated parts are gzipped, the current one is plain); the first names it
    return AppLog(log_name=p.name, files=tuple(files), codec=codec_for(files[0]), in_progress=False, rolling=False)


def log_name_of(name: str, *, is_dir: bool) -> str:
    """The log name an entry of a history folder stands for: a rolling dir's name without ``eventlog_v2_``, a
    file's without codec and ``.inprogress`` suffixes (as :attr:`AppLog.log_name`)."""
    if is_dir:
        return name[len(ROLLING_DIR_PREFIX):] if name.startswith(ROLLING_DIR_PREFIX) else name
    base = name.removesuffix(IN_PROGRESS_SUFFIX)
    codec = codec_for(Path(name))
    if codec is not None:
        base = base[: -(len(codec) + 1)]
    return base or name


def _single_log(p: Path) -> AppLog:
    return AppLog(log_name=log_name_of(p.name, is_dir=False), files=(p,), codec=codec_for(p),
                  in_progress=p.name.endswith(IN_PROGRESS_SUFFIX), rolling=False)


def _is_rolling_dir(p: Path) -> bool:
    """``eventlog_v2_*``, or a directory holding ``events_<n>_*`` files and an ``appstatus_*`` file."""
    if p.name.startswith(ROLLING_DIR_PREFIX):
        return True
    try:
        names = [e.name for e in os.scandir(p)]
    except OSError:
        return False
    has_events = any(EVENTS_FILE.match(n) for n in names if not _ignored(n))
    has_status = any(n.startswith(APPSTATUS_PREFIX) for n in names if not _ignored(n))
    return has_events and has_status


def _history_dir(p: Path) -> list[AppLog]:
    apps: list[AppLog] = []
    not_logs: list[str] = []
    for entry in _list_dir(p):
        if _ignored(entry.name):
            continue
        try:
            st = entry.stat()
        except OSError:
            continue  # a broken link or an entry that vanished: not a log
        if stat.S_ISDIR(st.st_mode):
            if _is_rolling_dir(entry):
                apps.append(_rolling_log(entry))
            elif _is_databricks_dir(entry):
                apps.append(_databricks_log(entry))
        elif stat.S_ISREG(st.st_mode):
            if not os.access(entry, os.R_OK):
                raise SparkswordError("cannot read the file (permission denied)", path=entry)
            # Files beside the logs (a README, a core dump, an empty file being created) are not applications;
            # as Spark's history server, pass over them, judging from the first bytes only.
            problem = content_problem(entry, probe=_HISTORY_PROBE_BYTES)
            if problem is None:
                apps.append(_single_log(entry))
            else:
                not_logs.append(f"{entry.name!r}: {problem}")
    if not apps:
        if not_logs:
            more = f"; and {len(not_logs) - 3} more" if len(not_logs) > 3 else ""
            raise SparkswordError(
                f"no Spark event logs found in directory ({len(not_logs)} "
                f"{'file is' if len(not_logs) == 1 else 'files are'} not event logs: {'; '.join(not_logs[:3])}{more})",
                path=p,
            )
        raise SparkswordError("no Spark event logs found in directory", path=p)
    apps.sort(key=lambda a: (a.log_name, a.files))
    return apps


def _rolling_log(d: Path) -> AppLog:
    """One rolling event-log dir, read as ``RollingEventLogFilesFileReader`` does."""
    events: list[tuple[int, bool, Path]] = []
    statuses: list[str] = []
    for entry in _list_dir(d):
        name = entry.name
        if _ignored(name):
            continue
        if name.startswith(APPSTATUS_PREFIX):
            statuses.append(name)
        elif name.startswith(EVENTS_PREFIX):
            m = EVENTS_FILE.match(name)
            if m is None:
                raise SparkswordError(
                    f"unexpected file name {name!r} in a rolling event log (expected events_<index>_<appId>...)",
                    path=d,
                )
            if entry.is_dir():
                raise SparkswordError(f"{name!r} is a directory, expected an event log file", path=d)
            if entry.is_symlink() and not entry.exists():
                raise SparkswordError(f"{name!r} is a broken symbolic link", path=d)
            if entry.is_symlink() and not _inside(entry, d):
                # Spark writes plain files here: a link out of the directory would make a log's files
                # name what the package reads (another user's file, /etc/passwd).
                raise SparkswordError(
                    f"{name!r} is a symbolic link to a file outside this rolling event log directory; not read",
                    path=d,
                )
            events.append((int(m.group(1)), name.endswith(COMPACT_SUFFIX), entry))
    if not events:
        raise SparkswordError("no events_<n>_* files in this rolling event log directory", path=d)
    events.sort(key=lambda e: (e[0], e[1], e[2].name))
    last_compact = max((i for i, e in enumerate(events) if e[1]), default=0)
    events = events[last_compact:]
    for (a, _, pa), (b, _, pb) in zip(events, events[1:]):
        if b == a:
            raise SparkswordError(f"two event log files with index {a}: {pa.name} and {pb.name}", path=d)
        if b != a + 1:
            missing = ", ".join(f"events_{i}" for i in range(a + 1, min(b, a + 4)))
            more = ", ..." if b - a > 4 else ""
            raise SparkswordError(
                f"missing event log file {missing}{more} (found {pa.name} then {pb.name})", path=d
            )
    first_index, first_compact, first = events[0]
    if not first_compact and first_index != 1:
        raise SparkswordError(
            f"missing event log file events_1 (the first file is {first.name}; without it the log has no start)",
            path=d,
        )
    files = tuple(_absolute(e[2]) for e in events)
    codec = codec_for(files[0])
    for f in files[1:]:
        if codec_for(f) != codec:
            raise SparkswordError(
                f"event log files use different codecs ({files[0].name}: {codec or 'none'}, "
                f"{f.name}: {codec_for(f) or 'none'})",
                path=d,
            )
    for f in files:
        if not os.access(f, os.R_OK):
            raise SparkswordError("cannot read the file (permission denied)", path=f)
    # Complete iff an appstatus file without ".inprogress" exists; no appstatus file at all: lenient, in progress.
    in_progress = not any(not s.endswith(IN_PROGRESS_SUFFIX) for s in statuses)
    return AppLog(
        log_name=_rolling_log_name(d, files[0]),
        files=files,
        codec=codec,
        in_progress=in_progress,
        rolling=True,
    )


def _inside(entry: Path, d: Path) -> bool:
    """Whether `entry` (after following links) is a file in the directory `d` (after following links)."""
    try:
        return entry.resolve(strict=True).parent == d.resolve(strict=True)
    except (OSError, RuntimeError):  # a broken or looping link
        return False


def _rolling_log_name(d: Path, first: Path) -> str:
    if d.name.startswith(ROLLING_DIR_PREFIX) and len(d.name) > len(ROLLING_DIR_PREFIX):
        return d.name[len(ROLLING_DIR_PREFIX):]
    # Not named eventlog_v2_*: the app id from the events file name.
    m = EVENTS_FILE.match(first.name)
    assert m is not None
    name = m.group(2).removesuffix(COMPACT_SUFFIX).removesuffix(IN_PROGRESS_SUFFIX)
    ext = name.rsplit(".", 1)[1].lower() if "." in name else None
    if ext in CODECS:
        name = name[: -(len(ext) + 1)]
    return name
