"""Spark's own rules, each written once, as Spark's code applies them.

- `quantiles`: the History Server's task-summary positions (AppStatusStore.taskSummary), in Python and SQL.
- `units`: Utils.bytesToString, Utils.msDurationToString, and Spark's byte strings ('64m').
- `joins`: a join node's type and which sides Spark can broadcast for it.
- `attempts`: the latest attempt of each stage.
- `plan_graph`: SparkPlanGraph, the SQL tab's graph of a query's physical plan.
- `shuffle`: MapStatus rounding, AQE coalescing and skew-join splitting (ShufflePartitionsUtil, OptimizeSkewedJoin).

Nothing here reads a log or a table: callers bring values (or SQL expressions) and get Spark's answer.
"""
