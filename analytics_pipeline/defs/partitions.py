"""Time partitions shared by the assets (all UTC).

Hourly and daily partitions include the current, still open period (``end_offset=1``) so
the sensor can load an hour as its objects arrive; months are exported once complete.
"""

import dagster as dg

PARTITIONS_START = "2025-01-01"

hourly_partitions = dg.HourlyPartitionsDefinition(start_date=f"{PARTITIONS_START}-00:00", end_offset=1)
daily_partitions = dg.DailyPartitionsDefinition(start_date=PARTITIONS_START, end_offset=1)
monthly_partitions = dg.MonthlyPartitionsDefinition(start_date=PARTITIONS_START)
