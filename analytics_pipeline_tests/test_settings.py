"""The settings: one field per variable, defaults written once, clear errors, the README in step."""

import re
from pathlib import Path

import pytest

from analytics_pipeline.settings import Settings, SettingsError, load_settings, setting_variables

README = Path(__file__).resolve().parents[1] / "README.md"


def test_unset_and_blank_variables_give_the_defaults_with_stores_under_home(tmp_path):
    settings = load_settings({"ANALYTICS_HOME": str(tmp_path), "ANALYTICS_ROLLUP_WORKERS": "  "})
    assert settings.rollup_workers == Settings.rollup_workers == 2
    assert settings.logs_url == str(tmp_path / "logs") and settings.build_metrics_url == str(tmp_path / "build-metrics")
    assert settings.embedded_pgdata == tmp_path / "postgres"
    assert load_settings({}).home == Path("./.analytics").resolve()


def test_variables_are_parsed_by_the_type_of_their_setting():
    settings = load_settings({"ANALYTICS_RAW_RETENTION_DAYS": "30", "ANALYTICS_ANOMALY_STDDEVS": "4.5",
                              "ANALYTICS_DAGSTER_UI_URL": "https://dagster.example/", "ANALYTICS_LOGS_URL": "s3://b/p"})
    assert (settings.raw_retention_days, settings.anomaly_stddevs) == (30, 4.5)
    assert settings.dagster_ui_url == "https://dagster.example" and settings.logs_url == "s3://b/p"


@pytest.mark.parametrize(("variable", "value"), [("ANALYTICS_ROLLUP_WORKERS", "0"),
                                                 ("ANALYTICS_RAW_RETENTION_DAYS", "four hundred"),
                                                 ("ANALYTICS_QUARANTINE_FAIL_RATE", "1%")])
def test_a_value_a_setting_cannot_take_names_its_variable(variable, value):
    with pytest.raises(SettingsError, match=f"^{variable}="):
        load_settings({variable: value})


def test_the_readme_lists_exactly_the_settings():
    table = README.read_text().split("## Configuration", 1)[1].split("\n## ", 1)[0]
    documented = set(re.findall(r"`((?:ANALYTICS|DAGSTER)_[A-Z0-9_]+)`", table))
    # "ANALYTICS_QUARANTINE_WARN_RATE` / `_FAIL_RATE`" style rows name the second variable by its suffix.
    for first, suffix in re.findall(r"`((?:ANALYTICS|DAGSTER)_[A-Z0-9_]+)` / `(_[A-Z0-9_]+)`", table):
        documented.add("_".join(first.split("_")[:-suffix.count("_")]) + suffix)
    variables = set(setting_variables().values())
    assert variables <= documented, f"not in the README: {sorted(variables - documented)}"
    assert {v for v in documented if v.startswith("ANALYTICS_")} <= variables | {"ANALYTICS_TEST_SERVER_URL"}
