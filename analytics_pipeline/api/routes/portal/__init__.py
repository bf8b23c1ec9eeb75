"""The portal's routers: the HTML pages under ``/portal`` (not in the OpenAPI document). What
they render with (templates, charts, forms, ranges, sessions, queries) is :mod:`analytics_pipeline.api.portal`."""
