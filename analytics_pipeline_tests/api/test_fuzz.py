"""Schema-driven fuzz: every operation of the served OpenAPI document, hostile inputs, five callers.

Schemathesis builds a strategy for each operation of ``/openapi.json`` (positive and negative
data), so a route added later is fuzzed as soon as it is in the document. On top of what the
schema allows, hypothesis mixes in what an attacker tries: times at the edges of the calendar
in any string, a malformed JSON body, a foreign ``Host`` header, a trailing slash, a method the
path does not have, and the path's ``orgId``/``jobId`` swapped for two real organizations' own.
Each request is sent by one of five callers: organization A's key, organization B's key, a
finance-wide key, an ingest key (which sends events and reads nothing), or none. Whatever is
asked, the API never answers 5xx, never shows a byte of an organization to a caller that may not
read it, authenticates before it looks at a body, never redirects to the ``Host`` header's site,
and lists every method of a path on a 405. Errors have the one shape (Firehose's documented
fields beside it on the Firehose route).
"""

from __future__ import annotations

import json
import urllib.parse

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode

from analytics_pipeline.api.routes.firehose import FIREHOSE_PATH
from analytics_pipeline_tests.api.data import ORG, OTHER_ORG, load_january
from analytics_pipeline_tests.api.helpers import add_job

ORG_A, ORG_B = ORG, OTHER_ORG
CALLERS = ("A", "B", "finance", "ingest", "none")
#: Firehose's documented error answer: its own fields beside the one error shape.
FIREHOSE_ERROR_FIELDS = {"requestId", "timestamp", "errorMessage"}
EVIL_HOST = "evil.example"
#: The calendar's edges, which an attacker types into the strings of a request: year 1
#: and year 9999 (with offsets that push them past either end in UTC), and one ordinary time, so
#: that the other field of a range is valid.
EDGE_TIMES = ("0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59Z", "9999-12-31T23:59:59-14:00", "0001-01-01",
              "9999-12-31", "2024-01-01T00:00:00Z")
#: And, one string at a time, what breaks parsers.
HOSTILE_STRINGS = ("2024-02-30T00:00:00Z", "2024-01-01T24:00:00Z", "-0001-01-01T00:00:00Z", "+10000-01-01T00:00:00Z",
                   "1970-01-01T00:00:00Z", "\x00", "%00", "../../etc/passwd", "'; --", "\u202e", "Z", "T", "")
MALFORMED_BODIES = (b'{"timeRange": {', b"\xff\xfe\x00", b"[", b'{"a": 1,}', b"nul")


@pytest.fixture(scope="module")
def fuzz_target(module_api):
    """Two organizations with usage and jobs of every status (succeeded ones with their CSVs), the
    keys of the four callers, and the served document's operations."""
    api = module_api
    load_january(api.database_url)
    tokens = {"A": api.key(ORG_A, name="org A finance")[0], "B": api.key(ORG_B, name="org B finance")[0],
              "finance": api.key(None, name="all of finance", finance=True)[0],
              "ingest": api.key(None, name="platform events", ingest=True)[0]}
    jobs = {org: [str(add_job(api, org, status=status, content=f"csv of {org}\n".encode()))
                  for status in ("pending", "running", "succeeded", "failed", "expired")] for org in (ORG_A, ORG_B)}
    document = api.client.get("/openapi.json").json()
    schema = schemathesis.openapi.from_dict(document)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 7
    strategies = [operation.as_strategy(generation_mode=mode) for operation in operations
                  for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE)]
    return api, tokens, jobs, document, st.one_of(strategies)


def _secrets_of(org: str, jobs: dict[str, list[str]]) -> set[str]:
    """What only a caller that may read ``org`` may see: its id, its job ids, its files' bytes."""
    return {org, f"csv of {org}", *jobs[org]}


def _hostile(data, value, edges: bool):
    """``value`` with its strings sometimes replaced by one of the calendar's edges (``edges``) or
    else by a hostile string (recursively in bodies); the others stay valid (an enum such as a
    granularity, refused first, would hide what the times do)."""
    if isinstance(value, str):
        choices = st.just(value) | st.sampled_from(EDGE_TIMES if edges else HOSTILE_STRINGS)
        return data.draw(choices, label="string")
    if isinstance(value, dict):
        return {key: _hostile(data, item, edges) for key, item in value.items()}
    if isinstance(value, list):
        return [_hostile(data, item, edges) for item in value]
    return value


def _header_safe(value) -> str | None:
    text = value if isinstance(value, str) else json.dumps(value)
    return text if all(32 <= ord(c) < 127 for c in text) else None


