"""Where an application's wall time went: the parts of its run, and what the executors' cores did.

The wall time from the application's start to its end is cut into parts that add up to it exactly:
before the first job (driver start-up, executors registering, planning, reading metadata, Python), each
job (jobs that overlap are merged into one span: their time is shared), the gaps between jobs (driver-side
work, or a person thinking in an interactive session), and after the last job. Beside it, the executor
side as Sparklens measures it: core time allocated and busy, and per job its stages' wall times summed
against their critical path through the stage graph.

Only measured times are used: job submission and completion, stage and task times, executor lifetimes.
An application without ApplicationEnd ends at its last recorded event.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Literal

import pandas as pd
from pydantic import BaseModel, Field

from .text import human_ms

if TYPE_CHECKING:
    from .store import EventLog

PartKind = Literal["before_first_job", "jobs", "between_jobs", "after_last_job", "no_jobs"]

# What each kind of part is, for people; `between_jobs` has an interactive variant.
KIND_LABELS: dict[str, str] = {
    "before_first_job": "before the first job",
    "jobs": "running jobs",
    "between_jobs": "between jobs",
    "after_last_job": "after the last job",
    "no_jobs": "no job ran",
}
_KIND_WHAT: dict[str, str] = {
    "before_first_job": ("driver start-up (JVM, SparkContext, executors registering), then the driver's own code "
                         "before the first action: reading metadata, planning, Python"),
    "between_jobs": ("driver-side work with no job running: collecting and processing results, planning the "
                     "next query, listing files, Python code, sleeps or external calls"),
    "after_last_job": "driver-side work after the last job: processing results, writing files, stopping the session",
    "no_jobs": "the application ran no job: everything happened on the driver",
}
_INTERACTIVE_GAP = ("an interactive session: mostly a person between commands (reading, typing, thinking), "
                    "plus driver-side work")
_INTERACTIVE_START = ("driver start-up (JVM, SparkContext, executors registering), then, in this interactive "
                      "session, a person typing the first command")
_INTERACTIVE_NAMES = ("spark shell", "pysparkshell", "sparkr", "sparklyr", "spark-shell")

# The application's span: from its start to its end, or to the last recorded event when it never ended.
APP_SPAN = """
WITH last_seen AS (
  SELECT greatest((SELECT max(finish_ms) FROM tasks), (SELECT max(launch_ms) FROM tasks),
                  (SELECT max(completed_ms) FROM jobs), (SELECT max(submitted_ms) FROM jobs),
                  (SELECT max(completed_ms) FROM stages), (SELECT max(removed_ms) FROM executors)) AS ms
)
SELECT a.start_ms, COALESCE(a.end_ms, (SELECT ms FROM last_seen)) AS end_ms, a.end_ms IS NOT NULL AS ended,
  a.completed, a.name
FROM applications a
"""

# Cores that run tasks: the executors', or in local mode (no executor but the driver) the driver's.
TASK_SLOTS = """
WITH e AS (
  SELECT executor_id, COALESCE(cores, 0) AS cores, added_ms, removed_ms FROM executors
  WHERE added_ms IS NOT NULL AND COALESCE(cores, 0) > 0
)
SELECT * FROM e
WHERE executor_id <> 'driver' OR NOT EXISTS (SELECT 1 FROM e WHERE executor_id <> 'driver')
"""

_CORE_TIME_PER_PART = f"""
WITH parts AS (SELECT * FROM (VALUES {{values}}) AS p(i, s, e)),
slots AS ({TASK_SLOTS}),
task_cpus AS (SELECT COALESCE(max(TRY_CAST(value AS INTEGER)) FILTER (WHERE key = 'spark.task.cpus'), 1) AS c
              FROM config WHERE section = 'spark'),
