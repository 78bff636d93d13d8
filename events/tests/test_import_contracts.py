"""The import contracts of pyproject.toml ([tool.importlinter]: the layers of
the events app, and what other apps may import of it) are kept, and
lint-imports does fail on an import that breaks one."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parents[2]


def lint_imports(cwd: Path, *args: str) -> subprocess.CompletedProcess:
    command = Path(sys.executable).with_name("lint-imports")
    if not command.exists():
        command = shutil.which("lint-imports")
    assert command, "lint-imports is not installed (requirements-test.txt)"
    return subprocess.run(
        [str(command), "--no-cache", "--no-logo", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "PYTHONPATH": str(cwd)},
    )


def test_every_import_contract_of_the_project_is_kept():
    result = lint_imports(BASE_DIR)
    assert "events: each package imports only the ones below it" in result.stdout  # the contracts were read
    assert result.returncode == 0, result.stdout + result.stderr
    assert " 0 broken" in result.stdout


def test_an_import_against_the_layers_breaks_the_contract(tmp_path):
    package = tmp_path / "kitchen"
    (package / "oven").mkdir(parents=True)
    (package / "timer").mkdir()
    (package / "__init__.py").write_text("")
    (package / "oven" / "__init__.py").write_text("from kitchen.timer import ring\n")
    (package / "timer" / "__init__.py").write_text("def ring():\n    from kitchen.oven import bake\n")
    (tmp_path / ".importlinter").write_text(
        "[importlinter]\nroot_package = kitchen\n\n"
        "[importlinter:contract:layers]\nname = the oven above the timer\ntype = layers\n"
        "containers = kitchen\nlayers =\n    oven\n    timer\n"
    )
    result = lint_imports(tmp_path, "--config", ".importlinter")
    assert result.returncode == 1, result.stdout + result.stderr
    assert "kitchen.timer -> kitchen.oven" in result.stdout