# No shrinking: a failure reports the request as found (shrinking re-sends hundreds of requests).
@settings(max_examples=500, deadline=None, derandomize=True, database=None, phases=(Phase.explicit, Phase.generate),
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                 HealthCheck.filter_too_much, HealthCheck.data_too_large])
@given(data=st.data())
def test_no_request_reaches_a_5xx_or_another_organizations_data(fuzz_target, data):
    api, tokens, jobs, document, cases = fuzz_target
    case = data.draw(cases, label="case")
    caller = data.draw(st.sampled_from(CALLERS), label="caller")
    operation = document["paths"][case.path][case.method.lower()]
    path_parameters = dict(case.path_parameters or {})
    # Mostly the two real organizations (a generated id is refused before anything else happens).
    if "orgId" in path_parameters:
        path_parameters["orgId"] = data.draw(st.sampled_from((ORG_A, ORG_B, ORG_A, ORG_B, path_parameters["orgId"])),
                                             label="orgId")
    if "jobId" in path_parameters:
        path_parameters["jobId"] = data.draw(st.sampled_from(jobs[ORG_A] + jobs[ORG_B])
                                             | st.just(path_parameters["jobId"]), label="jobId")
    path = case.path
    for name, value in path_parameters.items():
        path = path.replace("{" + name + "}", urllib.parse.quote(str(value), safe=""))
    if data.draw(st.booleans(), label="trailing slash"):
        path += "/"
    edges = data.draw(st.booleans(), label="edge times")
    query = {name: str(value) if not isinstance(value, list) else [str(v) for v in value]
             for name, value in _hostile(data, dict(case.query or {}), edges).items()}
    headers = {name: text for name, value in (case.headers or {}).items()
               if name.lower() not in ("authorization", "host", "content-length")
               and (text := _header_safe(value)) is not None}
    if caller != "none":
        headers["Authorization"] = f"Bearer {tokens[caller]}"
        if case.path == FIREHOSE_PATH:  # Firehose sends its access key in a header of its own
            headers["X-Amz-Firehose-Access-Key"] = tokens[caller]
    if data.draw(st.booleans(), label="foreign Host"):
        headers["Host"] = EVIL_HOST
    method = case.method.upper()
    if data.draw(st.integers(0, 9), label="method swap") == 0:
        method = data.draw(st.sampled_from(("GET", "POST", "PUT", "PATCH", "DELETE")), label="method")
    content = None
    if "requestBody" in operation:
        if data.draw(st.integers(0, 2), label="malformed body") == 0:
            content = data.draw(st.sampled_from(MALFORMED_BODIES), label="body bytes")
        elif isinstance(case.body, bytes):
            content = case.body
        elif case.body is not None and not isinstance(case.body, schemathesis.core.NotSet):
            content = json.dumps(_hostile(data, case.body, edges)).encode()
        if content is not None:
            headers.setdefault("Content-Type", case.media_type or "application/json")
    response = api.client.request(method, path, params=query, headers=headers, content=content)
    request_text = urllib.parse.unquote(f"{path}?{urllib.parse.urlencode(query, doseq=True)}") + \
        (content or b"").decode("utf-8", "replace")
    described = f"{caller} {method} {path} query={query} body={content!r} host={headers.get('Host')}"

    assert response.status_code < 500, f"{described} -> {response.status_code} {response.text[:300]}"
    if response.status_code >= 400 and response.headers.get("content-type", "").startswith("application/json"):
        body = response.json()
        # The Firehose route's own answers add Firehose's fields (refusals before it runs do not).
        extra = set(body) - {"error"}
        assert extra in (set(), FIREHOSE_ERROR_FIELDS if path == FIREHOSE_PATH else set()), described
        assert set(body["error"]) == {"code", "message"}, described
    # Redirects never name the Host header's site.
    location = response.headers.get("location", "")
    assert EVIL_HOST not in location, f"{described} -> Location {location}"
    # A 405 lists every method the path has.
    if response.status_code == 405 and not path.endswith("/"):
        documented = {m.upper() for m in document["paths"][case.path]}
        allowed = {m.strip() for m in response.headers.get("allow", "").split(",")}
        assert documented <= allowed, f"{described} -> Allow {allowed}, the document has {documented}"
    # Authentication comes first: whatever the body, a caller without a key is refused 401, a key of
    # one organization on the other's path 403.
    secured = bool(operation.get("security")) and method == case.method.upper() and not path.endswith("/")
    if secured and caller == "none":
        assert response.status_code == 401, f"{described} -> {response.status_code} {response.text[:200]}"
    if secured and caller in ("A", "B") and path_parameters.get("orgId") in (ORG_A, ORG_B) \
            and path_parameters["orgId"] != {"A": ORG_A, "B": ORG_B}[caller]:
        assert response.status_code == 403, f"{described} -> {response.status_code} {response.text[:200]}"
    # No byte of an organization reaches a caller that may not read it (beyond what the request itself said).
    foreign = {"A": (ORG_B,), "B": (ORG_A,), "finance": (), "ingest": (ORG_A, ORG_B), "none": (ORG_A, ORG_B)}[caller]
    answer = response.text + location
    for org in foreign:
        leaked = {secret for secret in _secrets_of(org, jobs) if secret in answer and secret not in request_text}
        assert not leaked, f"{described} -> {response.status_code} shows {leaked}: {answer[:300]}"
    # Nor the server's file paths.
    assert api.settings.exports_url not in answer and str(api.settings.home) not in answer, described