alloc AS (
  SELECT p.i, sum(sl.cores * (least(p.e, COALESCE(sl.removed_ms, $end_ms)) - greatest(p.s, sl.added_ms))) AS core_ms
  FROM parts p JOIN slots sl ON sl.added_ms < p.e AND COALESCE(sl.removed_ms, $end_ms) > p.s
  GROUP BY p.i
),
busy AS (
  SELECT p.i, sum((least(p.e, COALESCE(t.finish_ms, $end_ms)) - greatest(p.s, t.launch_ms))
                  * (SELECT c FROM task_cpus)) AS busy_ms
  FROM parts p JOIN tasks t ON t.launch_ms < p.e AND COALESCE(t.finish_ms, $end_ms) > p.s
  GROUP BY p.i
)
SELECT p.i, COALESCE(a.core_ms, 0) AS core_ms, COALESCE(b.busy_ms, 0) AS busy_ms
FROM parts p LEFT JOIN alloc a USING (i) LEFT JOIN busy b USING (i) ORDER BY p.i
"""

_JOB_STAGES = """
WITH st AS (
  SELECT stage_id, min(list_min(job_ids)) AS job_id, any_value(parent_ids) AS parent_ids,
    sum(greatest(COALESCE(completed_ms, $end_ms) - submitted_ms, 0)) AS wall_ms
  FROM stages WHERE submitted_ms IS NOT NULL GROUP BY stage_id
),
longest AS (
  SELECT stage_id, max(COALESCE(duration_ms, 0)) AS longest_task_ms, sum(COALESCE(duration_ms, 0)) AS task_ms
  FROM tasks GROUP BY stage_id
)
SELECT st.*, COALESCE(l.longest_task_ms, 0) AS longest_task_ms, COALESCE(l.task_ms, 0) AS task_ms
FROM st LEFT JOIN longest l USING (stage_id) ORDER BY stage_id
"""


class TimePart(BaseModel):
    """One stretch of the application's wall time."""

    part: str = Field(description="its name, e.g. 'before the first job', 'job 3', 'jobs 4-6', 'between jobs 3 and 4'")
    kind: PartKind
    start_ms: int
    end_ms: int
    ms: int
    share: float = Field(description="ms / the application's duration")
    what: str = Field(description="what the time was spent on, as far as the log tells")
    job_ids: list[int] = Field(default_factory=list)
    core_ms: int = Field(0, description="task-running core time allocated during this part")
    busy_core_ms: int = Field(0, description="core time tasks ran during this part")


class JobTime(BaseModel):
    """One job's wall time against its stages': were they chained, parallel, or waiting on a long tail?"""

    job_id: int
    name: str | None
    status: str | None
    wall_ms: int
    stages: int
    stage_wall_sum_ms: int = Field(description="the stages' wall times added up, as if they ran one after another")
    critical_path_ms: int = Field(description="the longest chain of dependent stages' wall times")
    longest_task_path_ms: int = Field(
        description="the longest chain of each stage's longest task: the job's time with unlimited cores (Sparklens)")
    task_ms: int = Field(description="the tasks' summed durations")
    ideal_ms: int = Field(description="task_ms spread evenly over the application's cores (perfect parallelism)")


class CoreTime(BaseModel):
    """The task-running cores over the whole run."""

    cores: int = Field(description="the most task-running cores held at once")
    allocated_core_ms: int
    busy_core_ms: int
    idle_core_ms: int
    busy_share: float
    idle_in_driver_parts_core_ms: int = Field(description="idle core time while no job ran")


class TimeAccount(BaseModel):
    """An application's wall time cut into parts that add up to it, and what its cores did."""

    app_id: str
    start_ms: int | None
    end_ms: int | None
    duration_ms: int
    ended: bool = Field(description="the log has ApplicationEnd; otherwise the run is measured to its last event")
    interactive: bool = Field(description="a shell or notebook session: gaps between jobs are mostly a person")
    parts: list[TimePart]
    jobs: list[JobTime]
    cores: CoreTime

    def frame(self) -> pd.DataFrame:
        """The parts as a DataFrame: part, kind, start_ms, end_ms, ms, share, what, job_ids, core_ms, busy_core_ms."""
        columns = list(TimePart.model_fields)
        return pd.DataFrame([p.model_dump() for p in self.parts], columns=columns)

    def jobs_frame(self) -> pd.DataFrame:
        """Per job: wall time, stage wall sum, critical path, longest-task path, task time, ideal time."""
        return pd.DataFrame([j.model_dump() for j in self.jobs], columns=list(JobTime.model_fields))

    def by_kind(self) -> list[tuple[str, int, int]]:
        """(kind, ms, number of parts) in timeline order of first appearance, for a short summary."""
        order: dict[str, list[int]] = {}
        for p in self.parts:
            order.setdefault(p.kind, [0, 0])
            order[p.kind][0] += p.ms
            order[p.kind][1] += 1
        return [(k, v[0], v[1]) for k, v in order.items()]

    def part_of_job(self, job_id: int) -> str | None:
        """The name of the part in which `job_id` ran."""
        for p in self.parts:
            if job_id in p.job_ids:
                return p.part
        return None

    @staticmethod
    def kind_label(kind: str, parts: int) -> str:
        """A kind of part for people, with how many parts when several: 'running jobs (35 spans)'."""
        counted = {"jobs": "spans", "between_jobs": "gaps"}
        return KIND_LABELS[kind] + (f" ({parts} {counted[kind]})" if kind in counted and parts > 1 else "")

    def headline(self) -> str:
        """One sentence: where the wall time went, by kind of part."""
        if self.duration_ms <= 0:
            return "The log records no measurable wall time."
        pieces = [f"{human_ms(ms)} {self.kind_label(kind, n)} ({ms / self.duration_ms:.0%})"
                  for kind, ms, n in self.by_kind()]
        return f"{human_ms(self.duration_ms)}: " + ", ".join(pieces) + "."


