"""``analytics-pipeline ui`` behaves as a service: started by any parent (a shell's background
job ignores SIGINT), it stops on SIGINT or SIGTERM with every process it started, and it does
not warn that the repository's dagster.yaml "will not be used"."""

import os
import signal
import subprocess
import sys
import textwrap
import time
import urllib.request
from pathlib import Path

import pytest

from analytics_pipeline_tests.deployment.test_topology import free_port

REPO = Path(__file__).resolve().parents[2]
STARTUP_TIMEOUT = 240
STOP_TIMEOUT = 90


def _descendants(pid: int) -> set[int]:
    """Every process below ``pid`` (from /proc: each process's parent)."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            parents[int(entry.name)] = int(stat.rsplit(")", 1)[1].split()[1])
    found, frontier = set(), {pid}
    while frontier:
        frontier = {child for child, parent in parents.items() if parent in frontier} - found
        found |= frontier
    return found


def _alive(pids: set[int]) -> set[int]:
    alive = set()
    for pid in pids:
        try:
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if state != "Z":
            alive.add(pid)
    return alive


def _ignore_sigint() -> None:
    """What a non-interactive shell does to a job it starts in the background (`cmd &`)."""
    os.setsid()
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def _stop(process: subprocess.Popen, signum: int) -> int:
    process.send_signal(signum)  # to the command only, as a parent would: never to its group
    try:
        return process.wait(timeout=STOP_TIMEOUT)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def test_ui_started_in_the_background_stops_on_sigint_with_everything_it_started(tmp_path, warehouse_url):
    port = free_port()
    env = {**os.environ, "ANALYTICS_HOME": str(tmp_path / "home"), "ANALYTICS_DATABASE_URL": warehouse_url,
           "DAGSTER_PG_URL": "", "ANALYTICS_PARTITIONS_START": "2026-10-01"}
    log = tmp_path / "ui.log"
    with open(log, "wb") as out:
        ui = subprocess.Popen([sys.executable, "-m", "analytics_pipeline.cli", "ui", "--port", str(port)], env=env,
                              cwd=REPO, stdout=out, stderr=subprocess.STDOUT, preexec_fn=_ignore_sigint)
    try:
        deadline = time.monotonic() + STARTUP_TIMEOUT
        while True:
            assert ui.poll() is None, log.read_text()
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/server_info", timeout=5) as response:
                    if response.status == 200:
                        break
            except OSError:
                pass
            assert time.monotonic() < deadline, "the UI never answered:\n" + log.read_text()
            time.sleep(1)
        started = _descendants(ui.pid)
        assert len(started) >= 3  # dagster dev, its webserver and its daemon (and code servers)
    finally:
        code = _stop(ui, signal.SIGINT)
    output = log.read_text()
    assert code == 0, output
    assert not _alive(started), f"left running: {_alive(started)}\n{output}"
    assert "will not be used" not in output
    assert "partitions from 2026-10-01" in output


CHILD = textwrap.dedent("""
    import signal, subprocess, sys, time
    grandchild = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"])
    print(grandchild.pid, flush=True)
    try:
        time.sleep(600)
    except KeyboardInterrupt:  # the clean stop: what dagster dev does on SIGINT
        sys.exit(0)
""")


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_a_signal_to_the_service_stops_its_child_and_the_child_s_group(tmp_path, signum):
    """The same supervisor around a stand-in child (fast): either signal reaches the whole group."""
    pid_file = tmp_path / "grandchild"
    service = textwrap.dedent(f"""
        import sys
        from pathlib import Path
        from analytics_pipeline.cli.services import run_until_signalled
        sys.exit(run_until_signalled([sys.executable, "-c", {CHILD!r}], cwd=Path({str(tmp_path)!r})))
    """)
    with open(pid_file, "wb") as out:
        process = subprocess.Popen([sys.executable, "-c", service], stdout=out, preexec_fn=_ignore_sigint)
    try:
        deadline = time.monotonic() + 60
        while not pid_file.read_text().strip():
            assert process.poll() is None and time.monotonic() < deadline
            time.sleep(0.2)
        grandchild = int(pid_file.read_text().split()[0])
        below = _descendants(process.pid)
        assert grandchild in below
    finally:
        code = _stop(process, signum)
    assert code == 0
    deadline = time.monotonic() + 10
    while _alive(below) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not _alive(below)
