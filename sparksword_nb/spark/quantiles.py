"""The History Server's task-summary quantiles (AppStatusStore.taskSummary): the value at position
min(floor(q * n), n - 1) of the n sorted values, an order statistic, never an interpolation."""
from __future__ import annotations

import math
from collections.abc import Sequence

# The quantiles the History Server's stage page and its taskSummary default ask for.
SUMMARY_QUANTILES: tuple[float, ...] = (0.0, 0.25, 0.5, 0.75, 1.0)


def quantile_index(q: float, n: int) -> int:
    """The 0-based position Spark reads for quantile `q` of `n` sorted values."""
    return min(math.floor(q * n), n - 1)


def quantile_indices(quantiles: Sequence[float], n: int) -> list[int]:
    """`quantile_index` for each of `quantiles`."""
    return [quantile_index(q, n) for q in quantiles]


def quantile_position_sql(q: float | str, n: str) -> str:
    """SQL for `quantile_index`: the 0-based position of quantile `q` (a number or a SQL expression) of `n`."""
    return f"least(floor({q} * {n})::BIGINT, {n} - 1)"


def quantile_sql(sorted_list: str, q: float | str, n: str) -> str:
    """SQL for the quantile `q` of the ascending DuckDB list `sorted_list` holding `n` elements (1-based lists)."""
    return f"{sorted_list}[{quantile_position_sql(q, n)} + 1]"


def summary_sql(sorted_list: str, n: str, quantiles: Sequence[float] = SUMMARY_QUANTILES) -> str:
    """SQL for the list of the `quantiles` of `sorted_list` (as `quantile_sql`, one per quantile)."""
    listed = ", ".join(str(q) for q in quantiles)
    return f"[{quantile_sql(sorted_list, 'q', n)} FOR q IN [{listed}]]"


def summary_values(values: Sequence[float], quantiles: Sequence[float] = SUMMARY_QUANTILES) -> list[float]:
    """The `quantiles` of `values` as the History Server picks them; all 0 for no values."""
    ordered = sorted(values)
    if not ordered:
        return [0.0 for _ in quantiles]
    return [ordered[i] for i in quantile_indices(quantiles, len(ordered))]
