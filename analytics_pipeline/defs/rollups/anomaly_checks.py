"""``usage_within_normal_range``: organizations whose hourly usage spikes or drops (a warning)."""

import dagster as dg

from analytics_pipeline.defs.resources import ClockResource, WarehouseResource
from analytics_pipeline.defs.rollups.assets import hourly_usage_rollups
from analytics_pipeline.defs.rollups.resources import RollupSettings
from analytics_pipeline.defs.shared import check_each_partition, hourly_partitions, window_metadata
from analytics_pipeline.rollups.anomalies import (
    AnomalyPolicy,
    AnomalyReport,
    Direction,
    anomalies_markdown,
    find_usage_anomalies,
)

USAGE_WITHIN_NORMAL_RANGE = "usage_within_normal_range"


@dg.asset_check(asset=hourly_usage_rollups, name=USAGE_WITHIN_NORMAL_RANGE, partitions_def=hourly_partitions)
def usage_within_normal_range(context: dg.AssetCheckExecutionContext, warehouse: WarehouseResource,
                              rollup_settings: RollupSettings, clock: ClockResource):
    """For each hour of the partition (or backfill range) and each organization, requests and
    tokens summed over models against the same hour of day on the trailing
    `ANALYTICS_ANOMALY_TRAILING_DAYS` days: warns on a spike or a drop beyond
    `ANALYTICS_ANOMALY_STDDEVS` standard deviations, naming the organizations. An
    organization that disappears is a drop (0 usage). Not judged: hours with fewer than 70% of
    the trailing days loaded, organizations new in the hour, and the hour still open.
    The standard deviation is floored at the noise usage has anyway: the largest of 10% of the
    mean, 1, 2 x sqrt(mean) for requests and 5 x mean / sqrt(mean requests) for tokens."""
    policy = rollup_settings.anomaly_policy()
    now = clock.now()
    with warehouse.connect() as conn:  # one result per hour of the run
        yield from check_each_partition(context, hourly_partitions, lambda _, window: _anomaly_result(
            find_usage_anomalies(conn, window.start, window.end, policy, now=now), policy, window))


def _anomaly_result(report: AnomalyReport, policy: AnomalyPolicy, window: dg.TimeWindow) -> dg.AssetCheckResult:
    flagged = report.organizations_flagged
    spikes, drops = report.flagged_hours(Direction.SPIKE), report.flagged_hours(Direction.DROP)
    if flagged:
        description = (f"{len(flagged)} organization(s) beyond {policy.stddevs:g} standard deviations of the same "
                       f"hour on the trailing {policy.trailing_days} days ({spikes} spike(s), {drops} drop(s)): "
                       + ", ".join(flagged[:10]) + (" …" if len(flagged) > 10 else ""))
    elif report.judged:
        description = (f"all {report.judged:,} organization-hours within {policy.stddevs:g} standard deviations "
                       f"of the same hour on the trailing {policy.trailing_days} days")
    else:
        reasons = []
        if report.short_history:
            reasons.append(f"{report.short_history} organization-hour(s) with fewer than "
                           f"{policy.required_history_days} of the trailing {policy.trailing_days} days loaded")
        if report.new_organizations:
            reasons.append(f"{len(report.new_organizations)} organization-hour(s) of new organizations")
        if report.open_hours:
            reasons.append(f"{report.open_hours} hour(s) still open")
        description = "not judged: " + ("; ".join(reasons) or "no usage in the window nor on its trailing days")
    new_orgs = sorted({org for _, org in report.new_organizations})
    return dg.AssetCheckResult(
        passed=report.passed,
        severity=dg.AssetCheckSeverity.WARN,
        description=description,
        metadata={
            **window_metadata(window),
            "trailing_days": policy.trailing_days,
            "stddevs": policy.stddevs,
            "required_history_days": policy.required_history_days,
            "hours": report.hours,
            "open_hours_not_judged": report.open_hours,
            "org_hours_judged": report.judged,
            "org_hours_short_history": report.short_history,
            "org_hours_new_organization": len(report.new_organizations),
            "organizations_flagged": len(flagged),
            "spikes": spikes,
            "drops": drops,
            "max_abs_z": round(report.max_abs_z, 3),
            **({"flagged_organizations": ", ".join(flagged),
                "anomalies": dg.MetadataValue.md(anomalies_markdown(report.anomalies, policy))} if flagged else {}),
            **({"new_organizations": ", ".join(new_orgs[:50])} if new_orgs else {}),
        },
    )
