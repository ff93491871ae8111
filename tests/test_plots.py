"""sstfill.plots and 'sstfill evaluate --plot': figures are written; without matplotlib, one clear error."""

import sys

import numpy as np
import pytest
from typer.testing import CliRunner

from sstfill.cli import app
from sstfill.errors import InputError
from test_evaluate import write_case

runner = CliRunner()


def test_month_maps_and_rmse_figure(tmp_path):
    pytest.importorskip("matplotlib")
    from sstfill.plots import plot_month_maps, plot_rmse_by_valid_days

    rng = np.random.default_rng(0)
    reference = 285 + rng.normal(size=(20, 30))
    reference[:5, :7] = np.nan  # land
    reconstruction = reference + rng.normal(0, 0.2, size=reference.shape)
    reconstruction[10, 10] = np.nan  # an ocean pixel left empty
    lat, lon = np.linspace(50, 45, 20), np.linspace(-30, -22.75, 30)  # north to south, as many files are
    maps = plot_month_maps(tmp_path / "sub" / "maps.png", "2021-01", reference, reconstruction, lat, lon)
    assert maps.stat().st_size > 10_000
    report = {"reconstruction": "r.nc", "reference": "t.nc", "methods": {
        "sstfill": {"by_valid_days": {"0": {"rmse": 0.4}, "1-4": {"rmse": 0.3}, "5-9": {"rmse": 0.2},
                                      ">=10": {"rmse": 0.1}}},
        "naive_composite": {"by_valid_days": {"0": {"rmse": None}, "1-4": {"rmse": 0.35}, "5-9": {"rmse": 0.25},
                                              ">=10": {"rmse": 0.15}}},
    }}
    rmse = plot_rmse_by_valid_days(tmp_path / "rmse.png", report)
    assert rmse.stat().st_size > 5_000


def test_evaluate_plot_option_writes_one_map_per_month(tmp_path):
    pytest.importorskip("matplotlib")
    recon, truth, daily = write_case(tmp_path)
    result = runner.invoke(app, ["evaluate", str(recon), str(truth), "--input", str(daily), "--no-dineof",
                                 "--plot", str(tmp_path / "figures")])
    assert result.exit_code == 0, result.output
    written = sorted(p.name for p in (tmp_path / "figures").iterdir())
    assert written == ["maps_2021-01.png", "maps_2021-02.png", "rmse_by_valid_days.png"]
    assert all((tmp_path / "figures" / name).stat().st_size > 1000 for name in written)


def test_without_matplotlib_plot_is_one_line_error(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # import matplotlib now raises ImportError
    from sstfill.plots import require_matplotlib

    with pytest.raises(InputError, match=r"pip install 'sstfill\[plot\]'"):
        require_matplotlib()
    recon, truth, _ = write_case(tmp_path)
    result = runner.invoke(app, ["evaluate", str(recon), str(truth), "--plot", str(tmp_path / "figures")])
    assert result.exit_code == 1
    assert result.output.strip().splitlines() == [
        "sstfill: error: expected matplotlib for --plot, found none; pip install 'sstfill[plot]'"]
    assert not (tmp_path / "figures").exists()
