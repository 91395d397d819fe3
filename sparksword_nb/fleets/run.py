"""Running a fleet: list the applications a target holds, read the new and changed ones on an engine, store them.

Engines differ only in where `summarize_job` runs: ``duckdb`` in worker processes on this machine (each with its
own DuckDB session under the memory limit, so memory is bounded by the number of workers, not of logs), ``spark``
in the Python workers of a SparkSession's executors (one application per Spark task). The rules are the
detectors' own SQL in both: nothing is implemented twice.
"""
from __future__ import annotations

import json
import os
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path
from typing import Any, Literal

from ..errors import SparkswordError
from .report import Fleet
from .store import FleetStore, default_store_path
from .summary import FleetJob, FleetResult, failed, summarize_job

Engine = Literal["duckdb", "spark"]
ENGINES = ("duckdb", "spark")


def fleet_jobs(target: str, *, storage_options: dict[str, Any] | None = None) -> list[FleetJob]:
    """One job per application attempt under `target` (a history folder, a glob, a remote prefix or a History
    Server), each with the fingerprint that tells whether a stored row is still current."""
    from ..ingest.history_server import is_history_server_url
    from ..ingest.history_server import list_logs as list_server_logs
    from ..ingest.remote import display_url, is_remote, list_logs
    from ..ingest.sources import discover

    if is_history_server_url(target) or is_remote(target):
        # listings only: nothing is downloaded to learn what changed
        listed = (list_server_logs(target) if is_history_server_url(target)
                  else list_logs(target, storage_options=storage_options))
        shown = display_url(target)
        return [FleetJob(key=f"{shown}#{name}", fingerprint=version, target=target, app=name,
                         storage_options=storage_options, size_bytes=size)
                for name, version, size in listed]
    jobs = []
    for app_log in discover(os.path.expanduser(target)):
        try:
            fingerprint = app_log.fingerprint()
        except SparkswordError:
            continue  # removed while we listed: it is not in the folder any more
        where = app_log.files[0].parent if app_log.rolling else app_log.files[0]
        jobs.append(FleetJob(key=str(where), fingerprint=json.dumps(fingerprint), app_log=app_log,
                             size_bytes=sum(size for _, size, _ in fingerprint)))
    return jobs


def _on_processes(jobs: list[FleetJob], workers: int, memory_limit: str | None) -> Iterator[FleetResult]:
    import multiprocessing

    # spawn, not fork: a forked child would inherit the parent's DuckDB connections and threads. Workers are not
    # recycled (max_tasks_per_child): on Python 3.11 a pool that replaces its workers can hang; each log's DuckDB
    # session is closed after it, so a worker's memory does not grow with the logs it read.
    with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn")) as pool:
        pending = {pool.submit(summarize_job, job, memory_limit): job for job in jobs}
        for future in as_completed(pending):
            job = pending.pop(future)  # a done job's result is stored, not kept here
            try:
                yield future.result()
            except BrokenProcessPool:
                yield failed(job, f"{job.key}: the worker process reading it died (out of memory? lower "
                                  "SPARKSWORD_MEMORY_LIMIT or --workers)")


def _on_spark(jobs: list[FleetJob], spark: Any, memory_limit: str | None) -> Iterator[FleetResult]:
    context = spark.sparkContext
    # One Spark task per application, collected a batch at a time: the driver holds a batch's rows, the fleet
    # store gets them as they come, and a batch waits at most for its slowest log.
    batch = max(64, context.defaultParallelism * 8)
    for first in range(0, len(jobs), batch):
        part = jobs[first:first + batch]
        yield from context.parallelize(part, len(part)).map(lambda job: summarize_job(job, memory_limit)).collect()


def local_spark(master: str = "local[*]") -> Any:
    """A SparkSession for the Spark engine when the caller has none (the CLI; spark-submit's own settings win)."""
    try:
        from pyspark.sql import SparkSession
    except ImportError:
        raise SparkswordError("the Spark engine needs pyspark: pip install pyspark (or run under spark-submit)") from None
    import sys

    # Spark's Python workers must import sparksword_nb: on this machine that is this interpreter
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    return (SparkSession.builder.appName("sparksword fleet").master(os.environ.get("SPARK_MASTER", master))
            .config("spark.ui.enabled", "false").config("spark.ui.showConsoleProgress", "false").getOrCreate())


def run_fleet(target: str | Path, *, engine: Engine = "duckdb", store: str | Path | None = None,
              workers: int | None = None, spark: Any = None, storage_options: dict[str, Any] | None = None,
              memory_limit: str | None = None, progress: bool = True) -> Fleet:
    """Read every application under `target` that the fleet store does not hold as it is now, and answer from
    the store. See :func:`sparksword_nb.fleet` for the arguments."""
    from tqdm.auto import tqdm

    if engine not in ENGINES:
        raise SparkswordError(f"unknown engine {engine!r}: choose one of {', '.join(ENGINES)}")
    target = os.fspath(target)
    jobs = fleet_jobs(target, storage_options=storage_options)
    fleet_store = FleetStore(store if store is not None else default_store_path(target))
    try:
        held = fleet_store.fingerprints()
        listed = {job.key for job in jobs}
        fleet_store.forget([key for key in held if key not in listed])
        # read again: new and changed logs, applications still running (their listing may not show it), and
        # errors (it may have been this machine: memory, network; not the log)
        todo = [job for job in jobs if held.get(job.key, (None, "error"))[1] in ("error", "in progress")
                or held[job.key][0] != job.fingerprint]
        skipped = len(jobs) - len(todo)
        workers = max(1, workers or min(4, os.cpu_count() or 1))
        # passed on explicitly: Spark executors do not see this process's environment
        memory_limit = memory_limit or os.environ.get("SPARKSWORD_MEMORY_LIMIT")
        if not todo:
            results: Iterator[FleetResult] = iter(())
        elif engine == "spark":
            results = _on_spark(todo, spark if spark is not None else local_spark(), memory_limit)
        elif workers == 1 or len(todo) == 1:
            results = (summarize_job(job, memory_limit) for job in todo)
        else:
            results = _on_processes(todo, min(workers, len(todo)), memory_limit)
        with tqdm(total=len(todo), desc="sparksword fleet", unit="app", disable=not progress or not todo) as bar:
            for result in results:
                fleet_store.put(result)
                bar.update(1)
        return Fleet(fleet_store.detached(), target=target, engine=engine, read=len(todo), reused=skipped,
                     storage_options=storage_options)
    except BaseException:
        fleet_store.close()
        raise
