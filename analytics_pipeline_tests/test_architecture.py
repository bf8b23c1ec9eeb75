"""The shape of the code: what may import what, where configuration and the clock come from.

Floors, lowest first: ``settings``; ``storage``, ``warehouse``, ``delivery``, ``monitoring``,
``configuration``, ``identity``, ``money`` (domain-neutral); the pure domains (``api``, the export API,
among them: it serves the exports, rollups and metrics domains and imports nothing from Dagster); ``defs`` (Dagster
wiring; its domains import pure packages and the shared wiring, never each other); ``definitions``
and ``cli`` on top.
"""

import ast
import re
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "analytics_pipeline"
NEUTRAL = {"settings", "storage", "warehouse", "delivery", "monitoring", "configuration", "identity", "money"}
PURE_DOMAINS = {"ingestion", "rollups", "exports", "costs", "build_metrics", "alerts", "generator", "retention",
                "metrics", "api", "tracing", "system_health", "directory"}
# The generator writes synthetic data in the shape the domains read: it may use their contracts.
# The export API serves the exports and the rollups, through their own functions and SQL; the portal
# states a margin as the costs domain defines it (costs.profitability.margin_percent), shows the
# directory's names beside ids and reads health scores in the metrics domain's row type
# (metrics.health.HealthScore); its ingestion routes (events, Firehose) load through the one ingest
# core (ingestion.live).
# Platform alerts judge endpoints by the status page's own rule (api.portal.status) and stuck exports by the
# exports domain's own query; the API and portal trace requests through the tracing domain,
# which names requests' sources as the ingestion does (its prices are stated by the shared money
# formatter: tracing no longer reaches into the exports). The budget check forecasts month-end
# cost with the metrics' forecasting method (metrics.forecasting).
ALLOWED_SIBLINGS = {"generator": PURE_DOMAINS,
                    "api": {"exports", "rollups", "metrics", "costs", "tracing", "directory", "ingestion"},
                    "alerts": {"api", "exports"}, "tracing": {"ingestion"}, "costs": {"metrics"}}
#: The only modules at the package's top: the rules every floor shares, the settings, and the two tops.
TOP_LEVEL_MODULES = {"__init__", "settings", "money", "identity", "definitions"}


def imports_of(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    return found


def modules_under(folder: str) -> list[Path]:
    return sorted((PACKAGE / folder).rglob("*.py")) if (PACKAGE / folder).is_dir() else [PACKAGE / f"{folder}.py"]


@pytest.mark.parametrize("floor", sorted(NEUTRAL | PURE_DOMAINS))
def test_pure_code_imports_no_dagster_and_only_lower_floors(floor):
    for path in modules_under(floor):
        for module in imports_of(path):
            assert not module.startswith("dagster"), f"{path.relative_to(PACKAGE)} imports {module}"
            if not module.startswith("analytics_pipeline."):
                continue
            target = module.split(".")[1]
            allowed = {floor} | (NEUTRAL if floor in PURE_DOMAINS else {"settings", "storage", "warehouse"})
            allowed |= ALLOWED_SIBLINGS.get(floor, set())
            assert target in allowed, f"{path.relative_to(PACKAGE)} imports {module} (a sibling or a higher floor)"


def test_sibling_arrows_never_make_a_circle():
    def reaches(start: str, goal: str, seen: frozenset = frozenset()) -> bool:
        return any(step == goal or (step not in seen and reaches(step, goal, seen | {step}))
                   for step in ALLOWED_SIBLINGS.get(start, set()) - {start})

    for domain in ALLOWED_SIBLINGS:
        if domain != "generator":  # it may read every domain's contracts, and none imports it
            assert not reaches(domain, domain), f"{domain} may reach itself through its sibling imports"


def test_no_loose_modules_at_the_top():
    """Code lives in rooms named for what they hold; the top keeps only the shared rules and the entry points."""
    loose = {path.stem for path in PACKAGE.glob("*.py")} - TOP_LEVEL_MODULES
    assert not loose, f"modules loose at the top of the package: {sorted(loose)}"
    rooms = {path.name for path in PACKAGE.iterdir() if (path / "__init__.py").is_file()}
    assert rooms <= NEUTRAL | PURE_DOMAINS | {"defs", "cli", "sql"}, sorted(rooms - NEUTRAL - PURE_DOMAINS)


def test_every_router_is_under_api_routes():
    for path in modules_under("api"):
        if "APIRouter(" in path.read_text():
            assert path.is_relative_to(PACKAGE / "api" / "routes"), f"{path.relative_to(PACKAGE)} defines a router"


def _state_reads(path: Path) -> tuple[int, int]:
    """How often ``path`` touches ``<x>.app.state``/``app.state`` and a request's own ``<x>.state``."""
    app_state = request_state = 0
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Attribute) and node.attr == "state":
            owner = node.value
            if (isinstance(owner, ast.Attribute) and owner.attr == "app") or (
                    isinstance(owner, ast.Name) and owner.id == "app"):
                app_state += 1
            elif isinstance(owner, ast.Name) and owner.id in ("request", "connection"):
                request_state += 1
    return app_state, request_state


