"""config: settings of this run that matter for what it measured.

Rules (each only when the run shows the symptom the setting causes):
- spark.sql.shuffle.partitions (set or the default 200) with AQE coalescing off, while a SQL shuffle stage
  ran that many tasks of tiny data (a too_many_small_tasks finding on a shuffle read);
- spark.memory.fraction below its default 0.6 in a run that spilled (spill finding) or collected heavily
  (gc_pressure finding);
- spark.sql.autoBroadcastJoinThreshold=-1 in a run with a broadcast_join_candidate finding;
- spark.dynamicAllocation.enabled=true without an external shuffle service or shuffle tracking;
- the default Java serializer in a run whose RDD (non-SQL) stages shuffled >= 64 MiB.
Impact: the related finding's impact (the same time, not additional), else 0.
"""
from __future__ import annotations

from ..text import stage_list
from ._common import DOCS_COALESCE, DOCS_DYNAMIC_ALLOCATION, DOCS_JOIN_HINTS, DOCS_MEMORY, DOCS_SERIALIZATION, human_bytes
from .model import Insight
from .registry import AppContext, Detector, register

RDD_SHUFFLE_FLOOR = 64 * 1024 * 1024

RDD_SHUFFLE = """
SELECT COALESCE(sum(shuffle_write_bytes), 0) AS bytes, list(stage_id ORDER BY stage_id) AS stage_ids
FROM stages WHERE sql_execution_id IS NULL AND shuffle_write_bytes > 0
"""