def _span_name(job_ids: list[int]) -> str:
    if len(job_ids) == 1:
        return f"job {job_ids[0]}"
    ordered = sorted(job_ids)
    if ordered == list(range(ordered[0], ordered[-1] + 1)):
        return f"jobs {ordered[0]}-{ordered[-1]}"
    return "jobs " + ",".join(map(str, ordered[:6])) + ("..." if len(ordered) > 6 else "")


def _is_interactive(name: str | None, conf_keys: set[str]) -> bool:
    if (name or "").strip().lower() in _INTERACTIVE_NAMES:
        return True
    return any(k.startswith(("spark.repl.", "spark.jupyter.", "spark.databricks.repl")) for k in conf_keys)


def app_span(log: EventLog) -> tuple[int | None, int | None, bool, bool, str | None]:
    """(start_ms, end_ms, ended, completed, name); end_ms is the last recorded event when the app never ended."""
    rows = log.rows(APP_SPAN)
    if not rows:
        from .errors import SparkswordError

        raise SparkswordError(f"application {log.app_id} has no applications row: was it loaded?")
    r = rows[0]
    start = None if r["start_ms"] is None else int(r["start_ms"])
    end = None if r["end_ms"] is None else int(r["end_ms"])
    return start, end, bool(r["ended"]), bool(r["completed"]), r["name"]


_UNENDED_TAIL = ("after the last job, until the last recorded event: the application never logged its end (still "
                 "running, or its driver died), so what followed is unknown")


def _cut_parts(start: int, end: int, jobs: list[dict], interactive: bool, ended: bool = True) -> list[dict]:
    """The run cut into before / job spans / gaps / after, clipped to [start, end]."""
    before_what = _INTERACTIVE_START if interactive else _KIND_WHAT["before_first_job"]
    spans: list[dict] = []
    for job in sorted(jobs, key=lambda j: (j["s"], j["e"], j["job_id"])):
        s, e = max(start, min(job["s"], end)), max(start, min(job["e"], end))
        if spans and s <= spans[-1]["e"]:
            spans[-1]["e"] = max(spans[-1]["e"], e)
            spans[-1]["jobs"].append(job["job_id"])
        else:
            spans.append({"s": s, "e": e, "jobs": [job["job_id"]], "names": []})
        spans[-1]["names"].append(job["name"])
    if not spans:
        return [{"kind": "no_jobs", "part": KIND_LABELS["no_jobs"], "s": start, "e": end, "jobs": [],
                 "what": _KIND_WHAT["no_jobs"]}]
    parts = [{"kind": "before_first_job", "part": KIND_LABELS["before_first_job"], "s": start, "e": spans[0]["s"],
              "jobs": [], "what": before_what}]
    for i, span in enumerate(spans):
        if i:
            prev = spans[i - 1]
            parts.append({
                "kind": "between_jobs", "s": prev["e"], "e": span["s"], "jobs": [],
                "part": f"between {_span_name(prev['jobs'])} and {_span_name(span['jobs'])}",
                "what": _INTERACTIVE_GAP if interactive else _KIND_WHAT["between_jobs"],
            })
        names = [n for n in dict.fromkeys(span["names"]) if n]
        what = "; ".join(names[:3]) + (f"; +{len(names) - 3} more" if len(names) > 3 else "")
        parts.append({"kind": "jobs", "part": _span_name(span["jobs"]), "s": span["s"], "e": span["e"],
                      "jobs": sorted(span["jobs"]), "what": what or "jobs"})
    parts.append({"kind": "after_last_job", "part": KIND_LABELS["after_last_job"], "s": spans[-1]["e"], "e": end,
                  "jobs": [], "what": _KIND_WHAT["after_last_job"] if ended else _UNENDED_TAIL})
    # a zero-length part before, between or after says nothing
    return [p for p in parts if p["e"] > p["s"] or p["kind"] == "jobs"]


