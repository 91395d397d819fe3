"""The event log of the application a SparkSession (or SparkContext) in this process is running.

Spark names it from the session's own settings (``EventLogFileWriter``): ``<spark.eventLog.dir>/<app id>[_<attempt>]``
with the codec's extension and ``.inprogress`` while it runs, or, when ``spark.eventLog.rolling.enabled`` (the
default since 4.0), the folder ``eventlog_v2_<app id>[_<attempt>]``. Both are found by their log name, so
whatever the codec and rolling settings were, the discovery rules of :mod:`.sources` read them.
"""
from __future__ import annotations

import re
from typing import Any

from ..errors import SparkswordError

__all__ = ["ENABLE_EVENT_LOG_HINT", "active_spark", "event_log_location", "is_spark_handle"]

_DEFAULT_DIR = "/tmp/spark-events"
ENABLE_EVENT_LOG_HINT = ("start the session with .config('spark.eventLog.enabled', 'true')"
                         ".config('spark.eventLog.dir', '/tmp/spark-events') (an existing folder); a running "
                         "session cannot turn it on")


def is_spark_handle(obj: Any) -> bool:
    """A PySpark SparkSession (classic or Connect) or SparkContext, told apart without importing pyspark."""
    module = type(obj).__module__ or ""
    return module.startswith("pyspark.") and type(obj).__name__ in ("SparkSession", "SparkContext")


def active_spark() -> Any | None:
    """The SparkSession this process runs (else its SparkContext), or None; pyspark is not imported for it."""
    import sys

    if "pyspark" not in sys.modules:
        return None
    from pyspark import SparkContext
    from pyspark.sql import SparkSession

    session = SparkSession.getActiveSession()
    return session if session is not None else SparkContext._active_spark_context


def _sanitize(name: str) -> str:
    """Spark's ``Utils.sanitizeDirName``: how an application id appears in its event log's file name."""
    return re.sub(r"[.${}'\"]", "_", re.sub(r"[ :/]", "-", name)).lower()


def _local_or_url(directory: str) -> str:
    """`file:` URIs as local paths; Hadoop's s3a/s3n as fsspec's s3; other URLs unchanged."""
    if directory.startswith("file:"):
        rest = directory[len("file:"):]
        return "/" + rest.lstrip("/") if rest.startswith("/") else rest
    for hadoop in ("s3a://", "s3n://"):
        if directory.startswith(hadoop):
            return "s3://" + directory[len(hadoop):]
    return directory


def event_log_location(spark: Any) -> tuple[str, str]:
    """``(folder, log name)`` of the event log the running application writes, from its own settings.

    Raises :class:`SparkswordError` with the settings to add when event logging is off, and for a Spark Connect
    session (its log is written by the server, not this process).
    """
    context = spark
    if type(spark).__name__ == "SparkSession":
        try:
            context = spark.sparkContext
        except Exception:  # noqa: BLE001 - Spark Connect raises its own error type for this attribute
            raise SparkswordError(
                "a Spark Connect session: its event log is written by the Spark Connect server, not this kernel; "
                "load it from the server's spark.eventLog.dir or its History Server URL") from None
    try:
        conf = context.getConf()
        app_id = context.applicationId
        attempt = context._jsc.sc().applicationAttemptId()
        attempt_id = str(attempt.get()) if attempt.isDefined() else None
    except Exception as err:  # noqa: BLE001 - py4j errors when the context was stopped
        raise SparkswordError(f"cannot read the SparkContext's settings (is it stopped?): {err}") from None
    if (conf.get("spark.eventLog.enabled", "false") or "").strip().lower() != "true":
        raise SparkswordError(f"event logging is off for application {app_id}: {ENABLE_EVENT_LOG_HINT}")
    folder = _local_or_url(conf.get("spark.eventLog.dir", _DEFAULT_DIR) or _DEFAULT_DIR)
    name = _sanitize(app_id) + (f"_{_sanitize(attempt_id)}" if attempt_id else "")
    return folder, name
