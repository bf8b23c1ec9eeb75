"""The committed OpenAPI document is the one the API serves (regenerate it with
``python -m analytics_pipeline.api.openapi``)."""

import yaml

from analytics_pipeline.api.openapi import DOCUMENT, main


def test_the_served_openapi_document_equals_the_committed_one(module_api):
    served = module_api.client.get("/openapi.json")
    assert served.status_code == 200
    assert served.json() == yaml.safe_load(DOCUMENT.read_text()), \
        "docs/analytics-exports-openapi.yaml is out of date: run python -m analytics_pipeline.api.openapi"


def test_the_document_has_every_route_with_examples_and_the_error_shape():
    document = yaml.safe_load(DOCUMENT.read_text())
    paths = document["paths"]
    assert set(paths) == {"/healthz", "/readyz", "/analytics/v1/orgs/{orgId}/exports",
                          "/analytics/v1/orgs/{orgId}/exports/{jobId}",
                          "/analytics/v1/orgs/{orgId}/exports/{jobId}/download",
                          "/analytics/v1/orgs/{orgId}/usage", "/analytics/v1/files/{jobId}/{filename}",
                          "/analytics/v1/events", "/analytics/v1/firehose"}
    ingest = paths["/analytics/v1/events"]["post"]
    assert {"401", "403", "409", "413", "415"} <= set(ingest["responses"])
    assert ingest["requestBody"]["content"]["application/json"]["schema"]["maxItems"] == 10_000
    create = paths["/analytics/v1/orgs/{orgId}/exports"]["post"]
    assert create["responses"]["202"]["content"]["application/json"]["example"]["status"] == "pending"
    assert {"401", "403", "413", "422", "429", "503"} <= set(create["responses"])
    schemas = document["components"]["schemas"]
    assert schemas["CreateExport"]["examples"][0]["timeRange"]["end"] == "2024-01-31T23:59:59Z"
    assert schemas["ExportJobOut"]["examples"][0]["checksum"].startswith("sha256:")
    assert set(schemas["ErrorBody"]["properties"]) == {"error"}
    assert "302" in paths["/analytics/v1/orgs/{orgId}/exports/{jobId}/download"]["get"]["responses"]


def test_the_regeneration_script_reports_a_current_document(capsys):
    assert main(["--check"]) == 0
    assert "current" in capsys.readouterr().out


def test_job_bodies_are_what_the_documented_model_describes():
    import uuid
    from datetime import UTC, datetime

    import orjson

    from analytics_pipeline.api.errors import JsonResponse
    from analytics_pipeline.api.models import ExportJobOut, job_body
    from analytics_pipeline.exports.export_jobs import JOB_COLUMNS, ExportJob

    at = datetime(2024, 1, 15, 10, 0, 0, 654321, tzinfo=UTC)
    for status in ("pending", "running", "succeeded", "failed", "expired"):
        values = dict.fromkeys(JOB_COLUMNS)
        values.update(job_id=uuid.uuid4(), organization_id="org-a", range_start=at, range_end=at, granularity="daily",
                      by_model=True, status=status, created_at=at, completed_at=at, output_uri="s3://b/k",
                      checksum="sha256:00", row_count=3, initiated_by="someone", error="it broke")
        body = orjson.loads(JsonResponse(job_body(ExportJob(**values))).body)
        assert body["createdAt"] == "2024-01-15T10:00:00Z"
        model = ExportJobOut.model_validate(body)
        assert model.model_dump(by_alias=True, exclude_none=True) == body
        assert ("checksum" in body) == (status in ("succeeded", "expired"))
        assert ("error" in body) == (status == "failed") and ("completedAt" in body) == (status != "running")
