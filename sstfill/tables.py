"""evaluate's report as a table for the terminal (rich), as 'sstfill evaluate' prints it."""

from __future__ import annotations

from pathlib import Path

from rich.table import Table


def render_table(report: dict) -> Table:
    """A rich Table: one row per method and pixel group."""
    names = f"{Path(report['reconstruction']).name} vs {Path(report['reference']).name}"
    table = Table(title=f"{names} (kelvin, ocean pixels)")
    for column in ("method", "pixels", "n", "RMSE", "MAE", "bias", "±1σ", "±2σ"):
        table.add_column(column, justify="left" if column in ("method", "pixels") else "right", no_wrap=True)

    def fmt(value, spec=".4f"):
        return "–" if value is None else format(value, spec)

    for name, score in report["methods"].items():
        groups = [("all", score["overall"]), ("< 5 days", score["fewer_than_5_days"])]
        groups += [(f"{k} days", v) for k, v in score["by_valid_days"].items()]
        groups += [(month, v) for month, v in score["per_month"].items()]
        for label, stats in groups:
            if not stats["n"] and label != "all":
                continue
            table.add_row(name, label, str(stats["n"]), fmt(stats["rmse"]), fmt(stats["mae"]),
                          fmt(stats["bias"], "+.4f"), fmt(stats.get("within_1sigma"), ".1%"),
                          fmt(stats.get("within_2sigma"), ".1%"))
        if score["coverage"] is not None and score["coverage"] < 1:
            table.add_row(name, f"left empty: {1 - score['coverage']:.1%} of ocean", "", "", "", "", "", "")
        table.add_section()
    return table
