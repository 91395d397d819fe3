"""Plain text for a what-if `Estimate`: the measured stage beside the estimate, then the assumptions."""
from __future__ import annotations

from ..text import human_bytes, human_ms, terminal_safe
from .estimate import Estimate, StageShape


def _time(shape: StageShape) -> str:
    if shape.time is None:
        return "-"
    t = shape.time
    if t.low_ms == t.high_ms:
        return human_ms(t.mid_ms)
    return f"{human_ms(t.low_ms)} .. {human_ms(t.high_ms)} (mid {human_ms(t.mid_ms)})"


def format_estimate(est: Estimate) -> str:
    """The estimate as a terminal table: measured and estimated columns, AQE/skew/broadcast decisions,
    the replay's error at the real core count, and every assumption."""
    settings = ", ".join(f"{k}={v}" for k, v in est.settings.items()) or "(none: the log's own settings)"
    m, e = est.measured, est.estimated
    rows = [
        ("reduce tasks", str(m.tasks), str(e.tasks)),
        *(
            (f"partition size {label}", human_bytes(getattr(m.partition_bytes_q, key)),
             human_bytes(getattr(e.partition_bytes_q, key)))
            for label, key in (("min", "min"), ("p25", "p25"), ("median", "median"), ("p75", "p75"), ("max", "max"))
        ),
        ("shuffle read", human_bytes(m.shuffle_read_bytes), human_bytes(e.shuffle_read_bytes)),
        ("cores", str(m.cores), str(e.cores)),
        ("waves (tasks / cores)", f"{m.waves:g}", f"{e.waves:g}"),
        ("stage time", _time(m), _time(e)),
        ("tasks at spill risk", str(m.tasks_at_spill_risk), str(e.tasks_at_spill_risk)),
    ]
    width = max(len(r[0]) for r in rows)
    col = max(12, *(len(r[1]) for r in rows))
    lines = [
        f"What-if for stage {est.stage_id}.{est.stage_attempt_id} of {est.app_id}: {terminal_safe(est.stage_name)[:70]}",
        f"Settings     {terminal_safe(settings)}",
        "",
        f"  {'':<{width}}  {'measured':<{col}}  estimated",
    ]
    lines += [f"  {name:<{width}}  {mv:<{col}}  {ev}" for name, mv, ev in rows]
    if est.per_partition_spread:
        lines.append(f"  (each estimated partition size is an expected value, about +/-{est.per_partition_spread:.0%})")
    if est.aqe:
        a = est.aqe
        lines += ["", f"AQE coalescing: target size {human_bytes(a.target_size)} "
                      f"(advisory {human_bytes(a.advisory_size)}, min partitions {a.min_num_partitions}, "
                      f"min partition size {human_bytes(a.min_partition_size)}) -> {len(a.ranges)} tasks"
                      + (f" (between {a.count_range[0]} and {a.count_range[1]}: see the rounding assumption)"
                         if a.count_range[0] != a.count_range[1] else "")]
    if est.skew_join:
        sj = est.skew_join
        if sj.thresholds:
            lines.append(f"AQE skew join: skewed partitions {sj.skewed_partitions or 'none'} "
                         f"(thresholds {', '.join(human_bytes(t) for t in sj.thresholds)}), "
                         f"{sj.tasks_from_splits} extra tasks from splits")
        if sj.why_none:
            lines.append(f"AQE skew join split nothing: {terminal_safe(sj.why_none)}")
    if est.broadcast:
        b = est.broadcast
        verdict = f"broadcast the {b.broadcast_side} side" if b.broadcast_side else "no broadcast"
        lines.append(f"Broadcast: {verdict}: {terminal_safe(b.reason)}")
    me = est.model_error
    err = f"{me.error:+.0%}" if me.error is not None else "unknown"
    lines += ["", f"Model check: replaying the measured tasks on the real {me.cores} cores gives "
                  f"{human_ms(me.replay_ms)} against the real {human_ms(me.real_ms)} ({err})"]
    for job in est.jobs:
        lines.append(f"Job {job.job_id}: real {human_ms(job.real_ms)}, replay {human_ms(job.replay_real_cores_ms)} on "
                     f"{me.cores} cores, {human_ms(job.replay_whatif_cores_ms)} on {e.cores} cores")
    lines += ["", "Assumptions (every estimated number rests on these)"]
    lines += [f"  - {terminal_safe(a)}" for a in est.assumptions]
    lines += ["", est.note]
    return "\n".join(lines)
