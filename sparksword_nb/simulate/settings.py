"""The Spark settings a what-if understands: their kinds and Spark's defaults, resolved against a log's own."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..errors import SparkswordError
from ..spark import shuffle as rules
from ..spark.units import parse_bytes

# key -> (kind, Spark's default)
SETTINGS: dict[str, tuple[str, Any]] = {
    "spark.sql.shuffle.partitions": ("int", 200),
    "spark.sql.adaptive.enabled": ("bool", True),
    "spark.sql.adaptive.coalescePartitions.enabled": ("bool", True),
    "spark.sql.adaptive.advisoryPartitionSizeInBytes": ("bytes", 64 * 1024**2),
    "spark.sql.adaptive.coalescePartitions.minPartitionSize": ("bytes", 1024**2),
    "spark.sql.adaptive.coalescePartitions.parallelismFirst": ("bool", True),
    "spark.sql.adaptive.coalescePartitions.minPartitionNum": ("int", None),
    "spark.sql.adaptive.coalescePartitions.initialPartitionNum": ("int", None),
    "spark.sql.adaptive.skewJoin.enabled": ("bool", True),
    "spark.sql.adaptive.skewJoin.skewedPartitionFactor": ("float", 5.0),
    "spark.sql.adaptive.skewJoin.skewedPartitionThresholdInBytes": ("bytes", 256 * 1024**2),
    "spark.sql.autoBroadcastJoinThreshold": ("bytes", 10 * 1024**2),
    "spark.sql.adaptive.autoBroadcastJoinThreshold": ("bytes", None),
    "spark.shuffle.minNumPartitionsToHighlyCompress": ("int", rules.DEFAULT_MIN_PARTITIONS_TO_HIGHLY_COMPRESS),
    "spark.shuffle.accurateBlockThreshold": ("bytes", rules.DEFAULT_ACCURATE_BLOCK_THRESHOLD),
    "spark.executor.instances": ("int", None),
    "spark.executor.cores": ("int", None),
    "spark.default.parallelism": ("int", None),
}


def parse_setting(key: str, kind: str, raw: Any) -> Any:
    """`raw` (a log's or a user's text) as a value of `kind` (int, float, bytes, bool); SparkswordError if not."""
    text = str(raw).strip()
    try:
        if kind == "int":
            return int(text)
        if kind == "float":
            return float(text)
        if kind == "bytes":
            return parse_bytes(text)
        if kind == "bool":
            if text.lower() in ("true", "1", "yes"):
                return True
            if text.lower() in ("false", "0", "no"):
                return False
            raise ValueError(text)
    except ValueError:
        raise SparkswordError(f"bad value for {key}: {raw!r} (expected {kind})") from None
    return text


@dataclass
class Resolved:
    """Every setting the estimate uses, and where each came from (what-if, log or Spark's default)."""

    values: dict[str, Any]
    sources: dict[str, str]

    def __getitem__(self, key: str) -> Any:
        return self.values[key]

    def given(self, key: str) -> bool:
        return self.sources.get(key) == "what-if"


def resolve_settings(settings: dict[str, Any], log_config: dict[str, str]) -> Resolved:
    """Merge what-if settings over the log's configuration over Spark's defaults."""
    unknown = sorted(set(settings) - set(SETTINGS))
    if unknown:
        raise SparkswordError(f"unsupported setting {unknown[0]}; supported: {', '.join(SETTINGS)}")
    values: dict[str, Any] = {}
    sources: dict[str, str] = {}
    for key, (kind, default) in SETTINGS.items():
        if key in settings:
            values[key], sources[key] = parse_setting(key, kind, settings[key]), "what-if"
        elif key in log_config:
            try:
                values[key], sources[key] = parse_setting(key, kind, log_config[key]), "log"
            except SparkswordError:
                values[key], sources[key] = default, "default"
        else:
            values[key], sources[key] = default, "default"
    if values["spark.sql.adaptive.autoBroadcastJoinThreshold"] is None:
        values["spark.sql.adaptive.autoBroadcastJoinThreshold"] = values["spark.sql.autoBroadcastJoinThreshold"]
        sources["spark.sql.adaptive.autoBroadcastJoinThreshold"] = sources["spark.sql.autoBroadcastJoinThreshold"]
    # Asking about an AQE setting means asking about a run with AQE on.
    if (
        any(k.startswith("spark.sql.adaptive.") and k != "spark.sql.adaptive.enabled" for k in settings)
        and "spark.sql.adaptive.enabled" not in settings
        and not values["spark.sql.adaptive.enabled"]
    ):
        values["spark.sql.adaptive.enabled"], sources["spark.sql.adaptive.enabled"] = True, "implied by the what-if"
    return Resolved(values, sources)
