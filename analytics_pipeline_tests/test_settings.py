"""The settings: each declared once (variable, default, type, description, secret), clear errors,
and everything else derived from or checked against the declarations: the README's table, the
variables named anywhere in the package, the code that reads them."""

import ast
import fnmatch
import re
import subprocess
import sys
from pathlib import Path

import pytest

from analytics_pipeline.settings import (
    Settings,
    SettingsError,
    configuration_table,
    declared,
    environment_for,
    is_set,
    load_settings,
    setting_variables,
)

REPO = Path(__file__).resolve().parents[1]
PACKAGE = REPO / "analytics_pipeline"
README = REPO / "README.md"
TABLE_START = "<!-- settings table: python -m analytics_pipeline.settings -->\n"
TABLE_END = "<!-- end of settings table -->"
# Names that look like settings but are not: a Python constant, and the test suite's own server.
NOT_SETTINGS = {"ANALYTICS_OWNERS", "ANALYTICS_TEST_SERVER_URL"}
VARIABLE = re.compile(r"ANALYTICS_[A-Z0-9_*]*[A-Z0-9*]")


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


def test_the_secrets_are_declared_so():
    secrets = {name for name in setting_variables() if declared(name).secret}
    assert secrets == {"database_url", "dagster_pg_url", "alert_webhook_url", "pagerduty_routing_key",
                       "api_signing_key"}


def test_a_child_process_gets_settings_through_their_variables():
    environ = environment_for(api_port=8081, budgets_file=Path("/b.json"))
    assert environ == {"ANALYTICS_API_PORT": "8081", "ANALYTICS_BUDGETS_FILE": "/b.json"}
    settings = load_settings(environ)
    assert (settings.api_port, settings.budgets_file) == (8081, "/b.json")
    assert is_set("api_port", environ) and not is_set("api_port", {"ANALYTICS_API_PORT": " "})


def test_every_setting_is_described_and_every_variable_is_named_once():
    variables = list(setting_variables().values())
    assert len(variables) == len(set(variables))
    for name in setting_variables():
        assert declared(name).description.endswith((".", ")")), name
        assert "|" not in declared(name).description, f"{name}: breaks the README's table"


def test_the_readme_table_is_the_declarations():
    """`python -m analytics_pipeline.settings` prints the table; the README holds exactly that."""
    readme = README.read_text()
    assert TABLE_START in readme and TABLE_END in readme
    shown = readme.split(TABLE_START, 1)[1].split(TABLE_END, 1)[0]
    printed = subprocess.run([sys.executable, "-m", "analytics_pipeline.settings"], capture_output=True, text=True,
                             check=True).stdout
    assert printed == configuration_table()
    assert shown == printed, "README's configuration table differs: paste `python -m analytics_pipeline.settings`"
    assert all(f"| `{variable}` |" in shown for variable in setting_variables().values())
    assert "| `ANALYTICS_BUDGETS_FILE` | unset: budget check skipped |" in shown
    assert "| `ANALYTICS_LOGS_URL` | `$ANALYTICS_HOME/logs` |" in shown
    assert "| `ANALYTICS_QUARANTINE_WARN_RATE` | `0.005` |" in shown


def _package_texts():
    for path in sorted(PACKAGE.rglob("*")):
        if path.is_file() and path.suffix in {".py", ".sql", ".md", ".html", ".toml", ".json", ".yaml", ".txt"}:
            yield path, path.read_text()
    yield README, README.read_text()


def test_every_variable_named_in_the_package_and_the_readme_is_declared():
    """Prose may name a variable; a name that is no setting (misspelt, renamed, removed) fails here."""
    variables = set(setting_variables().values())
    undeclared = set()
    for path, text in _package_texts():
        for name in VARIABLE.findall(text):
            known = fnmatch.filter(variables, name) if "*" in name else name in variables
            if not known and name not in NOT_SETTINGS:
                undeclared.add(f"{path.relative_to(REPO)}: {name}")
    assert not undeclared, sorted(undeclared)


def test_code_reads_the_environment_only_through_the_declarations():
    """No code outside settings.py spells a setting's variable as a value (``os.environ["ANALYTICS_X"]``):
    it reads ``Settings`` or, for a child process, writes ``environment_for(...)``."""
    variables = set(setting_variables().values())
    spelt = []
    for path in sorted(PACKAGE.rglob("*.py")):
        if path == PACKAGE / "settings.py":
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                if node.value in variables or re.fullmatch(r"ANALYTICS_[A-Z0-9_]+", node.value):
                    spelt.append(f"{path.relative_to(REPO)}:{node.lineno}: {node.value}")
    assert not spelt, spelt


def test_no_docstring_or_description_repeats_a_default():
    """'`ANALYTICS_X` (25 %)' goes stale when the default moves; name the setting, or derive the text."""
    repeated = re.compile(r"(?:ANALYTICS_[A-Z0-9_]+|`_[A-Z0-9_]+)`*\s*\((?:default\b|\d)")
    found = [f"{path.relative_to(REPO)}: {match.group(0)}" for path, text in _package_texts()
             if path != README for match in repeated.finditer(text)]
    assert not found, found
