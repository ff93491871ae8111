"""Render docs/accuracy.md from the benchmark outputs stored in benchmarks/results/.

Every figure in docs/accuracy.md is computed here from one JSON file of benchmarks/results/,
each written by the command named in its "source" field, so the tables cannot disagree with
each other or with the runs behind them. README.md quotes `headline()` word for word
(tests/test_docs.py checks both).

    python benchmarks/make_docs.py            # rewrite docs/accuracy.md
    python benchmarks/make_docs.py --check    # exit 1 if docs/accuracy.md is out of date
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from heldout import scores

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "results"
ACCURACY = ROOT / "docs" / "accuracy.md"

CLASSES = (("0", "0 days"), ("1-4", "1–4 days"), ("5-9", "5–9 days"), (">=10", "≥ 10 days"))
METHOD_NAMES = {"sstfill": "**sstfill**", "dineof": "DINEOF", "composite_filled": "composite, gaps filled",
                "naive_composite": "naive composite", "composite_nearest": "composite, nearest-filled"}
CASE_TITLES = {
    "real_background": "real OSTIA background, 12 months, 5° S–4° N, global wrap",
    "ostia_anomalies": "OSTIA plus slow anomalies and instability waves",
    "midlat_eddies": "Kuroshio Extension, 0.25°, eddies and a front",
    "global_1deg": "60° S–60° N at 1°, global wrap",
    "nonsquare_agulhas": "Agulhas, 0.5° × 0.75° cells",
    "ice_edge": "Barents Sea ice edge, 0.25°",
}
COVERAGE_GOAL = (0.683, 0.954)  # the share of a Gaussian error within one and two sigma
NARROW_SIGMA = 0.63  # ±1σ coverage below this (five points under the goal) counts as a too narrow sigma


def load_results(folder: Path = RESULTS) -> dict[str, dict]:
    """Every benchmarks/results/NAME.json, by NAME."""
    return {path.stem: json.loads(path.read_text()) for path in sorted(folder.glob("*.json"))}


# Formatting ---------------------------------------------------------------------------------------

def number(value: float | None, digits: int = 3) -> str:
    return "–" if value is None else f"{value:.{digits}f}"


def percent(value: float | None) -> str:
    return "–" if value is None else f"{100 * value:.1f} %"


def pair(first: str, second: str) -> str:
    return f"{first} / {second}"


def span(values: list[float]) -> str:
    return f"{number(min(values))}–{number(max(values))}"


def percent_span(values: list[float]) -> str:
    return f"{100 * min(values):.1f}–{100 * max(values):.1f} %"


def in_words(count: int) -> str:
    words = ("no", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven", "twelve")
    return words[count] if count < len(words) else str(count)


def commands(source: str | list[str]) -> str:
    """A results file's source as a shell block."""
    lines = [source] if isinstance(source, str) else source
    return "```bash\n" + "\n".join(lines) + "\n```"