def test_what_a_route_needs_arrives_as_a_declared_dependency():
    """The app's services are set on ``app.state`` once (app.py) and read there by deps.py only; a
    request's audit context is kept on the request by audit.request_context only."""
    for path in modules_under("api"):
        app_state, request_state = _state_reads(path)
        where = str(path.relative_to(PACKAGE / "api"))
        assert not app_state or where in ("app.py", "deps.py"), f"api/{where} reads app.state {app_state} times"
        assert not request_state or where == "audit.py", f"api/{where} uses request.state {request_state} times"


def test_defs_domains_import_no_other_defs_domain():
    shared = {"resources", "shared", "runner", "tables"}  # the wiring every domain shares
    for domain in sorted(p.name for p in (PACKAGE / "defs").iterdir() if p.is_dir() and p.name != "__pycache__"):
        for path in modules_under(f"defs/{domain}"):
            for module in imports_of(path):
                parts = module.split(".")
                if parts[:2] == ["analytics_pipeline", "defs"] and len(parts) > 2:
                    assert parts[2] in shared | {domain}, f"{path.relative_to(PACKAGE)} imports {module}"


def test_the_warehouse_modules_do_not_import_each_other_in_a_circle():
    database = imports_of(PACKAGE / "warehouse" / "database.py")
    assert "analytics_pipeline.warehouse.migrate" not in database


def test_dagster_code_reads_no_settings_and_no_wall_clock_itself():
    """Settings reach assets, checks and sensors as resources; "now" comes from the clock
    resource. Only the definitions' own policies and partitions read settings, once, when they load."""
    for path in modules_under("defs"):
        text = path.read_text()
        assert "load_settings(" not in text, path
        assert "datetime.now(" not in text or path.name == "resources.py", path
        if "current_settings()" in text:
            assert "FreshnessPolicy" in text or "PartitionsDefinition(" in text, f"{path}: settings belong in resources"


def test_sql_is_composed_with_psycopg_sql_never_str_format():
    formatted = re.compile(r"load_sql\([^)]*\)\s*\.format\(")
    for path in [*PACKAGE.rglob("*.py"), *(PACKAGE.parent / "benchmarks").glob("*.py")]:
        assert not formatted.search(path.read_text()), f"{path}: compose with warehouse.sql.compose_sql"
    for path in (PACKAGE.parent / "sql").rglob("*.sql"):
        assert "'{" not in path.read_text(), f"{path}: a quoted placeholder; pass sql.Literal instead"


def test_jobs_are_defined_in_their_domains_jobs_py():
    for path in modules_under("defs"):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            defines_job = (isinstance(node, ast.Call) and getattr(node.func, "attr", None) == "define_asset_job") or (
                isinstance(node, ast.FunctionDef)
                and any(getattr(d, "attr", None) == "job" or getattr(getattr(d, "func", None), "attr", None) == "job"
                        for d in node.decorator_list))
            if defines_job:
                assert path.name == "jobs.py", f"{path.relative_to(PACKAGE)} defines a job (line {node.lineno})"


@pytest.mark.slow
def test_the_wheel_carries_the_sql_once_and_the_package_finds_it_there(tmp_path):
    import subprocess
    import sys
    import zipfile

    repo = PACKAGE.parent
    subprocess.run([sys.executable, "-m", "pip", "wheel", str(repo), "--no-deps", "-q", "-w", str(tmp_path)],
                   check=True, capture_output=True, timeout=600)
    [wheel] = tmp_path.glob("analytics_pipeline-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    shipped = sorted(n.removeprefix("analytics_pipeline/sql/") for n in names if n.endswith(".sql"))
    expected = sorted(str(p.relative_to(repo / "sql")) for p in (repo / "sql").rglob("*.sql"))
    assert shipped == expected and all(n.startswith("analytics_pipeline/sql/") for n in names if n.endswith(".sql"))
    # The portal's templates and its vendored chart library (with its license) travel with the package.
    portal = repo / "analytics_pipeline" / "api" / "portal"
    assert {str(p.relative_to(repo)) for p in [*portal.rglob("*.html"), *(portal / "static").rglob("*")]
            if p.is_file()} <= set(names)
    target = tmp_path / "installed"
    subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps", "-q", "--target", str(target), str(wheel)],
                   check=True, capture_output=True, timeout=600)
    probe = ("import analytics_pipeline.warehouse.sql as s; "
             "print(s.SQL_DIR); print(len(s.load_sql('ingestion/insert_new_events')) > 0)")
    out = subprocess.run([sys.executable, "-c", probe], env={"PYTHONPATH": str(target), "PATH": "/usr/bin:/bin"},
                         cwd=tmp_path, capture_output=True, text=True, timeout=120, check=True).stdout.split()
    assert out == [str(target / "analytics_pipeline" / "sql"), "True"]
