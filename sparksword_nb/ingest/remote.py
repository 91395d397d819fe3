"""Event logs in object stores and remote file systems (s3://, gs://, abfs://, hdfs://, dbfs:/, ...) via fsspec.

The files of the chosen application are copied, streaming in chunks, into a local mirror (under the parse cache)
and read from there by the local discovery and decoders: the decoders need to seek, DuckDB reads local files, and
a second load of an unchanged object costs one metadata request (the mirror keeps each object's ETag, size and
modification time beside it). A download is written to a ``.part`` file and renamed when complete, so an
interrupted one leaves nothing that a later load would take for the log.

A remote history folder is listed, not downloaded: only the application picked (``app=``) is fetched, and the
table of its applications reads the first 256 KiB of each one's first file.
"""
from __future__ import annotations

import contextlib
import hashlib
import json
import os
import posixpath
import re
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from ..errors import SeveralApplications, SparkswordError
from .catalog import catalog_frame, catalog_row
from .codecs import codec_for, decoded_head
from .sources import (
    APPSTATUS_PREFIX,
    DATABRICKS_CURRENT,
    EVENTS_FILE,
    EVENTS_PREFIX,
    IN_PROGRESS_SUFFIX,
    ROLLING_DIR_PREFIX,
    application_start,
    log_name_of,
)

__all__ = ["display_url", "is_remote", "localize"]

_URL = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*):/")
_LOCAL_SCHEMES = {"file", "local"}
# schemes whose fsspec implementation lives in an optional package, and the extra that installs it
_EXTRAS = {"s3": "s3", "s3a": "s3", "gs": "gcs", "gcs": "gcs", "abfs": "azure", "abfss": "azure", "az": "azure",
           "adl": "azure"}
_CHUNK = 4 << 20
_HEAD_BYTES = 256 << 10


def is_remote(text: str) -> bool:
    """Whether `text` is a URL of a remote store (not a local path, nor a ``file:`` URL)."""
    scheme = _scheme(text)
    return scheme is not None and scheme not in _LOCAL_SCHEMES and len(scheme) > 1  # C:/ is a Windows drive


def _scheme(text: str) -> str | None:
    match = _URL.match(text)
    return match.group(1).lower() if match else None


def display_url(url: str) -> str:
    """The URL without credentials: user:password@ and the query string (SAS tokens, signatures) dropped."""
    url = re.sub(r"^([A-Za-z][A-Za-z0-9+.-]*://)[^/@]*@", r"\1", url)
    return url.split("?", 1)[0]


@contextlib.contextmanager
def _remote_errors(url: str) -> Iterator[None]:
    """Turn what fsspec and the stores raise into one line naming the URL (never a credential)."""
    shown = display_url(url)
    try:
        yield
    except SparkswordError:
        raise
    except FileNotFoundError:
        raise SparkswordError("no such object or folder", path=shown) from None
    except PermissionError as err:
        raise SparkswordError(f"access denied ({_first_line(err) or '403'})", path=shown) from None
    except TimeoutError:
        raise SparkswordError("the store did not answer in time (timed out)", path=shown) from None
    except ImportError as err:
        scheme = _scheme(url) or ""
        extra = _EXTRAS.get(scheme)
        hint = f"pip install 'sparksword_nb[{extra}]'" if extra else f"install fsspec's implementation for {scheme}://"
        raise SparkswordError(f"reading {scheme}:// needs a package that is not installed ({hint}): "
                              f"{_first_line(err)}", path=shown) from None
    except Exception as err:  # noqa: BLE001 - botocore, aiohttp, azure and gcs errors have no common base
        kind = type(err).__name__
        if "Credentials" in kind or "credential" in str(err).lower():
            raise SparkswordError("no credentials for this store were found (for S3: AWS_ACCESS_KEY_ID / "
                                  "AWS_SECRET_ACCESS_KEY, AWS_PROFILE or an instance role; or storage_options=)",
                                  path=shown) from None
        raise SparkswordError(f"cannot read it ({kind}: {_first_line(err)})", path=shown) from None


def _first_line(err: BaseException) -> str:
    text = str(err).strip()
    return text.splitlines()[0][:300] if text else ""


def _filesystem(url: str, storage_options: dict[str, Any] | None) -> tuple[Any, str]:
    with _remote_errors(url):
        import fsspec

        fs, path = fsspec.core.url_to_fs(url, **(storage_options or {}))
        fs.invalidate_cache()  # a growing log: never answer from a listing made before
        return fs, path.rstrip("/")


