"""The linter and the type checker, as configured in pyproject.toml, pass on the repository."""

import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def run_tool(name: str, *args: str) -> subprocess.CompletedProcess:
    if shutil.which(name) is None:
        pytest.skip(f"{name} is not installed; pip install -e '.[test]' installs it")
    return subprocess.run([name, *args], cwd=ROOT, capture_output=True, text=True, timeout=600)


def test_ruff_finds_nothing():
    result = run_tool("ruff", "check", "--no-cache", ".")
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.slow  # about 20 s without mypy's cache
def test_mypy_finds_nothing_in_the_typed_packages():
    # The packages are pyproject's [tool.mypy] files: io, data and model.
    result = run_tool("mypy")
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_package_says_it_is_typed():
    """PEP 561: the marker is in the package, and shipped with it as package data."""
    assert (ROOT / "sstfill" / "py.typed").is_file()
    assert '"py.typed"' in (ROOT / "pyproject.toml").read_text()
