"""Names beside ids: the directory file (parsed, loaded, refused with its reason), the portal's pages,
the API's ``/usage`` (additive ``organizationName``/``modelName``), ``analytics-pipeline orgs list``,
and the CSV exports, which keep the seed's schema (ids only)."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from analytics_pipeline import cli
from analytics_pipeline.directory.names import (
    DirectoryFileError,
    list_organizations,
    load_directory,
    parse_directory,
    read_directory_file,
)
from analytics_pipeline.exports.usage_csv import ExportGranularity, query_export_rows, render_csv
from analytics_pipeline.generator.catalog import MODELS, organization_ids
from analytics_pipeline.generator.directory import demo_directory
from analytics_pipeline.settings import current_settings
from analytics_pipeline.warehouse.database import connect
from analytics_pipeline_tests.api.conftest import ApiServers, FrozenClock
from analytics_pipeline_tests.api.data import MODEL, ORG, OTHER_ORG
from analytics_pipeline_tests.api.portal.data import THIRD_ORG, load_month
from analytics_pipeline_tests.api.portal.helpers import sign_in, table_rows

DIRECTORY = {
    "organizations": {ORG: {"name": "Acme Analytics", "plan": "enterprise", "created": "2023-06-01"},
                      OTHER_ORG: {"name": "Globex Labs"}},
    "models": {MODEL: {"name": "atlas-large", "provider": "Atlas", "created": "2023-01-01T00:00:00Z"}},
}


@pytest.fixture(scope="module")
def named(tmp_path_factory, module_warehouse_url):
    load_month(module_warehouse_url)
    path = tmp_path_factory.mktemp("directory") / "directory.json"
    path.write_text(json.dumps(DIRECTORY))
    with connect(module_warehouse_url) as conn:
        assert load_directory(conn, read_directory_file(path), source=str(path)) == (2, 1)
    servers = ApiServers(tmp_path_factory.mktemp("names-api"))
    api = servers.start(module_warehouse_url, clock=FrozenClock(datetime(2024, 1, 31, 20, 30, tzinfo=UTC)))
    yield api
    servers.stop()


def test_pages_show_names_with_their_ids(named):
    api = named
    customer = sign_in(api, api.key(ORG)[0])
    costs = customer.get(f"/portal/orgs/{ORG}/costs?month=2024-01").text
    assert f'Acme Analytics <code class="id">{ORG}</code>' in costs
    models = {row[0] for row in table_rows(costs, "cost-by-model")}
    assert f"atlas-large {MODEL}" in models and "m2" in models  # a model without an entry: its id
    for page in ("usage", "performance", "exports"):
        assert f'Acme Analytics <code class="id">{ORG}</code>' in customer.get(f"/portal/orgs/{ORG}/{page}").text
    finance = sign_in(api, api.key(None, name="finance", finance=True)[0])
    business = finance.get("/portal/internal/business?month=2024-01").text
    customers = {row[0] for row in table_rows(business, "customers")}
    assert {f"Acme Analytics {ORG}", f"Globex Labs {OTHER_ORG}", THIRD_ORG} == customers
    assert f"Acme Analytics {ORG}" in {row[1] for row in table_rows(business, "top-revenue")}


def test_usage_carries_names_beside_the_ids_and_the_csv_ids_only(named):
    api = named
    token = api.key(ORG)[0]
    body = api.client.get(f"/analytics/v1/orgs/{ORG}/usage", headers=api.auth(token),
                          params={"start": "2024-01-01", "end": "2024-02-01"}).json()
    assert body["orgId"] == ORG and body["organizationName"] == "Acme Analytics"
    names = {(point["modelId"], point["modelName"]) for point in body["series"]}
    assert (MODEL, "atlas-large") in names and ("m2", None) in names and ("(none)", None) in names
    with connect(api.database_url) as conn:
        data, _ = render_csv(query_export_rows(conn, granularity=ExportGranularity.MONTHLY,
                                               range_start=datetime(2024, 1, 1, tzinfo=UTC),
                                               range_end=datetime(2024, 2, 1, tzinfo=UTC), organization_id=ORG,
                                               by_model=True))
    assert b"Acme" not in data and b"atlas-large" not in data and MODEL.encode() in data


def test_orgs_list_names_every_organization(named, monkeypatch, tmp_path, capsys):
    monkeypatch.setenv("ANALYTICS_DATABASE_URL", named.database_url)
    monkeypatch.setenv("ANALYTICS_HOME", str(tmp_path / "home"))
    current_settings.cache_clear()
    try:
        assert cli.main(["orgs", "list"]) == 0
    finally:
        current_settings.cache_clear()
    out, err = capsys.readouterr()
    lines = out.splitlines()
    assert lines[0].startswith(ORG) and "Acme Analytics" in lines[0] and "enterprise" in lines[0]
    assert "2023-06-01" in lines[0]
    assert any(line.startswith(THIRD_ORG) for line in lines)  # usage without a directory entry: listed by id
    assert "3 organization(s)" in err
    with connect(named.database_url) as conn:
        assert [o.entry_id for o in list_organizations(conn)] == [ORG, OTHER_ORG, THIRD_ORG]


@pytest.mark.parametrize("document, reason", [
    ({"organizations": {"o": {}}}, "o.name: a non-empty text"),
    ({"organizations": {"o": {"name": "A", "colour": "red"}}}, "unknown fields colour"),
    ({"orgs": {}}, "unknown sections orgs"),
    ({"models": {"m": {"name": "M", "created": "last week"}}}, "not an ISO 8601"),
    ({"models": []}, "models must be an object"),
])
def test_a_directory_file_is_refused_with_its_reason(document, reason):
    with pytest.raises(DirectoryFileError, match=reason) as refused:
        parse_directory(json.dumps(document), fmt="json", source="names.json")
    assert str(refused.value).startswith("names.json: ")


def test_the_generator_names_every_demo_organization_and_model():
    document = demo_directory(20, 7, datetime(2026, 11, 1).date())
    directory = parse_directory(json.dumps(document), fmt="json", source="demo")
    assert [o.entry_id for o in directory.organizations] == organization_ids(20, 7)
    assert len({o.display_name for o in directory.organizations}) == 20
    assert {m.display_name for m in directory.models} == {m.name for m in MODELS}
