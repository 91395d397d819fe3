"""Join rules: a join node's type, and which of its sides Spark can broadcast."""
from __future__ import annotations


def join_type(simple_string: str) -> str:
    """The join type from a join node's text, e.g. 'SortMergeJoin [k#1L], [k#3L], Inner' -> 'Inner'."""
    for name in ("LeftOuter", "RightOuter", "FullOuter", "LeftSemi", "LeftAnti", "ExistenceJoin", "Cross", "Inner"):
        if name in (simple_string or ""):
            return name
    return "Inner"


def broadcastable_sides(join: str) -> tuple[int, ...]:
    """Which sides (1 = left, 2 = right) Spark can broadcast for a join type."""
    if join in ("Inner", "Cross"):
        return (1, 2)
    if join in ("LeftOuter", "LeftSemi", "LeftAnti", "ExistenceJoin"):
        return (2,)
    if join == "RightOuter":
        return (1,)
    return ()
