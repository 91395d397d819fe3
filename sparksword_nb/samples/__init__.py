"""Small real event logs that ship with the package: each one is a lesson in Spark performance.

Every log here was written by Spark 4.3.0 itself (PySpark, `local[2]`), one known problem per application.

>>> from sparksword_nb import samples
>>> samples.path("skewed_join")          # a rolling eventlog_v2_* directory
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ..errors import SparkswordError

_HERE = Path(__file__).parent


@dataclass(frozen=True)
class Sample:
    """One bundled event log and the lesson it teaches."""

    name: str
    lesson: str

    @property
    def path(self) -> Path:
        return path(self.name)


_SAMPLES: tuple[Sample, ...] = (
    Sample("skewed_join", "60% of rows share one join key and AQE is off: one reduce task reads far more than the rest"),
    Sample("aqe_skew", "a skewed join run with AQE on: its partitions stay under the skew threshold, so AQE only coalesces"),
    Sample("tiny_partitions", "400 shuffle partitions for 20k rows: hundreds of tiny tasks"),
    Sample("broadcast_candidate", "a sort-merge join of 2M rows with a 50-row table, broadcast disabled"),
    Sample("spill", "a global sort with spark.memory.fraction=0.02: every task spills to disk"),
    Sample("cartesian", "a cross join with a non-equi filter"),
    Sample("python_udf", "a row-at-a-time Python UDF (BatchEvalPython)"),
    Sample("small_files", "writes, then reads back, 400 tiny parquet files"),
    Sample("failed_tasks", "one task fails on its first attempt and succeeds on retry"),
    Sample("aborted", "the driver was stopped mid-job: the job failed and the application ended"),
    Sample("multi_job_etl", "several jobs: cache, join, window function"),
    Sample("healthy", "a small, well-shaped job: broadcast join, AQE on"),
    Sample("pair_b_static", "one job with 200 static shuffle partitions (compare with pair_b_aqe, pair_b_p16)"),
    Sample("pair_b_aqe", "the same job with AQE coalescing, 512 KB advisory size: Spark chose 3 partitions"),
    Sample("pair_b_p16", "the same job with 16 static shuffle partitions"),
)


def list() -> tuple[Sample, ...]:  # noqa: A001 - the name users expect: samples.list()
    """The bundled samples, each with the lesson it teaches."""
    return _SAMPLES


def path(name: str) -> Path:
    """The event log of sample `name` (an `eventlog_v2_*` directory), ready for `sparksword_nb.load`."""
    folder = _HERE / name
    if name not in {s.name for s in _SAMPLES} or not folder.is_dir():
        raise SparkswordError(f"no sample {name!r}; samples: {', '.join(s.name for s in _SAMPLES)}")
    return next(p for p in sorted(folder.iterdir()) if p.name.startswith("eventlog_v2_"))
