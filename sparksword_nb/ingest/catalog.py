"""What applications a folder holds, without loading them: the table a user picks one from.

Each application's name and start come from its ApplicationStart event (the first megabytes of the log); its end
from the ApplicationEnd event at the end of the last file (the last 256 KiB of a plain file; a compressed file is
decoded to its end, streaming, when it is at most 256 MiB, else its duration is left unknown rather than making a
listing cost a full read).
"""
from __future__ import annotations

import io
import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import SparkswordError
from .codecs import codec_for, decode_to, decoded_head
from .sources import AppLog, application_start

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["CATALOG_COLUMNS", "catalog", "catalog_frame", "catalog_row"]

CATALOG_COLUMNS = ("app", "app_id", "attempt_id", "name", "start", "duration_ms", "status", "size_bytes", "path")

_TAIL_BYTES = 256 << 10
_DECODE_TAIL_LIMIT = 256 << 20


class _Tail(io.RawIOBase):
    """A sink that keeps only the last `limit` bytes written to it."""

    def __init__(self, limit: int) -> None:
        super().__init__()
        self.limit = limit
        self.data = bytearray()

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:  # noqa: ANN401 - any buffer
        self.data += bytes(data)
        if len(self.data) > 2 * self.limit:
            del self.data[: len(self.data) - self.limit]
        return len(data)


def _decoded_tail(path: Path) -> bytes | None:
    codec = codec_for(path)
    try:
        size = path.stat().st_size
        if codec is None:
            with open(path, "rb") as f:
                f.seek(max(0, size - _TAIL_BYTES))
                return f.read()
        if size > _DECODE_TAIL_LIMIT:
            return None
        tail = _Tail(_TAIL_BYTES)
        decode_to(path, codec, tail, tolerate_torn_tail=True)
        return bytes(tail.data)
    except (OSError, SparkswordError):
        return None


def _event(line: bytes, kind: bytes) -> dict | None:
    if kind not in line:
        return None
    try:
        event = json.loads(line)
    except ValueError:
        return None
    return event if isinstance(event, dict) else None


def _row(app_log: AppLog) -> dict[str, Any]:
    try:
        head = decoded_head(app_log.files[0], codec_for(app_log.files[0]), limit=1 << 20)
    except SparkswordError:
        head = b""
    start = application_start(head)
    end: dict | None = None
    tail = _decoded_tail(app_log.files[-1]) if not app_log.in_progress else None
    for line in reversed((tail or b"").splitlines()):
        end = _event(line, b"SparkListenerApplicationEnd")
        if end is not None:
            break
    end_ms = (end or {}).get("Timestamp")
    if app_log.in_progress:
        status = "in progress"
    elif end is not None:
        status = "completed"
    else:
        status = "no end event" if tail is not None else "unknown"
    size = 0
    for f in app_log.files:
        try:
            size += f.stat().st_size
        except OSError:
            pass
    folder = app_log.files[0].parent if app_log.rolling else app_log.files[0]
    return catalog_row(app_log.log_name, start, end_ms=end_ms, status=status, size=size, where=str(folder))


def catalog_row(app: str, start: dict, *, end_ms: Any, status: str, size: int | None, where: str) -> dict[str, Any]:
    """One row of the table: `app` is what ``app=`` takes, `start` the ApplicationStart event ({} if unknown)."""
    import pandas as pd  # imported on use: it is most of the package's import time

    start_ms = start.get("Timestamp")
    return {
        "app": app,
        "app_id": start.get("App ID"),
        "attempt_id": start.get("App Attempt ID"),
        "name": start.get("App Name"),
        "start": pd.to_datetime(start_ms, unit="ms", utc=True) if isinstance(start_ms, int) else pd.NaT,
        "duration_ms": end_ms - start_ms if isinstance(start_ms, int) and isinstance(end_ms, int) else None,
        "status": status,
        "size_bytes": size,
        "path": where,
    }


def catalog_frame(rows: list[dict[str, Any]]) -> pd.DataFrame:
    """The rows as the table users see: newest start first, unknown starts last."""
    import pandas as pd

    frame = pd.DataFrame(rows, columns=list(CATALOG_COLUMNS))
    frame["start"] = pd.to_datetime(frame["start"], utc=True)
    frame["duration_ms"] = frame["duration_ms"].astype("Int64")
    frame["size_bytes"] = frame["size_bytes"].astype("Int64")
    return frame.sort_values(["start", "app"], ascending=[False, True], na_position="last").reset_index(drop=True)


def catalog(app_logs: list[AppLog]) -> pd.DataFrame:
    """One row per application attempt: the `app` to pass as ``app=``/``--app``, its id, name, start, duration,
    status (completed, in progress, no end event) and size on disk, newest start first."""
    return catalog_frame([_row(a) for a in app_logs])