def _version(info: dict[str, Any]) -> dict[str, Any]:
    """What tells that an object changed: its ETag (or generation / md5), size and modification time."""
    keys = ("ETag", "etag", "generation", "md5Hash", "content_md5", "LastModified", "last_modified", "mtime",
            "updated", "modificationTime", "size")
    return {k: str(info[k]) for k in keys if info.get(k) is not None}


def _fetch(fs: Any, remote_path: str, info: dict[str, Any], local: Path, url: str) -> None:
    """Copy one object into the mirror, unless the copy there is of the same version."""
    meta = local.with_name(f".{local.name}.remote.json")
    version = _version(info)
    if local.exists() and meta.exists():
        with contextlib.suppress(OSError, ValueError):
            if json.loads(meta.read_text()) == version:
                return
    local.parent.mkdir(parents=True, exist_ok=True)
    part = local.with_name(f".{local.name}.part{os.getpid()}")
    try:
        with _remote_errors(url), fs.open(remote_path, "rb", block_size=_CHUNK) as source, open(part, "wb") as target:
            shutil.copyfileobj(source, target, _CHUNK)
        os.replace(part, local)
        meta.write_text(json.dumps(version))
    finally:
        part.unlink(missing_ok=True)


def _mirror_of(fs: Any, remote_path: str, mirror_dir: Path) -> Path:
    protocol = fs.protocol[0] if isinstance(fs.protocol, (tuple, list)) else fs.protocol
    parent, name = posixpath.split(remote_path)
    key = hashlib.sha256(f"{protocol}://{parent}".encode()).hexdigest()[:16]
    return mirror_dir / key / name


def _is_one_log_folder(name: str, entries: list[dict[str, Any]]) -> bool:
    names = [posixpath.basename(e["name"]) for e in entries]
    if name.startswith(ROLLING_DIR_PREFIX):
        return True
    rolling = any(n.startswith(EVENTS_PREFIX) for n in names) and any(n.startswith(APPSTATUS_PREFIX) for n in names)
    databricks = DATABRICKS_CURRENT in names and any(n.startswith(DATABRICKS_CURRENT + "-") for n in names)
    return rolling or databricks


def _fetch_folder(fs: Any, remote_path: str, entries: list[dict[str, Any]], mirror_dir: Path, url: str) -> Path:
    local = _mirror_of(fs, remote_path, mirror_dir)
    wanted = set()
    for entry in entries:
        if entry.get("type") != "file":
            continue
        name = posixpath.basename(entry["name"])
        wanted.add(name)
        _fetch(fs, entry["name"], entry, local / name, url)
    # a rolling log's appstatus_*.inprogress is renamed when the application ends: drop what the store no longer has
    if local.is_dir():
        for stale in local.iterdir():
            if not stale.name.startswith(".") and stale.name not in wanted:
                stale.unlink(missing_ok=True)
    return local


def _list(fs: Any, path: str, url: str) -> list[dict[str, Any]]:
    with _remote_errors(url):
        return [e for e in fs.ls(path, detail=True)
                if not posixpath.basename(e["name"].rstrip("/")).startswith(".")
                and not e["name"].endswith(".crc") and posixpath.basename(e["name"].rstrip("/"))]


def localize(url: str, *, app: str | None, storage_options: dict[str, Any] | None, mirror_dir: Path) -> Path:
    """A local copy of the event log `url` names, for the local discovery to read.

    `url` may be one log file, one rolling or Databricks log folder, or a history folder; in a history folder with
    several applications `app` picks one (its log name, application id, or row of the table), else
    :class:`SeveralApplications` is raised with the folder's table.
    """
    fs, path = _filesystem(url, storage_options)
    with _remote_errors(url):
        info = fs.info(path)
    if info.get("type") != "directory":
        local = _mirror_of(fs, path, mirror_dir)
        _fetch(fs, path, info, local, url)
        return local
    entries = _list(fs, path, url)
    if _is_one_log_folder(posixpath.basename(path), entries):
        return _fetch_folder(fs, path, entries, mirror_dir, url)
    logs = _logs_in(entries, url)
    chosen = _choose(logs, app, fs, url)
    entry = logs[chosen]
    if entry.get("type") == "directory":
        return _fetch_folder(fs, entry["name"].rstrip("/"), _list(fs, entry["name"], url), mirror_dir, url)
    local = _mirror_of(fs, entry["name"], mirror_dir)
    _fetch(fs, entry["name"], entry, local, url)
    return local


