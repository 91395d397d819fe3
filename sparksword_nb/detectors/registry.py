"""The detector registry, the facts every detector shares (`AppContext`), and `run_detectors`.

A detector is a class with a `type` (the problem it finds) and a `detect(ctx)` method that runs SQL over
the application's canonical tables and shapes the rows into `Insight`s. The thresholds live in that SQL,
so the same rules can run on another SQL engine.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar, overload

import duckdb

from ..errors import SparkswordError
from ._common import DERIVED_TABLES
from .accounting import link_to_time
from .model import Confidence, EvidenceValue, Insight

if TYPE_CHECKING:
    from ..store import EventLog
    from ..timeline import TimeAccount



@dataclass
class AppContext:
    """One application's facts that most rules need, read once per `run_detectors` call."""

    log: EventLog
    duration_ms: int
    start_ms: int | None
    end_ms: int | None
    total_cores: int
    spark_conf: dict[str, str] = field(default_factory=dict)
    # What the detectors that ran before found: detectors with `depends_on` read it.
    findings: list[Insight] = field(default_factory=list)
    _query_jobs: dict[int, list[int]] | None = field(default=None, init=False, repr=False)

    @classmethod
    def read(cls, log: EventLog) -> AppContext:
        """Read the application's wall time, cores and Spark properties."""
        account = log.time_account()
        slots = log.rows("SELECT COALESCE(sum(cores), 0) AS cores FROM executors WHERE cores IS NOT NULL")
        conf = {r["key"]: r["value"] for r in log.rows("SELECT key, value FROM config WHERE section = 'spark'")}
        return cls(log=log, duration_ms=account.duration_ms, start_ms=account.start_ms, end_ms=account.end_ms,
                   total_cores=int(slots[0]["cores"] or 0), spark_conf=conf)

    def rows(self, query: str, params: dict[str, Any] | None = None) -> list[dict[str, Any]]:
        """The result of SQL over this application's tables, as dicts."""
        return self.log.rows(query, params)

    @overload
    def conf(self, key: str) -> str | None: ...

    @overload
    def conf(self, key: str, default: str) -> str: ...

    @overload
    def conf(self, key: str, default: None) -> str | None: ...

    def conf(self, key: str, default: str | None = None) -> str | None:
        """A Spark property as the application set it (or `default`, Spark's default, when unset)."""
        return self.spark_conf.get(key, default)

    def conf_true(self, key: str, default: bool) -> bool:
        """A boolean Spark property."""
        value = self.spark_conf.get(key)
        return default if value is None else value.strip().lower() == "true"

    def jobs_of_query(self, execution_id: int) -> list[int]:
        """The job ids a SQL execution ran."""
        if self._query_jobs is None:
            self._query_jobs = {
                r["execution_id"]: list(r["job_ids"] or [])
                for r in self.rows("SELECT execution_id, job_ids FROM sql_executions")
            }
        return self._query_jobs.get(execution_id, [])

    def setting_changes(self, wanted: dict[str, tuple[str, str]]) -> list[str]:
        """'key=value' for each wanted setting (key -> (value, Spark's default)) the run does not already have.

        A suggestion built from this never asks for a value the log already has.
        """
        return [f"{key}={value}" for key, (value, default) in wanted.items()
                if (self.conf(key, default) or "").strip().lower() != value.lower()]

    def aqe_coalescing_advice(self) -> str:
        """How to let AQE coalesce small shuffle partitions, in terms of what this run already set."""
        changes = self.setting_changes({"spark.sql.adaptive.enabled": ("true", "true"),
                                        "spark.sql.adaptive.coalescePartitions.enabled": ("true", "true")})
        if changes:
            return "let AQE coalesce small partitions (" + ", ".join(changes) + ")"
        return ("note that AQE coalescing was on and still kept these partitions: with "
                "spark.sql.adaptive.coalescePartitions.parallelismFirst true (the default) it keeps at least the "
                "default parallelism, and partitions from repartition(n) are never coalesced")

    @property
    def account(self) -> TimeAccount:
        """Where the application's wall time went (see `timeline.time_account`)."""
        return self.log.time_account()

    def stage_jobs(self) -> dict[int, list[int]]:
        """The job ids each stage ran in."""
        jobs: dict[int, list[int]] = {}
        for r in self.rows("SELECT stage_id, flatten(list(job_ids)) AS job_ids FROM stages GROUP BY stage_id"):
            jobs[int(r["stage_id"])] = sorted({int(j) for j in r["job_ids"] or []})
        return jobs

    @property
    def aqe_enabled(self) -> bool:
        """Whether adaptive query execution was on (default true since Spark 3.2)."""
        return self.conf_true("spark.sql.adaptive.enabled", True)

    def insight(
        self,
        type: str,
        *,
        title: str,
        description: str,
        evidence: dict[str, EvidenceValue],
        confidence: Confidence,
        confidence_reason: str,
        impact_ms: float,
        suggestion: str,
        docs_url: str,
        stage_ids: list[int] | None = None,
        job_ids: list[int] | None = None,
        sql_ids: list[int] | None = None,
        time_parts: list[str] | None = None,
    ) -> Insight:
        """Build an Insight, measuring its impact against this application's wall time."""
        impact = max(0, int(round(impact_ms or 0)))
        share = min(1.0, impact / self.duration_ms) if self.duration_ms > 0 else 0.0
        return Insight(
            type=type, title=title, description=description,
            stage_ids=sorted(set(stage_ids or [])), job_ids=sorted(set(job_ids or [])),
            sql_ids=sorted(set(sql_ids or [])), evidence=evidence, confidence=confidence,
            confidence_reason=confidence_reason, impact_ms=impact, impact_share=round(share, 4),
            suggestion=suggestion, docs_url=docs_url, time_parts=list(time_parts or []),
        )


