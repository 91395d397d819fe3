"""How the History Server writes values in its JSON: dates, and the shared helpers of the REST modules."""
from __future__ import annotations

from datetime import datetime, timezone

# A REST query string, parsed: name -> its values.
Query = dict[str, list[str]]


def spark_date(epoch_ms: int | None) -> str | None:
    """Epoch milliseconds as the History Server prints dates: `2015-02-03T16:42:59.720GMT`."""
    if epoch_ms is None:
        return None
    moment = datetime.fromtimestamp(epoch_ms / 1000, tz=timezone.utc)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{int(epoch_ms) % 1000:03d}GMT"
