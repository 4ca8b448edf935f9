"""The import contract (pyproject.toml, [tool.importlinter]) holds: apps import only downward,
pathways > training > certificates > courses > scenarios > officers, and the scenario engine
imports no Django. import-linter sees imports inside functions too, so none gets around it."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_the_import_contracts_are_kept() -> None:
    lint_imports = shutil.which("lint-imports", path=str(Path(sys.executable).parent))
    assert lint_imports, "import-linter is a test dependency (pyproject.toml)"
    result = subprocess.run(  # noqa: S603
        [lint_imports, "--no-cache"], cwd=ROOT, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "2 kept, 0 broken" in result.stdout


# The folder beside the repository that a clone does not have (spelt in two parts, so that
# this file does not point there itself).
OUTSIDE = ".." + "/shared"


def test_no_file_points_outside_the_repository() -> None:
    tracked = subprocess.run(
        ["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.split()
    outside = [
        name
        for name in tracked
        if (ROOT / name).is_file()
        and OUTSIDE in (ROOT / name).read_text(encoding="utf-8", errors="ignore")
    ]
    assert outside == []