def table(header: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


def ratio(score: dict, floor: dict) -> float | None:
    return score["rmse"] / floor["rmse"] if score.get("rmse") is not None and floor.get("rmse") else None


def ratios(method: dict, floor: dict) -> str:
    """'all / < 5 days': a method's RMSE over a reference method's, over all ocean and under 5 valid days."""
    return pair(number(ratio(method["overall"], floor["overall"])),
                number(ratio(method["fewer_than_5_days"], floor["fewer_than_5_days"])))


def rmses(method: dict) -> str:
    return pair(number(method["overall"]["rmse"]), number(method["fewer_than_5_days"]["rmse"]))


def coverage(score: dict) -> str:
    """'±1σ / ±2σ' of a score that has them."""
    return pair(percent(score["within_1sigma"]), percent(score["within_2sigma"]))


# The figures of each benchmark, in one shape: method -> group -> scores -----------------------------

def heldout_methods(results: dict) -> dict[str, dict]:
    """Pooled held-out scores (pixel-weighted over the regions) of each method."""
    reports = results["heldout"]["reports"]
    methods = [m for m in ("sstfill", "dineof", "composite_filled", "naive_composite")
               if any(m in r["methods"] for r in reports)]
    return {m: {"overall": scores(reports, m, "overall"), "fewer_than_5_days": scores(reports, m, "fewer_than_5_days"),
                "by_valid_days": {c: scores(reports, m, "by_valid_days", c) for c, _ in CLASSES}} for m in methods}


def sample_methods(results: dict) -> dict[str, dict]:
    return results["sample"]["report"]["methods"]


def cases(results: dict) -> list[dict]:
    return [case for case in results["cross_family"]["cases"] if "error" not in case]


def global_grids(results: dict) -> list[dict]:
    return results["global"]["grids"]


def grid_name(resolution: float) -> str:
    return f"{resolution:g}°"


# Sections -------------------------------------------------------------------------------------------

def headline(results: dict) -> str:
    """The accuracy sentence README.md quotes: held-out regions and the independent family."""
    held = heldout_methods(results)
    me, dineof, floor = held["sstfill"], held["dineof"], held["composite_filled"]
    family = cases(results)
    mine = [c["ratios"]["sstfill"]["overall"] for c in family]
    theirs = [c["ratios"]["dineof"]["overall"] for c in family]
    covered = [c["methods"]["sstfill"]["overall"]["within_1sigma"] for c in family]
    n_regions = len(results["heldout"]["reports"])
    return (
        f"On {in_words(n_regions)} generated regions it never saw, its RMSE is "
        f"{number(ratio(me['overall'], floor['overall']))} of the filled composite's over all ocean and "
        f"{number(ratio(me['fewer_than_5_days'], floor['fewer_than_5_days']))} on pixels seen on fewer than "
        f"5 days (DINEOF: {number(ratio(dineof['overall'], floor['overall']))} and "
        f"{number(ratio(dineof['fewer_than_5_days'], floor['fewer_than_5_days']))}), and "
        f"{percent(me['overall']['within_1sigma'])} / {percent(me['overall']['within_2sigma'])} of its errors "
        f"fall within ±1σ / ±2σ. On {in_words(len(family))} cases built apart from its training data, from real SST "
        f"fields and cloud shapes, it scores {span(mine)} of a nearest-filled composite's RMSE (DINEOF: "
        f"{span(theirs)}), with {percent_span(covered)} of its errors within ±1σ."
    )


def intro(results: dict) -> str:
    model = results["heldout"]["model"]
    return f"""# Accuracy of the bundled model

<!-- Generated by `python benchmarks/make_docs.py` from benchmarks/results/*.json: edit those, not this file. -->

Every figure here is rendered by `python benchmarks/make_docs.py` from the benchmark outputs
stored in [benchmarks/results/](../benchmarks/results/); each file names, in its `source`
field, the command that produced it. The model is the bundled one, `{model}`
([docs/model.md](model.md)); `reconstruct` runs with its defaults, the check on withheld
observations included, unless a table says otherwise.

- **RMSE** is in kelvin, against a known monthly truth, over ocean pixel-months.
- **< 5 days**: pixels seen on fewer than 5 days of their month; **0 days**: never seen.
- **Ratios** are an RMSE over the filled composite's (the mean of the valid days, empty
  pixels filled by normalised convolution from a 2-pixel Gaussian: `evaluate`'s
  `composite_filled`). On the independent family they are over the nearest-filled
  composite's (empty pixels take the mean of the nearest pixel seen). Below 1 is better.
- **±1σ / ±2σ**: the share of errors within one and two `sst_uncertainty` of the truth
  ({percent(COVERAGE_GOAL[0])} / {percent(COVERAGE_GOAL[1])} for a calibrated Gaussian error)."""


def summary(results: dict) -> str:
    return f"""## Summary

{headline(results)}

| benchmark | what it tells |
|---|---|
| [held-out generated regions](#held-out-generated-regions) | accuracy on the family the model was trained on, at other places, grids and seasons |
| [independent family](#independent-family) | accuracy on data built apart from the training data |
| [bundled sample](#bundled-sample) | what the quick start reproduces |
| [global months](#global-months) | whole-globe grids, with the longitude wrap |
| [against other gap fillers](#against-other-gap-fillers) | sstfill beside DINEOF on every benchmark |
| [the check](#the-check-on-withheld-observations) | what the check on withheld observations changes |
| [coverage](#coverage-of-the-uncertainty) | how well `sst_uncertainty` covers the errors |
| [cost](#cost-of-a-global-month) | time and memory of a global month |"""  # noqa: E501 (a Markdown row is one line)


def heldout_section(results: dict) -> str:
    held = heldout_methods(results)
    floor = held["composite_filled"]
    meta = results["heldout"]
    rows = []
    for method, s in held.items():
        rows.append([METHOD_NAMES[method], number(s["overall"]["rmse"], 4), number(s["fewer_than_5_days"]["rmse"], 4),
                     ratios(s, floor), coverage(s["overall"]) if "within_1sigma" in s["overall"] else ""])
    main = table(["method", "all ocean", "< 5 days", "ratio, all / < 5 days", "±1σ / ±2σ"], rows)
    by_days = table(["method"] + [name for _, name in CLASSES], [
        [METHOD_NAMES[m]] + [f"{number(s['by_valid_days'][c]['rmse'])} ({s['by_valid_days'][c]['n']:,})"
                             if s["by_valid_days"][c]["n"] else "–" for c, _ in CLASSES]
        for m, s in held.items()])
    reports = meta["reports"]
    spacing_rows = []
    for res in sorted({r["region"]["resolution_deg"] for r in reports}):
        some = [r for r in reports if r["region"]["resolution_deg"] == res]
        me, filled = scores(some, "sstfill", "overall"), scores(some, "composite_filled", "overall")
        spacing_rows.append([grid_name(res), str(len(some)), number(me["rmse"]), number(ratio(me, filled)),
                             number(scores(some, "sstfill", "by_valid_days", "0")["rmse"]),
                             number(scores(some, "composite_filled", "by_valid_days", "0")["rmse"])])
    by_spacing = table(["grid", "regions", "sstfill, all ocean", "/ filled composite", "sstfill, 0 days",
                        "filled composite, 0 days"], spacing_rows)
    return f"""## Held-out generated regions

{in_words(len(reports)).capitalize()} random ocean regions (seed {meta['seed']}) drawn from the generator the model
was trained on (`sstfill.testing`), at other places, grid spacings and seasons,
{in_words(meta['months'])} months each; the scores are pooled over all their ocean pixel-months:

{commands(meta['source'])}

{main}

The naive composite is scored only where it has a value, so it leaves out the never-observed
pixels, the hardest ones. By the number of valid days in the month (RMSE in K,
pixel-months in brackets):

{by_days}

By grid spacing (RMSE in K):

{by_spacing}"""


def family_section(results: dict) -> str:
    rows, unseen = [], []
    for case in cases(results):
        methods = case["methods"]
        me = methods["sstfill"]["overall"]
        nearest = methods["composite_nearest"]
        rows.append([f"{case['key']}. {CASE_TITLES.get(case['case'], case['case'])}",
                     f"{case['grid'][0]} × {case['grid'][1]} × {case['days']}",
                     f"**{ratios(methods['sstfill'], nearest)}**", ratios(methods["dineof"], nearest),
                     number(ratio(methods["composite_filled"]["overall"], nearest["overall"])), coverage(me)])
        unseen.append([case["key"]] + [number(methods[m]["by_valid_days"]["0"]["rmse"])
                                       for m in ("sstfill", "composite_filled", "composite_nearest", "dineof")])
    main = table(["case", "grid × days", "sstfill, all / < 5 days", "DINEOF, all / < 5 days",
                  "composite, gaps filled, all", "±1σ / ±2σ"], rows)
    never = table(["case", "sstfill", "composite, gaps filled", "composite, nearest-filled", "DINEOF"], unseen)
    return f"""## Independent family

`benchmarks/cross_family.py` builds cases that share no building block with
`sstfill.testing`: real SST fields that packages ship (OSTIA monthly fields, the
Shea–Trenberth–Reynolds climatology, a day of OISST, HadISST anomaly patterns), real SEVIRI
cloud shapes, other eddy, noise and cloud statistics, and GHRSST-style files with quality
flags. It needs `pip install -e ".[bench]"` and Debian's `libncarg-data` and `r-cran-stars`
(about a minute and a half on 2 cores):

{commands(results['cross_family']['source'])}

Ratios are to the nearest-filled composite:

{main}

At never-observed pixels (RMSE in K):

{never}

{known_gaps(results)}"""


def known_gaps(results: dict) -> str:
    """The cases where sstfill loses at never-observed pixels, or its sigma is too narrow."""
    beaten: dict[str, list[str]] = {}
    for case in cases(results):
        unseen = {m: s["by_valid_days"]["0"]["rmse"] for m, s in case["methods"].items()}
        for method in ("composite_filled", "composite_nearest"):
            if unseen[method] < unseen["sstfill"]:
                beaten.setdefault(method, []).append(case["key"])
    narrow = [c["key"] for c in cases(results) if c["methods"]["sstfill"]["overall"]["within_1sigma"] < NARROW_SIGMA]
    fills = {"composite_filled": "composite filled from 2 pixels", "composite_nearest": "nearest-filled composite"}
    where = " and ".join(f"the {fills[m]} in {and_list(keys)}" for m, keys in beaten.items())
    return (f"Known gaps: at never-observed pixels sstfill does worse than {where}; and its sigma is too "
            f"narrow (under {percent(NARROW_SIGMA)} of the errors within ±1σ) in {and_list(narrow)}.")


def and_list(keys: list[str]) -> str:
    """'case b', 'cases b and d', 'cases b, c and e'."""
    if len(keys) == 1:
        return f"case {keys[0]}"
    return f"cases {', '.join(keys[:-1])} and {keys[-1]}"


def sample_section(results: dict) -> str:
    methods = sample_methods(results)
    rows = []
    for method in ("sstfill", "dineof", "composite_filled", "naive_composite"):
        s = methods[method]
        name = METHOD_NAMES[method]
        if method == "naive_composite":
            name += f" (leaves {percent(1 - s['coverage'])} of the ocean empty)"
        rows.append([name, number(s["overall"]["rmse"]), number(s["fewer_than_5_days"]["rmse"]),
                     number(s["by_valid_days"]["0"]["rmse"]), number(s["by_valid_days"][">=10"]["rmse"])])
    me = methods["sstfill"]["overall"]
    alone = results["sample_no_check"]["report"]["methods"]["sstfill"]["overall"]
    return f"""## Bundled sample

{commands(results['sample']['source'])}

{table(["method", "all ocean", "< 5 days", "0 days", "≥ 10 days"], rows)}

{percent(me['within_1sigma'])} of the errors fall within ±1σ and {percent(me['within_2sigma'])} within ±2σ
({percent(alone['within_1sigma'])} and {percent(alone['within_2sigma'])} with `--no-check`). The sample comes from
`sstfill.testing`, the family the model was trained on."""


def global_section(results: dict) -> str:
    rows, skipped = [], False
    for grid in global_grids(results):
        methods = grid["report"]["methods"]
        me, floor = methods["sstfill"], methods["composite_filled"]
        dineof = methods.get("dineof")
        skipped |= dineof is None
        rows.append([f"{grid_name(grid['resolution_deg'])}, {grid['shape'][0]} × {grid['shape'][1]}",
                     rmses(me), rmses(floor), ratios(me, floor), rmses(dineof) if dineof else "not run ¹",
                     coverage(me["overall"])])
    note = ("\n\n¹ `evaluate` skips DINEOF above 2·10⁷ matrix entries (ocean pixels × days) and says so."
            if skipped else "")
    return f"""## Global months

One generated month of the whole globe; the longitudes wrap, and the bundled coastline gives
the land:

{commands(results['global']['source'])}

{table(["grid", "sstfill, all / < 5 days (K)", "filled composite (K)", "ratio, all / < 5 days", "DINEOF (K)",
        "±1σ / ±2σ"], rows)}{note}"""


def peers_section(results: dict) -> str:
    def row(name: str, methods: dict, floor: str) -> list[str]:
        return [name, *(ratios(methods[m], methods[floor]) if m in methods else "not run"
                        for m in ("sstfill", "dineof"))]

    rows = [row("held-out generated regions", heldout_methods(results), "composite_filled")]
    rows += [row(f"independent family, case {c['key']} ¹", c["methods"], "composite_nearest") for c in cases(results)]
    rows.append(row("bundled sample", sample_methods(results), "composite_filled"))
    rows += [row(f"global month, {grid_name(g['resolution_deg'])}", g["report"]["methods"], "composite_filled")
             for g in global_grids(results)]
    return f"""## Against other gap fillers

RMSE ratios, all ocean / < 5 days, to the filled composite (¹ to the nearest-filled composite).
DINEOF is sstfill's own implementation (`sstfill/baselines/dineof.py`, which `evaluate --input`
runs): an iterative truncated SVD of the month's daily anomalies, with the number of modes
chosen by cross-validation.

{table(["benchmark", "sstfill", "DINEOF"], rows)}

DINCAE has not been run on these benchmarks."""


def check_section(results: dict) -> str:
    held, alone = heldout_methods(results), results["heldout_no_check"]["pooled"]["sstfill"]
    floor = held["composite_filled"]
    sample, sample_alone = sample_methods(results), results["sample_no_check"]["report"]["methods"]
    family, family_alone = cases(results), results["cross_family_no_check"]

    mine = [c["ratios"]["sstfill"]["overall"] for c in family]
    covered = [c["methods"]["sstfill"]["overall"]["within_1sigma"] for c in family]
    changed = ", ".join(f"case {key}: {number(value)}" for key, value in family_alone["ratio_all"].items())
    rows = [
        ["held-out generated regions", ratios(held["sstfill"], floor), coverage(held["sstfill"]["overall"]),
         ratios(alone, floor), coverage(alone["overall"])],
        ["bundled sample", ratios(sample["sstfill"], sample["composite_filled"]),
         coverage(sample["sstfill"]["overall"]), ratios(sample_alone["sstfill"], sample["composite_filled"]),
         coverage(sample_alone["sstfill"]["overall"])],
        ["independent family (all ocean ¹)", span(mine), f"{percent_span(covered)} within ±1σ",
         f"as with the check, except {changed}", f"{percent_span(family_alone['within_1sigma_range'])} within ±1σ"],
    ]
    return f"""## The check on withheld observations

`reconstruct` checks itself on the input before it writes ([docs/model.md](model.md#step-9)).
With the check, and with the model alone (`--no-check`); ratios all ocean / < 5 days
(¹ to the nearest-filled composite):

{table(["benchmark", "with the check: ratio", "±1σ / ±2σ", "model alone: ratio", "±1σ / ±2σ"], rows)}

{pooling_table(results)}"""


def pooling_table(results: dict) -> str:
    """How a month's rule is pooled over months and tiles: ±1σ coverage per case of each variant."""
    pooling = results["check_pooling"]
    keys = [c["key"] for c in cases(results)]
    rows = []
    for variant in pooling["variants"]:
        family = variant["cross_family"]
        rule = variant["rule"] + (" (kept)" if variant.get("kept") else "")
        rows.append([rule] + [percent(family[k]["within_1sigma"]) for k in keys]
                    + [number(family["e"].get("ratio_all"))])
    first = next(v["heldout"] for v in pooling["variants"] if "heldout" in v and not v.get("kept"))
    kept = next(v["heldout"] for v in pooling["variants"] if v.get("kept"))
    return f"""A month's rule is fitted on the withheld errors of it and its two neighbours, on at least
40,000 pixels' worth of tiles. How that was chosen: ±1σ coverage on each case of the
independent family, and the RMSE ratio of case e, the only one that moved (one run of
`{pooling['source']}` per variant, all with the model bundled at the time, `{pooling['model']}`):

{table(["a month's rule fitted on", *keys, "e, RMSE ratio"], rows)}

Case f's coverage changes between draws of the same rule: it says as much about which tiles
were drawn as about the rule. On the held-out generated regions the rule
fitted on all months of the run gave ratios {pair(number(first['ratio_all']), number(first['ratio_few']))} and
coverage {coverage(first)}; the rule kept gave {pair(number(kept['ratio_all']), number(kept['ratio_few']))} and
{coverage(kept)}."""


def coverage_section(results: dict) -> str:
    def row(name: str, s: dict) -> list[str]:
        by_class = s["by_valid_days"]
        return [name, coverage(s["overall"]), *(percent(by_class[c].get("within_1sigma")) for c, _ in CLASSES)]

    rows = [row("held-out generated regions", heldout_methods(results)["sstfill"])]
    rows += [row(f"independent family, case {c['key']}", c["methods"]["sstfill"]) for c in cases(results)]
    rows.append(row("bundled sample", sample_methods(results)["sstfill"]))
    rows += [row(f"global month, {grid_name(g['resolution_deg'])}", g["report"]["methods"]["sstfill"])
             for g in global_grids(results)]
    return f"""## Coverage of the uncertainty

The share of errors within ±1σ and ±2σ of `sst_uncertainty` (goal: {percent(COVERAGE_GOAL[0])} and
{percent(COVERAGE_GOAL[1])}), and within ±1σ by valid days in the month:

{table(["benchmark", "±1σ / ±2σ"] + [f"±1σ, {name}" for _, name in CLASSES], rows)}"""


def cost_section(results: dict) -> str:
    def value(low_high: list[float] | None, unit: str) -> str:
        if low_high is None:
            return "not measured"
        low, high = low_high
        return f"{low} {unit}" if low == high else f"{low}–{high} {unit}"

    cost = results["global_cost"]
    rows = [[f"{grid_name(r['resolution_deg'])}, {r['shape'][0]} × {r['shape'][1]}",
             ("on" if r["check"] else "off") + (f" ({r['note']})" if r.get("note") else ""),
             value(r["seconds"], "s"), value(r["peak_gb"], "GB")] for r in cost["runs"]]
    return f"""## Cost of a global month

Wall time and peak memory of `reconstruct` on one generated global month, on a 2-core CPU
machine with nothing else running (`{cost['source']}`, R = 1, 0.25 or 0.05). At 0.05° the
month is the 0.25° one with each cell repeated 5 × 5: its cost is that of a 0.05° month,
its accuracy means nothing.

{table(["grid", "check", "wall time", "peak memory"], rows)}"""


def render(results: dict) -> str:
    """The whole of docs/accuracy.md."""
    sections = (intro, summary, heldout_section, family_section, sample_section, global_section, peers_section,
                check_section, coverage_section, cost_section)
    return "\n\n".join(section(results) for section in sections) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--check", action="store_true", help="exit 1 if docs/accuracy.md is out of date")
    args = parser.parse_args()
    text = render(load_results())
    if args.check:
        if ACCURACY.read_text() != text:
            sys.exit(f"{ACCURACY} is out of date: run python benchmarks/make_docs.py")
        return
    ACCURACY.write_text(text)
    print(f"wrote {ACCURACY}")


if __name__ == "__main__":
    main()
