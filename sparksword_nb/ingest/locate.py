"""Where a user's event log is, whatever they point at: the one place that turns a target into local files.

A target is a local path or glob (:mod:`.sources`), a bundled sample's name, a SparkSession or SparkContext
(:mod:`.spark_session`), a History Server URL (:mod:`.history_server`) or a remote store URL (:mod:`.remote`).
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from ..errors import SparkswordError
from .sources import AppLog, discover

__all__ = ["find_app_logs"]


def _sample(text: str) -> Path | None:
    from .. import samples

    names = {s.name for s in samples.list()}
    return samples.path(text) if text in names else None


def find_app_logs(target: Any, *, app: str | None = None, storage_options: dict[str, Any] | None = None,
                  mirror_dir: Path) -> tuple[list[AppLog], str | None, str]:
    """``(application logs, app still to pick among them, what to call the target in messages)``.

    Remote logs are copied into `mirror_dir` first (only the chosen application of a remote folder).
    """
    from .spark_session import event_log_location, is_spark_handle

    if is_spark_handle(target):
        folder, name = event_log_location(target)
        if app is not None:
            raise SparkswordError("app= picks among a folder's applications; a SparkSession has its own")
        logs, _, shown = find_app_logs(folder, app=name, storage_options=storage_options, mirror_dir=mirror_dir)
        return logs, name, shown
    if not isinstance(target, (str, os.PathLike)):
        raise SparkswordError(f"cannot load a {type(target).__name__}: give a path, URL, sample name or SparkSession")
    text = os.fspath(target)
    if isinstance(text, bytes):
        text = os.fsdecode(text)
    from .history_server import is_history_server_url, localize_from_history_server
    from .remote import display_url, is_remote, localize

    if is_history_server_url(text):
        local = localize_from_history_server(text, app=app, mirror_dir=mirror_dir)
        return discover(local), None, display_url(text)
    if is_remote(text):
        local = localize(text, app=app, storage_options=storage_options, mirror_dir=mirror_dir)
        return discover(local), None, display_url(text)
    if text.startswith("file:"):
        text = text[len("file:"):]
        text = "/" + text.lstrip("/") if text.startswith("/") else text
    if not os.path.lexists(os.path.expanduser(text)):
        sample = _sample(text)
        if sample is not None:
            return discover(sample), app, text
    return discover(text), app, text
