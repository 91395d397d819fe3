"""Which attempt of a stage Spark's pages show: the latest one."""
from __future__ import annotations

# A QUALIFY clause keeping each stage's latest attempt (of a query over rows with stage_id, stage_attempt_id).
LATEST_STAGE_ATTEMPT = "QUALIFY row_number() OVER (PARTITION BY stage_id ORDER BY stage_attempt_id DESC) = 1"