def _logs_in(entries: list[dict[str, Any]], url: str) -> dict[str, dict[str, Any]]:
    """A history folder's entries by log name (what ``app=`` takes): its log files and log folders; empty files
    are no logs."""
    logs = {log_name_of(posixpath.basename(e["name"].rstrip("/")), is_dir=e.get("type") == "directory"): e
            for e in entries if e.get("size", 1) or e.get("type") == "directory"}
    if not logs:
        raise SparkswordError("no Spark event logs found in this folder", path=display_url(url))
    return logs


def _folder_version(entries: list[dict[str, Any]]) -> tuple[str, int]:
    """(version, size) of a log folder from its listing: each file's name and version, and their summed size."""
    files = [e for e in entries if e.get("type") == "file"]
    parts = sorted((posixpath.basename(f["name"]), _version(f)) for f in files)
    return json.dumps(parts, sort_keys=True), sum(int(f.get("size") or 0) for f in files)


def list_logs(url: str, *, storage_options: dict[str, Any] | None = None) -> list[tuple[str, str, int | None]]:
    """``(log name, version, size)`` of every application log under the remote `url`, from listings only (no
    object is read): the log name is what :func:`localize` takes as `app`, the version changes whenever one of
    the log's objects does (its ETag, size, modification time), so a fleet knows what to read again."""
    fs, path = _filesystem(url, storage_options)
    with _remote_errors(url):
        info = fs.info(path)
    if info.get("type") != "directory":
        return [(log_name_of(posixpath.basename(path), is_dir=False), json.dumps(_version(info), sort_keys=True),
                 info.get("size"))]
    entries = _list(fs, path, url)
    if _is_one_log_folder(posixpath.basename(path), entries):
        return [(log_name_of(posixpath.basename(path), is_dir=True), *_folder_version(entries))]
    found: list[tuple[str, str, int | None]] = []
    for name, entry in _logs_in(entries, url).items():
        if entry.get("type") == "directory":
            found.append((name, *_folder_version(_list(fs, entry["name"], url))))
        else:
            found.append((name, json.dumps(_version(entry), sort_keys=True), entry.get("size")))
    return found


def _choose(logs: dict[str, dict[str, Any]], app: str | None, fs: Any, url: str) -> str:
    if app is None:
        if len(logs) == 1:
            return next(iter(logs))
        raise SeveralApplications(list(logs), lambda: _table(logs, fs, url), path=display_url(url))
    if app in logs:
        return app
    wanted_id, _, attempt = app.partition("/")
    named = sorted(name for name in logs if name == wanted_id or name.startswith(wanted_id + "_"))
    if attempt:
        named = [name for name in named if name == f"{wanted_id}_{attempt}"]
    if named:
        return max(named, key=lambda n: (len(n), n))  # the latest attempt: the longest, highest suffix
    if app.isdigit():
        table = _table(logs, fs, url)
        if int(app) < len(table):
            return str(table["app"][int(app)])
    raise SparkswordError(f"no application {app!r} here; found: {', '.join(sorted(logs))}", path=display_url(url))


def _first_file(entry: dict[str, Any], fs: Any, url: str) -> dict[str, Any] | None:
    if entry.get("type") != "directory":
        return entry
    files = [e for e in _list(fs, entry["name"], url) if e.get("type") == "file"]
    # a rolling log's first file: the lowest events_<n>_ index, read by the local discovery's own pattern
    indexed = [(int(m.group(1)), e) for e in files if (m := EVENTS_FILE.match(posixpath.basename(e["name"])))]
    return min(indexed, key=lambda pair: pair[0])[1] if indexed else (files[0] if files else None)


def _table(logs: dict[str, dict[str, Any]], fs: Any, url: str) -> Any:
    rows = []
    for app, entry in logs.items():
        start: dict = {}
        first = _first_file(entry, fs, url)
        size = entry.get("size") if entry.get("type") != "directory" else None
        if first is not None:
            start = _remote_start(fs, first, url)
        name = posixpath.basename(entry["name"].rstrip("/"))
        status = "in progress" if name.endswith(IN_PROGRESS_SUFFIX) else "unknown"
        rows.append(catalog_row(app, start, end_ms=None, status=status, size=size, where=display_url(
            url.rstrip("/") + "/" + name)))
    return catalog_frame(rows)


def _remote_start(fs: Any, entry: dict[str, Any], url: str) -> dict:
    name = posixpath.basename(entry["name"])
    with tempfile.TemporaryDirectory() as tmp:
        local = Path(tmp) / name
        try:
            with _remote_errors(url), fs.open(entry["name"], "rb") as source:
                local.write_bytes(source.read(_HEAD_BYTES))
            return application_start(decoded_head(local, codec_for(local), limit=_HEAD_BYTES * 8))
        except SparkswordError:
            return {}
