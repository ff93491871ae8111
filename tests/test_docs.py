"""The documents stay true to their sources: docs/accuracy.md is what benchmarks/make_docs.py renders
from benchmarks/results/, README quotes its headline, README stays short, and relative links resolve."""

import importlib.util
import json
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
DOCS = sorted((ROOT / "docs").glob("*.md"))
README_MAX_LINES = 300
TEST_COMMAND = 'pip install torch==2.13.0 -e ".[test]" && pytest -q'  # .ci/run runs README's command verbatim

LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)(?:\s+\"[^\"]*\")?\)")
FENCE = re.compile(r"^```.*?^```", re.M | re.S)
CODE_SPAN = re.compile(r"`[^`\n]*`")
HEADING = re.compile(r"^#{1,6}\s+(.+?)\s*#*\s*$", re.M)
EXPLICIT_ANCHOR = re.compile(r"<a\s+(?:id|name)=\"([^\"]+)\"")


@pytest.fixture(scope="module")
def make_docs():
    spec = importlib.util.spec_from_file_location("make_docs", ROOT / "benchmarks" / "make_docs.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def prose(text: str) -> str:
    """Markdown without code blocks and code spans, where links are not links."""
    return CODE_SPAN.sub("", FENCE.sub("", text))


def anchors(path: Path) -> set[str]:
    """GitHub's heading anchors of a Markdown file (lower case, punctuation dropped, spaces to
    hyphens, repeats numbered), plus explicit <a id="..."> anchors."""
    text = FENCE.sub("", path.read_text())
    found: set[str] = set(EXPLICIT_ANCHOR.findall(text))
    seen: dict[str, int] = {}
    for heading in HEADING.findall(text):
        slug = re.sub(r"[^\w\- ]", "", heading.replace("`", "").lower()).replace(" ", "-")
        found.add(slug if slug not in seen else f"{slug}-{seen[slug]}")
        seen[slug] = seen.get(slug, 0) + 1
    return found


def test_accuracy_md_is_what_make_docs_renders(make_docs):
    rendered = make_docs.render(make_docs.load_results())
    assert (ROOT / "docs" / "accuracy.md").read_text() == rendered, \
        "docs/accuracy.md is out of date: run python benchmarks/make_docs.py"


def test_readme_quotes_the_generated_headline(make_docs):
    headline = " ".join(make_docs.headline(make_docs.load_results()).split())
    assert headline in " ".join(README.read_text().split())


def test_every_result_names_the_command_that_made_it():
    results = sorted((ROOT / "benchmarks" / "results").glob("*.json"))
    assert results
    for path in results:
        source = json.loads(path.read_text()).get("source")
        commands = [source] if isinstance(source, str) else source or []
        assert commands and all(c.startswith(("python ", "sstfill ")) for c in commands), path.name


def test_readme_is_short_and_keeps_the_ci_test_command():
    text = README.read_text()
    assert len(text.splitlines()) <= README_MAX_LINES
    assert TEST_COMMAND in text


@pytest.mark.parametrize("document", [README, *DOCS], ids=lambda p: p.relative_to(ROOT).as_posix())
def test_relative_links_point_to_existing_files_and_anchors(document):
    broken = []
    for target in LINK.findall(prose(document.read_text())):
        if re.match(r"[a-z][a-z0-9+.-]*:", target):  # https:, mailto:
            continue
        file_part, _, anchor = target.partition("#")
        linked = (document.parent / file_part).resolve() if file_part else document
        if not linked.exists() or (anchor and linked.suffix == ".md" and anchor not in anchors(linked)):
            broken.append(target)
    assert not broken, f"{document.name}: {broken}"
