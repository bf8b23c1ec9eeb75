"""Per-tenant cost attribution, profitability and budgets: pure domain code, no Dagster.

``cost_explorer`` and ``focus`` read infrastructure cost from AWS Cost Explorer or from FOCUS
cost exports into :class:`~analytics_pipeline.costs.infra_costs.InfraCost` rows;
``attribution`` splits each day's cost over tenants (tagged cost plus a usage-driven share of
untagged cost, rounded to the cent by largest remainder); ``profitability`` sets it against
revenue; ``budgets`` evaluates monthly budgets (``generator.focus_costs`` writes demo cost
exports consistent with the synthetic usage). Money is ``Decimal`` end to end.
"""
