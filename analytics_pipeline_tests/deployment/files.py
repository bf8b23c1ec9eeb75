"""The deployment files of the repository, read the way the tests compare them."""

import re
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[2]
LOCAL_INSTANCE = REPO / "dagster.yaml"
DEPLOYMENT_INSTANCE = REPO / "docker" / "dagster.yaml"
ECS_INSTANCE = REPO / "deploy" / "ecs" / "dagster.yaml"
DEPLOYMENT_WORKSPACE = REPO / "docker" / "workspace.yaml"
COMPOSE = REPO / "docker" / "docker-compose.yml"
DOCKERFILE = REPO / "docker" / "Dockerfile"
ENV_EXAMPLE = REPO / "docker" / ".env.example"
HELM_VALUES = REPO / "deploy" / "helm" / "values.yaml"
HELM_CHART_KEYS = REPO / "deploy" / "helm" / "chart-keys.txt"
DOCKERIGNORE = REPO / ".dockerignore"
POSTGRES_INIT = REPO / "docker" / "postgres" / "init-databases.sh"

#: The instance settings every Dagster of the project shares, locally and deployed.
SHARED_INSTANCE_BLOCKS = ("run_coordinator", "run_retries", "retention", "telemetry")


def load_yaml(path: Path):
    return yaml.safe_load(path.read_text())


def with_run_launcher(instance_config: dict, run_launcher: dict | None) -> dict:
    """``instance_config`` with another run launcher (None: Dagster's default, in-process launches)."""
    config = {key: value for key, value in instance_config.items() if key != "run_launcher"}
    if run_launcher is not None:
        config["run_launcher"] = run_launcher
    return config


_REFERENCE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?])([^}]*))?\}")


def interpolate(text: str, variables: dict[str, str]) -> str:
    """``text`` with compose's ``${NAME}``, ``${NAME:-default}`` and ``${NAME:?error}`` filled in."""
    def value(match: re.Match) -> str:
        name, operator, argument = match.groups()
        found = variables.get(name)
        if operator in (":-", "-"):
            return found if found or (operator == "-" and found is not None) else argument
        if operator in (":?", "?") and not (found if operator == ":?" else found is not None):
            raise KeyError(f"{name}: {argument}")
        return found or ""
    return _REFERENCE.sub(value, text.replace("$$", "\0")).replace("\0", "$")


def references(text: str) -> set[str]:
    """The variables ``text`` interpolates."""
    return {match.group(1) for match in _REFERENCE.finditer(text)}


def env_file(path: Path) -> dict[str, str]:
    """``NAME=value`` lines of an env file (comments and blank lines skipped)."""
    pairs = (line.split("=", 1) for line in path.read_text().splitlines()
             if line.strip() and not line.lstrip().startswith("#"))
    return {name.strip(): value.strip() for name, value in pairs}


def dockerignore_excludes(patterns: list[str], path: str) -> bool:
    """Whether the build context leaves ``path`` out (Docker's rules: the last matching pattern
    decides, ``!`` lets back in, a pattern matching a directory covers what is inside it)."""
    excluded = False
    parts = path.split("/")
    candidates = ["/".join(parts[:i]) for i in range(1, len(parts) + 1)]
    for pattern in patterns:
        negated = pattern.startswith("!")
        regex = _glob(pattern.lstrip("!").strip("/"))
        if any(regex.fullmatch(candidate) for candidate in candidates):
            excluded = not negated
    return excluded


def _glob(pattern: str) -> re.Pattern:
    out = ""
    for token in re.split(r"(\*\*/|\*\*|\*|\?)", pattern):
        out += {"**/": "(?:.*/)?", "**": ".*", "*": "[^/]*", "?": "[^/]"}.get(token, re.escape(token))
    return re.compile(out)


def dockerignore_patterns(path: Path) -> list[str]:
    return [line.strip() for line in path.read_text().splitlines() if line.strip() and not line.startswith("#")]
