"""Agendum installs `core`, `schema`, `web` and `plugins` as top-level packages: start-up refuses
to run, in one line, when Python would import one of them from another distribution."""

import subprocess
import sys
from pathlib import Path

import pytest

AGENDUM = Path(sys.executable).with_name("agendum")


def start(tmp_path: Path, *shadows: str) -> subprocess.CompletedProcess:
    """Run `agendum serve --demo` with a directory holding look-alike modules first on the path."""
    for name in shadows:
        (tmp_path / f"{name}.py").write_text("VERSION = 'not agendum'\n")
    env = {"PATH": "/usr/bin:/bin", "PYTHONPATH": str(tmp_path), "HOME": str(tmp_path)}
    return subprocess.run(
        [AGENDUM, "serve", "--demo", "--port", "0"], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60
    )


@pytest.mark.parametrize("name", ["schema", "core", "web", "plugins"])
def test_start_up_refuses_a_top_level_package_from_another_distribution(tmp_path, name):
    run = start(tmp_path, name)
    assert run.returncode == 1 and "Traceback" not in run.stderr
    [line] = run.stderr.splitlines()
    assert f"`{name}` comes from {tmp_path / name}.py, not from Agendum" in line
    assert str(Path(__file__).resolve().parents[1] / name) in line


def test_each_foreign_package_gets_its_line(tmp_path):
    run = start(tmp_path, "schema", "web")
    assert run.returncode == 1 and [line.split("`")[1] for line in run.stderr.splitlines()] == ["schema", "web"]
