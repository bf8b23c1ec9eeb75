"""The configuration documents operators write (the plans, budgets, alert-rules and directory
files): ``documents`` reads their JSON or TOML text into exact plain data. The environment's
settings are :mod:`analytics_pipeline.settings`."""
