"""The suite's own gate: CI on the production set-up must stop at once when
its Redis is not there, instead of passing on the polling fallback."""

from __future__ import annotations

import os
import subprocess
import sys

from testsupport import BASE_DIR


def run_pytest(**env: str) -> subprocess.CompletedProcess:
    environment = {**os.environ, **env}
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "users/tests/test_createuser.py"],
        cwd=BASE_DIR,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_ci_on_the_production_set_up_stops_at_once_when_redis_is_not_there(closed_port):
    result = run_pytest(REQUIRE_SERVICES="1", REDIS_URL=f"redis://127.0.0.1:{closed_port}/0")
    assert result.returncode == 3, result.stdout + result.stderr
    assert "Redis required" in result.stdout + result.stderr
    assert " passed" not in result.stdout


def test_a_developer_without_redis_is_warned_and_the_tests_still_run(closed_port):
    env = {"REDIS_URL": f"redis://127.0.0.1:{closed_port}/0"}
    result = run_pytest(REQUIRE_SERVICES="0", **env)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "events fall back to polling the log" in result.stdout + result.stderr
    assert " passed" in result.stdout
