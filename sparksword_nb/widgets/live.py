"""LiveReport: the report of an application that is still running, refreshed while its jobs run.

A background thread looks at the event log every few seconds; when its files changed it loads the application
into a fresh in-memory session (the report on screen keeps its own, so a click on it never meets a load in
progress) and swaps the new report in. It stops when the log says the application ended, or on `stop()`.
A refresh parses the whole log again (its cost is shown in the status line and kept in `history`).
"""
from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

import ipywidgets

from ..errors import SparkswordError
from ..text import plural
from .base import esc


@dataclass(frozen=True)
class Refresh:
    """One look at the log: when, what the log held, and what the refresh cost."""

    at: float
    changed: bool
    jobs: int
    running_jobs: int
    tasks: int
    seconds: float
    completed: bool


class LiveReport(ipywidgets.VBox):
    """The report of a running application, kept up to date by a background thread (see the module doc)."""

    def __init__(self, target: Any, *, app: str | None = None, every_s: float = 2.0,
                 report: Callable[[Any], Any] | None = None, start: bool = True) -> None:
        from ..ingest.spark_session import event_log_location, is_spark_handle

        if is_spark_handle(target):
            # read the session's settings once, in the kernel's thread
            target, app = event_log_location(target)
        self.target = target
        self.app = app
        self.every_s = every_s
        self.history: list[Refresh] = []
        """Every look at the log, oldest first."""
        self.event_log: Any = None
        """The EventLog of the latest refresh."""
        self.error: str | None = None
        self._make_report = report or _default_report
        self._fingerprint: Any = None
        self._own_files: Any = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.status = ipywidgets.HTML("loading ...")
        super().__init__([self.status])
        self.refresh()
        if start and not self.finished:
            self._thread = threading.Thread(target=self._run, name="sparksword-live", daemon=True)
            self._thread.start()

    @property
    def finished(self) -> bool:
        """The log says the application ended (or a refresh failed, or `stop()` was called)."""
        return self._stop.is_set() or bool(self.history and self.history[-1].completed)

    def stop(self) -> None:
        """Stop refreshing (the report shown stays)."""
        self._stop.set()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout=30)

    def refresh(self) -> Refresh | None:
        """Look at the log once; load it and show the new report when its files changed."""
        from ..store import Session, find_app_log

        began = time.perf_counter()
        try:
            app_log = self._find(find_app_log)
            fingerprint = app_log.fingerprint()
            if fingerprint == self._fingerprint and self.history:
                # the same files: the same numbers as the last look, without asking the log again
                return self._show(replace(self.history[-1], at=time.time(), changed=False,
                                          seconds=time.perf_counter() - began))
            session = Session()
            log = session.load_app_log(app_log, cache=False, progress=False)
            report = self._make_report(log)
        except SparkswordError as err:
            self.error = str(err)
            self.status.value = f"<span style='color:#b91c1c'>{esc(err)}</span>"
            self._stop.set()
            return None
        self._fingerprint = fingerprint
        previous, self.event_log = self.event_log, log
        self.children = (self.status, report)
        if previous is not None:
            previous.session.close()
        return self._record(began)

    def _find(self, find_app_log: Callable[..., Any]) -> Any:
        """The application's files: in a local folder of many logs, after the first look only its own file or
        rolling folder is looked at again (a single file's `.inprogress` is dropped at the end: then all are)."""
        from ..ingest.remote import is_remote
        from ..ingest.sources import discover

        if self._own_files is not None:
            try:
                found = discover(self._own_files)
                if len(found) == 1:
                    return found[0]
            except SparkswordError:
                pass
        app_log = find_app_log(self.target, app=self.app)
        local = not (isinstance(self.target, str) and is_remote(self.target))
        own = app_log.files[0].parent if app_log.rolling else app_log.files[0] if len(app_log.files) == 1 else None
        self._own_files = own if local else None
        return app_log

    def _record(self, began: float) -> Refresh:
        """Count what the newly loaded log holds."""
        row = self.event_log.rows("""
            SELECT (SELECT count(*) FROM jobs) AS jobs,
                   (SELECT count(*) FROM jobs WHERE status = 'RUNNING') AS running_jobs,
                   (SELECT count(*) FROM tasks) AS tasks,
                   (SELECT bool_or(completed) FROM applications) AS completed""")[0]
        return self._show(Refresh(at=time.time(), changed=True, jobs=row["jobs"], running_jobs=row["running_jobs"],
                                  tasks=row["tasks"], seconds=time.perf_counter() - began,
                                  completed=bool(row["completed"])))

    def _show(self, step: Refresh) -> Refresh:
        """Keep `step` in the history and say it in the status line."""
        self.history.append(step)
        state = "application ended" if step.completed else (
            f"{plural(step.running_jobs, 'job')} running" if step.running_jobs else "no job running")
        self.status.value = (f"<b>live</b> · {esc(state)} · {plural(step.jobs, 'job')}, {plural(step.tasks, 'task')} · "
                             f"{'refreshed' if step.changed else 'checked'} {time.strftime('%H:%M:%S')}"
                             f" in {step.seconds:.2f} s")
        return step

    def _run(self) -> None:
        while not self._stop.wait(self.every_s):
            step = self.refresh()
            if step is None or step.completed:
                break
        self._stop.set()

    def __repr__(self) -> str:
        last = self.history[-1] if self.history else None
        return (f"LiveReport(app={getattr(self.event_log, 'app_id', None)!r}, refreshes={len(self.history)}, "
                f"jobs={last.jobs if last else None}, finished={self.finished})")


def _default_report(log: Any) -> Any:
    from .report import Report

    return Report(log)
