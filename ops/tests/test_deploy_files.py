"""The files shipped for a deployment (deploy/) say only what the code
does: every command a unit runs is in the repository, every variable of the
example environment is read by the settings or the cluster script."""

import re
import subprocess
import sys
from pathlib import Path

import pytest

BASE_DIR = Path(__file__).resolve().parents[2]
UNITS = sorted((BASE_DIR / "deploy" / "systemd").glob("*.service"))
# The HTTPS switch comes with issue 21's settings.
READ_ELSEWHERE = {"HTTPS"}


def unit_lines(path: Path, key: str) -> list[str]:
    return [line.split("=", 1)[1] for line in path.read_text().splitlines() if line.startswith(key + "=")]


@pytest.mark.parametrize("unit", UNITS, ids=[unit.name for unit in UNITS])
def test_each_unit_runs_a_program_of_the_repository_from_its_working_directory(unit):
    (workdir,) = unit_lines(unit, "WorkingDirectory")
    (command,) = unit_lines(unit, "ExecStart")
    python, script, *args = command.split()
    assert python == f"{workdir}/.venv/bin/python"
    assert (BASE_DIR / script).is_file(), script
    if script == "manage.py":
        result = subprocess.run(
            [sys.executable, script, args[0], "--help"], cwd=BASE_DIR, capture_output=True, text=True
        )
    else:
        result = subprocess.run([sys.executable, script, *args, "--help"], cwd=BASE_DIR, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


def test_every_variable_of_the_example_environment_is_read():
    names = re.findall(r"^([A-Z_]+)=", (BASE_DIR / "deploy" / "ordering.env.example").read_text(), re.M)
    code = (BASE_DIR / "config" / "settings.py").read_text() + (BASE_DIR / "scripts" / "cluster.py").read_text()
    unread = [name for name in names if f'"{name}"' not in code and name not in READ_ELSEWHERE]
    assert unread == []