def _longest_chain(stages: dict[int, dict], weight: str) -> int:
    """The heaviest path through the stages' parent links (a DAG: parents have lower ids)."""
    best: dict[int, int] = {}
    for sid in sorted(stages):
        st = stages[sid]
        parents = [best[p] for p in (st["parent_ids"] or []) if p in best]
        best[sid] = int(st[weight] or 0) + (max(parents) if parents else 0)
    return max(best.values(), default=0)


def time_account(log: EventLog) -> TimeAccount:
    """Where `log`'s wall time went: parts that add up to its duration, per-job critical paths, core time."""
    start, end, ended, _completed, name = app_span(log)
    conf_keys = {r["key"] for r in log.rows("SELECT key FROM config WHERE section = 'spark'")}
    interactive = _is_interactive(name, conf_keys)
    empty_cores = CoreTime(cores=0, allocated_core_ms=0, busy_core_ms=0, idle_core_ms=0, busy_share=0.0,
                           idle_in_driver_parts_core_ms=0)
    if start is None or end is None or end <= start:
        return TimeAccount(app_id=log.app_id, start_ms=start, end_ms=end, duration_ms=0, ended=ended,
                           interactive=interactive, parts=[], jobs=[], cores=empty_cores)
    duration = end - start
    job_rows = log.rows("""
        SELECT job_id, name, status, submitted_ms AS s, COALESCE(completed_ms, $end_ms) AS e FROM jobs
        WHERE submitted_ms IS NOT NULL ORDER BY job_id""", {"end_ms": end})
    raw_parts = _cut_parts(start, end, job_rows, interactive, ended)
    values = ", ".join(f"({i}, {p['s']}, {p['e']})" for i, p in enumerate(raw_parts))
    core_rows = log.rows(_CORE_TIME_PER_PART.format(values=values), {"end_ms": end})
    cores_by_part = {int(r["i"]): r for r in core_rows}
    parts = [
        TimePart(part=p["part"], kind=p["kind"], start_ms=p["s"], end_ms=p["e"], ms=p["e"] - p["s"],
                 share=round((p["e"] - p["s"]) / duration, 4), what=p["what"], job_ids=p["jobs"],
                 core_ms=int(cores_by_part[i]["core_ms"]), busy_core_ms=int(cores_by_part[i]["busy_ms"]))
        for i, p in enumerate(raw_parts)
    ]
    slot_rows = log.rows(f"SELECT COALESCE(sum(cores), 0) AS cores FROM ({TASK_SLOTS})")
    total_cores = int(slot_rows[0]["cores"]) if slot_rows else 0
    allocated = sum(p.core_ms for p in parts)
    busy = min(sum(p.busy_core_ms for p in parts), allocated) if allocated else sum(p.busy_core_ms for p in parts)
    idle_driver = sum(max(p.core_ms - p.busy_core_ms, 0) for p in parts if p.kind != "jobs")
    cores = CoreTime(cores=total_cores, allocated_core_ms=allocated, busy_core_ms=busy,
                     idle_core_ms=max(allocated - busy, 0), busy_share=round(busy / allocated, 4) if allocated else 0.0,
                     idle_in_driver_parts_core_ms=idle_driver)
    return TimeAccount(app_id=log.app_id, start_ms=start, end_ms=end, duration_ms=duration, ended=ended,
                       interactive=interactive, parts=parts, jobs=_job_times(log, job_rows, end, total_cores),
                       cores=cores)


def _job_times(log: EventLog, job_rows: list[dict], end: int, cores: int) -> list[JobTime]:
    stages_by_job: dict[int, dict[int, dict]] = {}
    for st in log.rows(_JOB_STAGES, {"end_ms": end}):
        if st["job_id"] is not None:
            stages_by_job.setdefault(int(st["job_id"]), {})[int(st["stage_id"])] = st
    out = []
    for job in job_rows:
        stages = stages_by_job.get(int(job["job_id"]), {})
        task_ms = int(sum(int(s["task_ms"] or 0) for s in stages.values()))
        out.append(JobTime(
            job_id=int(job["job_id"]), name=job["name"], status=job["status"], wall_ms=int(job["e"] - job["s"]),
            stages=len(stages), stage_wall_sum_ms=int(sum(int(s["wall_ms"] or 0) for s in stages.values())),
            critical_path_ms=_longest_chain(stages, "wall_ms"),
            longest_task_path_ms=_longest_chain(stages, "longest_task_ms"),
            task_ms=task_ms, ideal_ms=int(round(task_ms / cores)) if cores else task_ms,
        ))
    return out