@register
class ConfigRisk(Detector):
    """A setting of this run that produced a measured problem."""

    type = "config"
    depends_on = ("too_many_small_tasks", "spill", "gc_pressure", "broadcast_join_candidate")

    def detect(self, ctx: AppContext) -> list[Insight]:
        """One insight per risky setting that this run's measurements implicate."""
        by_type: dict[str, list[Insight]] = {}
        for i in ctx.findings:
            by_type.setdefault(i.type, []).append(i)
        rules = (self._shuffle_partitions, self._memory_fraction, self._broadcast_disabled,
                 self._dynamic_allocation, self._java_serializer)
        return [insight for rule in rules for insight in rule(ctx, by_type)]

    def _shuffle_partitions(self, ctx: AppContext, by_type: dict[str, list[Insight]]) -> list[Insight]:
        """Shuffle partitions for a tiny shuffle."""
        found: list[Insight] = []
        coalescing = ctx.aqe_enabled and ctx.conf_true("spark.sql.adaptive.coalescePartitions.enabled", True)
        partitions = ctx.conf("spark.sql.shuffle.partitions")
        tiny = [i for i in by_type.get("too_many_small_tasks", [])
                if i.evidence.get("read_metric") == "shuffle read" and i.sql_ids
                and str(i.evidence.get("tasks")) == (partitions or "200")]
        if tiny and not coalescing:
            top = _largest(tiny)
            found.append(ctx.insight(
                self.type,
                title=f"spark.sql.shuffle.partitions={partitions or '200 (default)'} for a "
                      f"{human_bytes(_number(top.evidence['stage_bytes']))} shuffle",
                description=(
                    f"Every SQL shuffle of this run is split into {partitions or 200} partitions "
                    f"({'set explicitly' if partitions else 'the default'}), and AQE coalescing was off, so "
                    f"{stage_list(sorted({s for i in tiny for s in i.stage_ids}))} ran that many tiny tasks (median "
                    f"{top.evidence['duration_ms_median']} ms). The impact is the too_many_small_tasks finding's, "
                    "the same time."),
                evidence={"spark.sql.shuffle.partitions": partitions or "200 (default)",
                          "aqe_coalescing": coalescing, "stage_bytes": top.evidence["stage_bytes"],
                          "tasks": top.evidence["tasks"], "target_tasks": top.evidence["target_tasks"]},
                confidence="high",
                confidence_reason="the setting is in the run's environment and the stage ran exactly that many tasks",
                impact_ms=top.impact_ms,
                suggestion=(f"Set spark.sql.shuffle.partitions to about {top.evidence['target_tasks']} for data of this "
                            f"size, or {ctx.aqe_coalescing_advice()}, so one setting fits small and large runs. A "
                            "fixed low value risks spill when the data grows."),
                docs_url=DOCS_COALESCE,
                stage_ids=sorted({s for i in tiny for s in i.stage_ids}),
                job_ids=sorted({j for i in tiny for j in i.job_ids}), sql_ids=sorted({q for i in tiny for q in i.sql_ids}),
            ))
        return found

    def _memory_fraction(self, ctx: AppContext, by_type: dict[str, list[Insight]]) -> list[Insight]:
        """Memory fraction lowered in a run that spilled or collected."""
        found: list[Insight] = []
        fraction = ctx.conf("spark.memory.fraction")
        memory_findings = by_type.get("spill", []) + by_type.get("gc_pressure", [])
        if fraction is not None and _float(fraction) < 0.6 and memory_findings:
            top = _largest(memory_findings)
            found.append(ctx.insight(
                self.type,
                title=f"spark.memory.fraction={fraction} (default 0.6) in a run that "
                      + " and ".join(sorted({'spilled' if i.type == 'spill' else 'spent time in GC' for i in memory_findings})),
                description=(
                    f"spark.memory.fraction is the share of the heap for execution and storage; at {fraction} "
                    "sorts, aggregations and joins get little memory and spill early. This run had "
                    + ", ".join(f"{i.type} on {stage_list(i.stage_ids)}" for i in memory_findings)
                    + ". The impact is the largest of those findings, the same time."),
                evidence={"spark.memory.fraction": fraction, "default": "0.6",
                          "related_findings": [f"{i.type}:{','.join(map(str, i.stage_ids))}" for i in memory_findings]},
                confidence="high",
                confidence_reason="the setting is explicit in the run's environment and the spill/GC was measured",
                impact_ms=top.impact_ms,
                suggestion=("Remove the setting (back to 0.6) unless user code needs that heap for its own objects; "
                            "raising it leaves less heap for user data structures and UDFs."),
                docs_url=DOCS_MEMORY,
                stage_ids=sorted({s for i in memory_findings for s in i.stage_ids}),
                job_ids=sorted({j for i in memory_findings for j in i.job_ids}),
                sql_ids=sorted({q for i in memory_findings for q in i.sql_ids}),
            ))
        return found

    def _broadcast_disabled(self, ctx: AppContext, by_type: dict[str, list[Insight]]) -> list[Insight]:
        """Broadcasts disabled while a join had a small side."""
        found: list[Insight] = []
        candidates = by_type.get("broadcast_join_candidate", [])
        if ctx.conf("spark.sql.autoBroadcastJoinThreshold", "").strip() == "-1" and candidates:
            top = _largest(candidates)
            found.append(ctx.insight(
                self.type,
                title="spark.sql.autoBroadcastJoinThreshold=-1 disabled broadcast joins",
                description=(
                    "Automatic broadcast joins were disabled, and the run had sort-merge join(s) with a small side: "
                    + ", ".join(f"query {i.sql_ids} ({i.evidence.get('small_side_bytes')} bytes)" for i in candidates)
                    + ". The impact is the broadcast_join_candidate finding's, the same time."),
                evidence={"spark.sql.autoBroadcastJoinThreshold": "-1", "default": "10MB",
                          "candidate_joins": len(candidates)},
                confidence="high",
                confidence_reason="the setting is explicit and the small join sides were measured",
                impact_ms=top.impact_ms,
                suggestion=("Remove the setting (default 10MB) or hint the small side with broadcast(df); a global "
                            "threshold broadcasts every small-looking side, so keep it modest on drivers with little memory."),
                docs_url=DOCS_JOIN_HINTS,
                stage_ids=sorted({s for i in candidates for s in i.stage_ids}),
                job_ids=sorted({j for i in candidates for j in i.job_ids}),
                sql_ids=sorted({q for i in candidates for q in i.sql_ids}),
            ))
        return found

    def _dynamic_allocation(self, ctx: AppContext, by_type: dict[str, list[Insight]]) -> list[Insight]:
        """Dynamic allocation that can lose shuffle files."""
        found: list[Insight] = []
        if (ctx.conf_true("spark.dynamicAllocation.enabled", False)
                and not ctx.conf_true("spark.shuffle.service.enabled", False)
                and not ctx.conf_true("spark.dynamicAllocation.shuffleTracking.enabled", True)):
            found.append(ctx.insight(
                self.type,
                title="Dynamic allocation without a shuffle service or shuffle tracking",
                description=("spark.dynamicAllocation.enabled=true while spark.shuffle.service.enabled and "
                             "spark.dynamicAllocation.shuffleTracking.enabled are false: an executor removed for "
                             "idleness takes its shuffle files with it, and later stages must recompute them."),
                evidence={"spark.dynamicAllocation.enabled": "true", "spark.shuffle.service.enabled": "false",
                          "spark.dynamicAllocation.shuffleTracking.enabled": "false"},
                confidence="medium",
                confidence_reason="the settings are explicit; whether files were lost depends on executor removals",
                impact_ms=0,
                suggestion=("Set spark.dynamicAllocation.shuffleTracking.enabled=true (keeps executors holding shuffle "
                            "data alive longer) or run the external shuffle service (spark.shuffle.service.enabled=true)."),
                docs_url=DOCS_DYNAMIC_ALLOCATION,
            ))
        return found

    def _java_serializer(self, ctx: AppContext, by_type: dict[str, list[Insight]]) -> list[Insight]:
        """Java serialization for large RDD shuffles."""
        found: list[Insight] = []
        serializer = ctx.conf("spark.serializer", "org.apache.spark.serializer.JavaSerializer")
        if serializer.endswith("JavaSerializer"):
            rdd = ctx.rows(RDD_SHUFFLE)[0]
            if rdd["bytes"] >= RDD_SHUFFLE_FLOOR:
                found.append(ctx.insight(
                    self.type,
                    title=f"Java serialization for {human_bytes(rdd['bytes'])} of RDD shuffle data",
                    description=("RDD (non-SQL) stages shuffled "
                                 f"{human_bytes(rdd['bytes'])} with the default Java serializer, which is slower and "
                                 "larger than Kryo for JVM objects. DataFrame stages are not affected."),
                    evidence={"spark.serializer": serializer, "rdd_shuffle_write_bytes": rdd["bytes"]},
                    confidence="low",
                    confidence_reason="the serializer and the bytes are measured; the time serialization took is not",
                    impact_ms=0,
                    suggestion=("Set spark.serializer=org.apache.spark.serializer.KryoSerializer and register your "
                                "classes (spark.kryo.classesToRegister); unregistered classes are written with their "
                                "full names. PySpark RDDs pickle in Python and gain little."),
                    docs_url=DOCS_SERIALIZATION,
                    stage_ids=list(rdd["stage_ids"] or []),
                ))
        return found


def _number(value: object) -> float:
    """An evidence value that holds a number, as one (0 when it holds none)."""
    return float(value) if isinstance(value, (int, float)) else 0.0


def _largest(items: list[Insight]) -> Insight:
    return max(items, key=lambda i: (i.impact_ms, i.stage_ids))


def _float(text: str) -> float:
    try:
        return float(text)
    except ValueError:
        return 1.0
