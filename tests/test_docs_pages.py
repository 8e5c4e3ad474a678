"""The results page and the decision log: entries that exist, links that resolve."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"

#: a decision-log entry cited by number: "D13", as in "(docs/decisions.md, D13)"
CITED_ENTRY = re.compile(r"(?<![\w-])D(\d{1,2})\b")


def _decision_entries() -> list[tuple[int, str]]:
    """(number, text) of every "### D<n>." entry of the decision log, in page order."""
    text = (DOCS / "decisions.md").read_text()
    parts = re.split(r"^### D(\d+)\. ", text, flags=re.M)[1:]
    pairs = zip(parts[::2], parts[1::2], strict=True)
    return [(int(number), body) for number, body in pairs]


def _files_citing_entries() -> list[Path]:
    sources = [ROOT / "README.md", *DOCS.glob("*.md"), *DOCS.glob("*.rst")]
    sources += sorted((ROOT / "sktime_diffusion").rglob("*.py"))
    return sources


def test_decision_log_entries_are_numbered_in_order_with_question_runs_decision():
    entries = _decision_entries()
    assert [number for number, _ in entries] == list(range(1, len(entries) + 1))
    for number, body in entries:
        for part in ("**Question.**", "**Runs.**", "**Decision.**"):
            assert part in body, f"D{number} has no {part}"


def test_every_cited_decision_entry_exists():
    numbers = {number for number, _ in _decision_entries()}
    for path in _files_citing_entries():
        for match in CITED_ENTRY.finditer(path.read_text()):
            assert int(match.group(1)) in numbers, f"{path.name} cites D{match.group(1)}"


def test_markdown_pages_link_to_pages_that_exist_and_sphinx_lists_them():
    for page in ("results.md", "decisions.md"):
        text = (DOCS / page).read_text()
        for target in re.findall(r"\]\(([^)#:]+\.md)(?:#[^)]*)?\)", text):
            assert (DOCS / target).exists(), f"{page} links to missing {target}"
    toctree = (DOCS / "index.rst").read_text()
    assert re.search(r"^\s+results$", toctree, re.M)
    assert re.search(r"^\s+decisions$", toctree, re.M)
