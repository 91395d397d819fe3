"""`Fleet`: the questions a platform team asks of many applications, answered from the fleet store.

Which findings cost the most in total, how many core-hours were held idle, and which jobs (applications of the
same name) got slower. "Slower" follows the comparison's noise rule (:mod:`sparksword_nb.compare`): the latest
run's duration counts as a change only when it differs from the median of the earlier runs by at least
``NOISE_MS`` and ``NOISE_SHARE`` of the slower of the two.
"""
from __future__ import annotations

import json
import statistics
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from ..compare import time_change
from ..text import clip, fit_to_width, human_ms, plural, terminal_safe, terminal_width

if TYPE_CHECKING:
    from ..compare import Comparison
    from .store import FleetStore

HOUR_MS = 3_600_000
# The slower jobs whose latest run is compared with a typical earlier one in the text and the page (two loads each).
EXPLAINED_SLOWER = 3

_APPS = """
SELECT a.*, COALESCE(f.types, []) AS finding_types, COALESCE(f.impact_ms, 0) AS findings_impact_ms
FROM apps a LEFT JOIN (
  SELECT key, list(type ORDER BY impact_ms DESC, type) AS types, max(impact_ms) AS impact_ms
  FROM (SELECT key, type, max(impact_ms) AS impact_ms FROM findings GROUP BY key, type) GROUP BY key
) f USING (key)
ORDER BY a.start_ms DESC NULLS LAST, a.key
"""

# Per finding type: how many applications have it and the time it cost them, summed (types are not added up
# with each other: two findings about the same slow stage share their time).
_COSTLY = """
SELECT type, count(DISTINCT key) AS apps, count(*) AS findings, sum(impact_ms) AS impact_ms,
  count(*) FILTER (WHERE severity = 'high') AS high, first(app_id ORDER BY impact_ms DESC, app_id) AS worst_app_id,
  max(impact_ms) AS worst_impact_ms
FROM findings GROUP BY type ORDER BY impact_ms DESC, apps DESC, type
"""

_RUNS = """
SELECT name, start_ms, duration_ms, app_id, attempt_id, key, path, app FROM apps
WHERE status = 'completed' AND name IS NOT NULL AND start_ms IS NOT NULL AND duration_ms IS NOT NULL
ORDER BY name, start_ms, key
"""


def core_hours_text(core_ms: Any) -> str:
    """Core time as core-hours with two decimals; empty when unknown (None, or NaN in a DataFrame)."""
    return "" if core_ms is None or pd.isna(core_ms) else f"{core_ms / HOUR_MS:.2f}"


def _earlier_median(runs: list[dict[str, Any]]) -> float:
    """The median duration of the runs before the latest (`runs` in start order, at least two)."""
    return statistics.median(r["duration_ms"] for r in runs[:-1])