class Detector:
    """One problem type: `detect` returns its findings for one application (empty when none)."""

    type: ClassVar[str]
    # Types this detector's finding replaces on the same stages: the same symptom, explained better here.
    supersedes: ClassVar[tuple[str, ...]] = ()
    # Types whose findings this detector reads from `ctx.findings` (they run first).
    depends_on: ClassVar[tuple[str, ...]] = ()

    def detect(self, ctx: AppContext) -> list[Insight]:
        """The findings of this problem type in the application."""
        raise NotImplementedError


REGISTRY: dict[str, type[Detector]] = {}


def register(cls: type[Detector]) -> type[Detector]:
    """Class decorator: make a detector part of `run_detectors`."""
    if cls.type in REGISTRY and REGISTRY[cls.type] is not cls:
        raise ValueError(f"two detectors for type {cls.type!r}")
    REGISTRY[cls.type] = cls
    return cls


def _sort_key(insight: Insight) -> tuple:
    # at equal impact, a measured problem comes before the finding that re-states its time (AQE, config)
    derived = bool(REGISTRY[insight.type].depends_on) if insight.type in REGISTRY else False
    return (-insight.impact_ms, derived, insight.type, insight.stage_ids, insight.sql_ids, insight.job_ids,
            insight.title)


def _drop_superseded(found: list[Insight]) -> list[Insight]:
    """Drop a finding when a detector that supersedes its type reported every one of its stages."""
    covered: dict[str, set[int]] = {}
    for insight in found:
        for replaced in REGISTRY[insight.type].supersedes:
            covered.setdefault(replaced, set()).update(insight.stage_ids)
    return [
        i for i in found
        if not (i.stage_ids and set(i.stage_ids) <= covered.get(i.type, set()))
    ]


def _create_derived(log: EventLog) -> None:
    """Compute the shared per-stage and per-plan-node tables once for all detectors."""
    for name, select in DERIVED_TABLES.items():
        try:
            log.con.execute(f"CREATE OR REPLACE TEMP TABLE {name} AS {select}")
        except duckdb.Error as err:
            raise SparkswordError(f"SQL error while deriving {name}: {str(err).splitlines()[0]}") from None


def _drop_derived(log: EventLog) -> None:
    for name in DERIVED_TABLES:
        log.con.execute(f"DROP TABLE IF EXISTS temp.{name}")


def run_detectors(log: EventLog, types: list[str] | None = None) -> list[Insight]:
    """Every registered detector's findings for `log`, sorted by impact (largest first), deterministic.

    `types` limits the run to those problem types. Ties in impact are broken by type, then stage ids.
    """
    unknown = sorted(set(types or []) - set(REGISTRY))
    if unknown:
        raise SparkswordError(f"unknown insight type(s): {', '.join(unknown)}; known: {', '.join(sorted(REGISTRY))}")
    ctx = AppContext.read(log)
    wanted = set(types) if types is not None else set(REGISTRY)
    needed = set(wanted)
    for name in sorted(wanted):
        needed.update(REGISTRY[name].depends_on)
    # detectors that read other findings run after the ones they read
    order = sorted(needed, key=lambda name: (bool(REGISTRY[name].depends_on), name))
    _create_derived(log)
    try:
        for name in order:
            ctx.findings.extend(REGISTRY[name]().detect(ctx))
    finally:
        _drop_derived(log)
    kept = [i for i in ctx.findings if i.type in wanted]
    ordered = sorted(_drop_superseded(kept), key=_sort_key)
    return link_to_time(ordered, ctx.account, ctx.stage_jobs())
