"""docker/Dockerfile and .dockerignore, proved without a Docker engine: a pinned base, a non-root
user, no secret, and a build stage that makes the wheel from exactly the files it is given."""

import re
import shutil
import subprocess
import sys
import zipfile

import pytest

from analytics_pipeline_tests.deployment.files import (
    DOCKERFILE,
    DOCKERIGNORE,
    REPO,
    dockerignore_excludes,
    dockerignore_patterns,
)

SECRET_NAME = re.compile(r"PASSWORD|SECRET|TOKEN|ACCESS_KEY|_URL$")


def instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) of the Dockerfile, continuation lines joined."""
    text = re.sub(r"\\\n\s*", " ", DOCKERFILE.read_text())
    lines = [line.strip() for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")]
    return [(line.split(None, 1)[0].upper(), line.split(None, 1)[1]) for line in lines]


def stages() -> list[list[tuple[str, str]]]:
    found: list[list[tuple[str, str]]] = []
    for instruction in instructions():
        if instruction[0] == "FROM":
            found.append([])
        found[-1].append(instruction)
    return found


def test_every_base_image_is_pinned_to_a_version():
    names = set()
    for stage in stages():
        image, *alias = stage[0][1].split()
        if image in names:
            continue  # a previous stage
        repository, _, tag = image.partition(":")
        assert tag and tag != "latest" and re.search(r"\d", tag) or "@sha256:" in image, f"FROM {image} is not pinned"
        names.update(alias[1:] if alias and alias[0].upper() == "AS" else [])


def test_the_image_runs_as_a_non_root_user_it_creates():
    final = stages()[-1]
    users = [arguments for instruction, arguments in final if instruction == "USER"]
    assert users, "the image runs as root"
    user = users[-1].split(":")[0]
    assert user not in ("root", "0")
    assert any(instruction == "RUN" and f"--uid {user}" in arguments for instruction, arguments in final)
    after_user = final[[i for i, (instruction, _) in enumerate(final) if instruction == "USER"][-1]:]
    assert not any(instruction == "RUN" for instruction, _ in after_user)  # nothing runs as root after it


def test_no_secret_is_built_into_the_image():
    for instruction, arguments in instructions():
        if instruction in ("ENV", "ARG"):
            for name in re.findall(r"([A-Z_][A-Z0-9_]*)=", arguments) or [arguments.split("=")[0]]:
                assert not SECRET_NAME.search(name), f"{instruction} {name}: configuration belongs to the environment"


def test_the_context_lets_in_what_the_dockerfile_copies_and_nothing_private():
    patterns = dockerignore_patterns(DOCKERIGNORE)
    copied = [arguments.split()[:-1] for instruction, arguments in instructions()
              if instruction == "COPY" and not arguments.startswith("--from")]
    for sources in copied:
        for source in sources:
            assert not dockerignore_excludes(patterns, source), f"COPY {source}: left out by .dockerignore"
    for private in ("docker/.env", ".env", ".venv/bin/python", ".analytics/postgres/PG_VERSION", ".git/config",
                    "analytics_pipeline/__pycache__/cli.cpython-311.pyc", "analytics_pipeline_tests/conftest.py"):
        assert dockerignore_excludes(patterns, private), f"{private} would reach the build context"


def test_the_image_carries_the_deployment_instance_and_workspace():
    copies = {arguments.split()[-1]: arguments.split()[0] for instruction, arguments in instructions()
              if instruction == "COPY" and not arguments.startswith("--from")}
    home = next(re.search(r"DAGSTER_HOME=(\S+)", arguments).group(1) for instruction, arguments in instructions()
                if instruction == "ENV" and "DAGSTER_HOME=" in arguments)
    assert copies[f"{home}/dagster.yaml"] == "docker/dagster.yaml"
    assert copies["/opt/dagster/ecs/dagster.yaml"] == "deploy/ecs/dagster.yaml"
    assert copies["/opt/dagster/app/workspace.yaml"] == "docker/workspace.yaml"
    assert any(instruction == "RUN" and '"${wheel}[deploy]"' in arguments for instruction, arguments in instructions())


@pytest.mark.slow
def test_the_build_stage_makes_the_wheel_from_its_context_sql_and_launchers_included(tmp_path):
    """Replays the first stage: the context .dockerignore lets through, its COPY lines, its pip wheel."""
    patterns = dockerignore_patterns(DOCKERIGNORE)
    tracked = subprocess.run(["git", "ls-files"], cwd=REPO, capture_output=True, text=True, check=True).stdout.split()
    context = tmp_path / "context"
    for path in tracked:
        if not dockerignore_excludes(patterns, path):
            target = context / path
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(REPO / path, target, follow_symlinks=False)  # analytics_pipeline/sql stays a link
    build = stages()[0]
    workdir = tmp_path / "src"
    for instruction, arguments in build:
        if instruction == "COPY":
            *sources, destination = arguments.split()
            for source in sources:  # Docker's rules: a directory's contents go to the destination
                if (context / source).is_dir():
                    shutil.copytree(context / source, workdir / destination, symlinks=True)
                elif destination.endswith("/") or len(sources) > 1:
                    shutil.copy2(context / source, workdir / destination / source)
                else:
                    shutil.copy2(context / source, workdir / destination)
        elif instruction == "WORKDIR":
            workdir.mkdir(parents=True, exist_ok=True)
    [command] = [arguments for instruction, arguments in build if instruction == "RUN"]
    assert command == "pip wheel --no-cache-dir --no-deps --wheel-dir /wheels ."
    built = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "--wheel-dir",
                            str(tmp_path / "wheels"), str(workdir)], capture_output=True, text=True, timeout=600)
    assert built.returncode == 0, built.stdout + built.stderr
    [wheel] = (tmp_path / "wheels").glob("analytics_pipeline-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
        metadata = archive.read(next(n for n in names if n.endswith(".dist-info/METADATA"))).decode()
    assert sorted(n.removeprefix("analytics_pipeline/sql/") for n in names if n.endswith(".sql")) == sorted(
        str(p.relative_to(REPO / "sql")) for p in (REPO / "sql").rglob("*.sql"))
    assert "Provides-Extra: deploy" in metadata
    assert "Requires-Dist: dagster-docker==0.29.27; extra == 'deploy'" in metadata
    assert "Requires-Dist: dagster-k8s==0.29.27; extra == 'deploy'" in metadata