class Fleet:
    """Every application of a target, as the fleet store holds them after a run (see :func:`sparksword_nb.fleet`)."""

    def __init__(self, store: FleetStore, *, target: str, engine: str, read: int, reused: int,
                 storage_options: dict[str, Any] | None = None) -> None:
        self.store = store
        self._storage_options = storage_options
        self._why: dict[str, str] = {}
        self.target = target
        self.engine = engine
        self.read = read
        """Applications read in this run (new or changed logs, and those that failed before)."""
        self.reused = reused
        """Applications whose stored row was still current."""

    def __repr__(self) -> str:
        return f"<Fleet {self.target!r}: {plural(len(self.apps), 'application')} ({self.engine})>"

    # ---- the tables ----------------------------------------------------------------------------
    @property
    def apps(self) -> pd.DataFrame:
        """One row per application attempt, newest first: identity, duration, status, executors, core time
        allocated/busy/idle, tasks, its finding types (costliest first), and the error of a log not read."""
        frame = self.store.con.execute(_APPS).df()
        frame.insert(frame.columns.get_loc("start_ms"), "start", pd.to_datetime(frame["start_ms"], unit="ms", utc=True))
        return frame

    @property
    def findings(self) -> pd.DataFrame:
        """Every finding of every application: type, key, title, severity, confidence, impact."""
        return self.store.con.execute("SELECT * FROM findings ORDER BY impact_ms DESC, key, finding").df()

    def costly_findings(self) -> pd.DataFrame:
        """Per finding type: applications with it, findings, the time they cost in total, high-severity count,
        and the application where it cost the most."""
        return self.store.con.execute(_COSTLY).df()

    def core_hours(self) -> dict[str, float]:
        """Core-hours allocated to executors, used by tasks and idle (allocated minus used), over the applications
        whose executors' cores the log names."""
        # only applications whose executors' cores are known: old logs and some platforms do not say them
        row = self.store.rows("SELECT sum(core_ms_allocated) AS allocated, sum(core_ms_busy) AS busy, "
                              "sum(core_ms_idle) AS idle FROM apps WHERE core_ms_allocated IS NOT NULL")[0]
        return {k: round((v or 0) / HOUR_MS, 3) for k, v in row.items()}

    def wasteful_apps(self, limit: int = 10) -> pd.DataFrame:
        """The applications that held the most idle core time."""
        return self.store.con.execute(
            "SELECT app_id, attempt_id, name, core_ms_idle / $hour AS idle_core_hours, "
            "core_ms_allocated / $hour AS allocated_core_hours, duration_ms FROM apps "
            "WHERE core_ms_idle > 0 ORDER BY core_ms_idle DESC, app_id LIMIT $limit",
            {"limit": limit, "hour": float(HOUR_MS)}).df()

    def durations_by_name(self) -> dict[str, list[dict[str, Any]]]:
        """Per application name, its completed runs in start order: ``{start_ms, duration_ms, app_id, attempt_id,
        key, path, app}`` (`path` and `app` load the run again)."""
        series: dict[str, list[dict[str, Any]]] = {}
        for row in self.store.rows(_RUNS):
            series.setdefault(row.pop("name"), []).append(row)
        return series

    def slower(self) -> pd.DataFrame:
        """Application names whose latest completed run took longer than the median of the earlier ones, beyond
        run-to-run noise; the biggest slowdown first."""
        rows = []
        for name, runs in self.durations_by_name().items():
            if len(runs) < 2:
                continue
            before = _earlier_median(runs)
            latest = runs[-1]["duration_ms"]
            change = latest - before
            if change > 0 and time_change(before, latest):
                rows.append({"name": name, "runs": len(runs), "median_before_ms": int(before), "latest_ms": latest,
                             "change_ms": int(change), "ratio": round(latest / before, 2) if before else None,
                             "latest_app_id": runs[-1]["app_id"], "latest_start_ms": runs[-1]["start_ms"]})
        columns = ["name", "runs", "median_before_ms", "latest_ms", "change_ms", "ratio", "latest_app_id",
                   "latest_start_ms"]
        return pd.DataFrame(rows, columns=columns).sort_values(["change_ms", "name"], ascending=[False, True],
                                                               ignore_index=True)

    def why_slower(self, name: str) -> Comparison:
        """The latest run of `name` compared with a typical earlier one (the earlier run closest to their median
        duration, the latest of those on a tie): what changed, stage by stage (see :mod:`sparksword_nb.compare`)."""
        from ..compare import compare
        from ..errors import SparkswordError
        from ..store import Session

        runs = self.durations_by_name().get(name, [])
        if len(runs) < 2:
            raise SparkswordError(f"{name!r} has {plural(len(runs), 'completed run')} in this fleet: nothing to compare")
        before = _earlier_median(runs)
        typical = min(reversed(runs[:-1]), key=lambda r: abs(r["duration_ms"] - before))
        session = Session()
        logs = [session.load(r["path"], app=r["app"], storage_options=self._storage_options) for r in (typical, runs[-1])]
        return compare(logs[0], logs[1])

    def _why_headline(self, name: str) -> str:
        """`why_slower(name)`'s headline, computed once per fleet (it loads two runs)."""
        if name not in self._why:
            from ..errors import SparkswordError

            try:
                self._why[name] = self.why_slower(name).headline
            except SparkswordError as err:
                self._why[name] = f"cannot compare the runs: {err}"
        return self._why[name]

    def errors(self) -> list[str]:
        """The one-line error of each log that could not be read."""
        return [r["error"] for r in self.store.rows("SELECT error FROM apps WHERE error IS NOT NULL ORDER BY key")]

    # ---- for people and programs ---------------------------------------------------------------
    def counts(self) -> dict[str, int]:
        """Applications per status (completed, in progress, no end event, error)."""
        return {r["status"]: r["n"] for r in self.store.rows(
            "SELECT status, count(*) AS n FROM apps GROUP BY status ORDER BY n DESC, status")}

    def headline(self) -> str:
        """One sentence: how many applications, what it cost, the costliest finding, the biggest slowdown."""
        counts = self.counts()
        total = sum(counts.values())
        parts = [f"{plural(total, 'application')}"
                 + (f" ({', '.join(f'{n} {s}' for s, n in counts.items())})" if total else "")]
        hours = self.core_hours()
        if hours["allocated"]:
            parts.append(f"{hours['allocated']:.2f} core-hours allocated, {hours['idle']:.2f} of them idle")
        costly = self.costly_findings()
        if len(costly):
            top = costly.iloc[0]
            parts.append(f"costliest finding: {top['type']} ({plural(int(top['apps']), 'application')}, "
                         f"{human_ms(int(top['impact_ms']))} in total)")
        slower = self.slower()
        if len(slower):
            top = slower.iloc[0]
            parts.append(f"slower: {top['name']} {human_ms(int(top['median_before_ms']))} -> "
                         f"{human_ms(int(top['latest_ms']))}")
        return "; ".join(parts)

    def to_json(self) -> dict[str, Any]:
        """The fleet as plain data: ``{"apps": [{app_id, name, duration_ms, findings: [type, ...],
        finding_details: [{type, severity, impact_ms, ...}], ...}], "findings_by_type": [...], "slower": [...], ...}``."""
        details: dict[str, list[dict[str, Any]]] = {}
        for f in self.store.rows("SELECT key, type, finding, severity, confidence, impact_ms, impact_share, title "
                                 "FROM findings ORDER BY impact_ms DESC, finding"):
            details.setdefault(f.pop("key"), []).append(f)
        apps = []
        for row in self.store.rows(_APPS):
            row["findings"] = list(row.pop("finding_types"))
            row["finding_details"] = details.get(row["key"], [])
            row.pop("fingerprint")
            apps.append(row)
        return {
            "target": self.target, "engine": self.engine, "store": self.store.path,
            "read": self.read, "reused": self.reused, "headline": self.headline(),
            "apps": apps,
            "findings_by_type": self.costly_findings().to_dict("records"),
            "core_hours": self.core_hours(),
            "wasteful_apps": self.wasteful_apps().to_dict("records"),
            "slower": self.slower().to_dict("records"),
            "durations_by_name": self.durations_by_name(),
            "errors": self.errors(),
        }

    def text(self, width: int | None = None) -> str:
        """The fleet for a terminal: headline, costliest findings, slower jobs, the applications."""
        width = width or terminal_width()
        lines = [f"Fleet of {terminal_safe(self.target, 200)}: {self.headline()}",
                 f"({self.read} read now, {self.reused} unchanged since the last run; store {self.store.path})", ""]
        costly = self.costly_findings()
        if len(costly):
            lines.append(f"{'finding':<28} {'apps':>5} {'count':>6} {'time, summed':>13} {'high':>5}  worst in")
            for r in costly.to_dict("records"):
                lines.append(f"{clip(r['type'], 28):<28} {r['apps']:>5} {r['findings']:>6} "
                             f"{human_ms(int(r['impact_ms'])):>13} {r['high']:>5}  {terminal_safe(r['worst_app_id'], 60)}")
            lines.append("")
        slower = self.slower()
        if len(slower):
            lines.append(f"{'slower':<32} {'runs':>5} {'median before':>14} {'latest':>9} {'change':>9}")
            for r in slower.to_dict("records"):
                lines.append(f"{clip(terminal_safe(r['name'], 32), 32):<32} {r['runs']:>5} "
                             f"{human_ms(r['median_before_ms']):>14} {human_ms(r['latest_ms']):>9} "
                             f"{'+' + human_ms(r['change_ms']):>9}")
            for name in slower["name"][:EXPLAINED_SLOWER]:
                lines.append(f"  why {terminal_safe(name, 40)}: {terminal_safe(self._why_headline(name), 400)}")
            lines.append("")
        lines.append(f"{'app':<34} {'start (UTC)':<16} {'duration':>9} {'status':<12} {'cores':>5} "
                     f"{'core-h':>7} {'idle':>7}  findings")
        for r in self.store.rows(_APPS):
            start = pd.Timestamp(r["start_ms"], unit="ms").strftime("%Y-%m-%d %H:%M") if r["start_ms"] else "?"
            app = terminal_safe(r["app_id"] or r["app"] or r["key"], 34)
            if r["attempt_id"]:
                app = f"{app}/{terminal_safe(r['attempt_id'], 8)}"
            hours, idle = core_hours_text(r["core_ms_allocated"]), core_hours_text(r["core_ms_idle"])
            what = terminal_safe(r["error"], 200) if r["error"] else ", ".join(r["finding_types"]) or "-"
            lines.append(f"{clip(app, 34):<34} {start:<16} {human_ms(r['duration_ms']):>9} {r['status']:<12} "
                         f"{r['cores'] if r['cores'] is not None else '':>5} {hours:>7} {idle:>7}  {what}")
        return fit_to_width("\n".join(lines), width)

    def write_html(self, path: str | Path) -> Path:
        """A self-contained offline HTML page of the fleet (no script, no network)."""
        from ..widgets.fleet_view import fleet_page

        out = Path(path)
        out.write_text(fleet_page(self), encoding="utf-8")
        return out

    def _repr_mimebundle_(self, **kwargs: Any) -> dict[str, Any]:
        from ..widgets.fleet_view import fleet_html

        return {"text/plain": repr(self), "text/html": fleet_html(self)}

    def close(self) -> None:
        """Close the fleet store."""
        self.store.close()


def json_default(value: Any) -> Any:
    """JSON for what the fleet's rows hold beyond plain types (numpy numbers, timestamps)."""
    if hasattr(value, "item"):
        return value.item()
    if isinstance(value, pd.Timestamp):
        return value.isoformat()
    raise TypeError(f"not JSON: {type(value).__name__}")


def dumps(fleet: Fleet) -> str:
    """`fleet.to_json()` as text."""
    return json.dumps(fleet.to_json(), indent=2, default=json_default)
