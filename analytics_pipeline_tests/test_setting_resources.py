"""The resources' fields are the settings' declarations: what the Dagster UI shows for each
(description naming the variable, default, secret) comes from ``settings.py``, and a setting
sits on one resource."""

import json
from decimal import Decimal

import dagster as dg

from analytics_pipeline.definitions import resources_from_settings
from analytics_pipeline.defs.resources import SettingsResource
from analytics_pipeline.settings import Settings, declared, default_of, load_settings, setting_variables

_SETTING = "analytics_setting"


def _setting_fields(resources: dict[str, object]) -> list[tuple[str, str, str]]:
    """(resource key, field, setting) of every field a setting declares."""
    return [(key, field, info.json_schema_extra[_SETTING])
            for key, resource in resources.items() if isinstance(resource, SettingsResource)
            for field, info in type(resource).model_fields.items()
            if isinstance(info.json_schema_extra, dict) and _SETTING in info.json_schema_extra]


def test_the_ui_shows_each_fields_declaration():
    resources = resources_from_settings(Settings())
    fields = _setting_fields(resources)
    assert len(fields) >= 30
    for key, field, name in fields:
        config = resources[key].get_resource_definition().config_schema.as_field().config_type.fields[field]
        setting = declared(name)
        assert config.description.startswith(f"`{setting.variable}`: {setting.description}"), (key, field)
        assert config.is_secret == setting.secret, (key, field)
        if default_of(name) is not None:
            assert config.default_value == default_of(name), (key, field)
    webhook = resources["alert_settings"].get_resource_definition().config_schema.as_field().config_type
    assert webhook.fields["webhook_url"].is_secret and "ANALYTICS_ALERT_WEBHOOK_URL" in webhook.fields[
        "webhook_url"].description


def test_a_setting_sits_on_one_resource_and_budgets_are_shared(tmp_path):
    """budgets_file is one field (BudgetSettings), nested in the metrics' settings: the cost check and
    the health score read the same file. (work_mem is the one setting two resources read.)"""
    resources = resources_from_settings(Settings())
    by_setting: dict[str, list[str]] = {}
    for key, field, name in _setting_fields(resources):
        by_setting.setdefault(name, []).append(f"{key}.{field}")
    assert by_setting["budgets_file"] == ["budget_settings.budgets_file"]
    assert {name for name, places in by_setting.items() if len(places) > 1} == {"rollup_work_mem"}

    budgets = tmp_path / "budgets.json"
    budgets.write_text(json.dumps({"tenants": {"org-a": "100.00"}}))
    configured = resources_from_settings(load_settings({setting_variables()["budgets_file"]: str(budgets)}))
    assert configured["metrics_settings"].budget_settings is configured["budget_settings"]
    assert configured["metrics_settings"].budgets() == {"org-a": Decimal("100.00")}
    assert resources["metrics_settings"].budgets() == {}


def test_from_settings_gives_every_declared_field_and_secrets_as_env_vars(monkeypatch):
    monkeypatch.setenv("ANALYTICS_PAGERDUTY_ROUTING_KEY", "routing-secret")
    settings = load_settings({"ANALYTICS_PAGERDUTY_ROUTING_KEY": "routing-secret", "ANALYTICS_ROLLUP_WORKERS": "5"})
    resources = resources_from_settings(settings)
    assert resources["alert_settings"].pagerduty_routing_key == dg.EnvVar("ANALYTICS_PAGERDUTY_ROUTING_KEY")
    assert resources["rollup_settings"].workers == 5
    own = resources_from_settings(load_settings({"ANALYTICS_PAGERDUTY_ROUTING_KEY": "another-key"}))
    assert own["alert_settings"].pagerduty_routing_key == "another-key"  # not from this process: the value
