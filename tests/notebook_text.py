"""Reading a lab notebook and its guide as text, for the labs' guide tests (tests/test_lab1_guide.py,
tests/test_lab2.py): one home, so the two labs are checked by the same rules."""

from __future__ import annotations

import re


def source(cell: dict) -> str:
    return "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]


def meta(cell: dict) -> dict:
    return cell["metadata"].get("nbgrader", {})


def table(text: str) -> dict[str, tuple[str, str]]:
    """The parts table of the notebook's introduction or of the guide: part -> (points, minutes)."""
    rows = {}
    for line in text.splitlines():
        row = re.match(r"\|\s*(?:\[(\d+)\]\(#part-\d+\)|(\d+))?\s*\|\s*(.+?)\s*\|\s*(\d*)\s*\|\s*(\d+) min\s*\|", line)
        if row:
            part = row.group(1) or row.group(2) or ("start" if "Start" in row.group(3) else "hand in")
            rows[part] = (row.group(4), row.group(5))
    return rows


def anchors(path) -> set[str]:
    return set(re.findall(r"\{#([a-z0-9-]+)\}", path.read_text())) | {
        re.sub(r"[^a-z0-9 -]", "", m.lower()).strip().replace(" ", "-")
        for m in re.findall(r"^#+ (.+?)\s*$", path.read_text(), re.M) if "{#" not in m}


def prose(cell: dict) -> str:
    """A markdown cell's text without its folded hints and its formulas."""
    text = re.sub(r"<details>.*?</details>", "", source(cell), flags=re.S)
    return re.sub(r"\$[^$]+\$", "", text)


def masked(text: str) -> str:
    """``text`` with link addresses and the code spans outside links blanked (same length): prose only."""
    links = [m.span(1) for m in re.finditer(r"\[([^\]]+)\]\([^)]*\)", text)]
    out = re.sub(r"\]\(([^)]*)\)", lambda m: "](" + "x" * len(m.group(1)) + ")", text)

    def code(m):
        inside = any(a <= m.start() < b for a, b in links)
        return m.group() if inside else "`" + "x" * (len(m.group()) - 2) + "`"

    return re.sub(r"`[^`]*`", code, out)
