"""The import contracts of pyproject.toml ([tool.importlinter]) hold: layers run one way, io
never imports torch, model never imports xarray or netCDF, and no two modules import each other.

Run alone with: lint-imports
"""

import subprocess
import sys
from pathlib import Path

import pytest
from importlinter.api import read_configuration

ROOT = Path(__file__).resolve().parents[1]
PYPROJECT = ROOT / "pyproject.toml"
LINT = ("import sys; from importlinter.cli import lint_imports; "
        "sys.exit(lint_imports(config_filename=sys.argv[1], no_cache=True, no_logo=True))")


def test_import_contracts_are_kept():
    contracts = read_configuration(str(PYPROJECT))["contracts_options"]
    assert {"layers", "forbidden", "acyclic_siblings"} <= {contract["type"] for contract in contracts}
    # In a fresh interpreter: import-linter puts the working directory on sys.path and sets up logging.
    result = subprocess.run([sys.executable, "-c", LINT, str(PYPROJECT)], cwd=ROOT, capture_output=True, text=True,
                            timeout=300)
    report = result.stdout + result.stderr
    if result.returncode:
        pytest.fail(report, pytrace=False)
    for contract in contracts:
        assert f"{contract['name']} KEPT" in report, report
