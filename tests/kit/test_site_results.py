"""The website's Install and Results pages (issue 28): the README's depth lives there, and the
Results page quotes the benches' JSON by reference instead of copying its figures.

Nothing is built here (``tests/kit/test_site.py`` builds the site and opens it in a browser); these
check the pages' sources and the generator of the Results page's detection part.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys

import pytest

from helpers import REPO, sitegen

SITE = REPO / "site"
DOCS = SITE / "docs"


@pytest.fixture(scope="module")
def table():
    return sitegen("table_detect_real")


def test_install_and_results_are_in_the_navigation():
    nav = (SITE / "mkdocs.yml").read_text().split("\nnav:", 1)[1]
    assert re.search(r"^  - Install: install\.md$", nav, re.M)
    assert re.search(r"^  - Results: results\.md$", nav, re.M)
    assert nav.index("install.md") < nav.index("theory/index.md")


def test_results_page_includes_the_json_tables_by_reference():
    """The detection and provenance figures reach the page as generated snippets, the same ones
    the theory pages include; the page never types them in."""
    page = (DOCS / "results.md").read_text()
    for snippet in ("table_detect_real.md", "table_detect_real_checks.md", "table_provenance.md"):
        assert f'--8<-- "{snippet}"' in page
    assert '--8<-- "table_detect_real.md"' in (DOCS / "theory" / "detection.md").read_text()
    assert '--8<-- "table_provenance.md"' in (DOCS / "theory" / "provenance.md").read_text()


def test_every_results_table_is_generated_from_committed_json():
    """Issue 28's "the Results page shows every benchmark table from JSON": the page holds no
    table of its own (no Markdown table row), each snippet it includes is written by the site's
    generator from a file in ``site/data/``, and each such file is committed and renders."""
    ALL_TABLES, measured_line = sitegen("results_jobs").ALL_TABLES, sitegen("results").measured_line
    page = (DOCS / "results.md").read_text()
    assert not [line for line in page.splitlines() if line.lstrip().startswith("|")]
    included = set(re.findall(r'--8<-- "([a-z0-9_]+)\.md"', page))
    dedicated = {
        "table_detect_real",
        "table_detect_real_checks",
        "table_detect_leave_out",
        "table_provenance",
    }
    generated = {table.snippet for table in ALL_TABLES}
    assert included == generated | dedicated, included ^ (generated | dedicated)
    for table in ALL_TABLES:
        assert table.path.is_file(), f"site/data/{table.data} is missing: run `{table.command}`"
        data = json.loads(table.path.read_text())
        assert "|" in table.render(data)
        # the same program measured it (its options may differ: the page prints the command as run)
        assert data["measured"]["command"].split()[:2] == table.command.split()[:2]
        assert measured_line(data).startswith("*Measured 20")


def test_checks_part_is_the_bench_json(table):
    """Targets, throughput and AUC by kind of fake come from the file: made-up values reach the
    page, and a file without them gives no part at all."""
    data = {
        "results": {
            "shipped/given": {"real": {"per_kind_video_auc": {"face_swap": 0.512, "self_blend": 0.987}}}
        },
        "fps": 12.34,
        "checks": {"real video AUC >= 0.97": True, "throughput >= 20 frames/s": False},
    }
    text = table.checks_markdown(data)
    rows = [line for line in text.splitlines() if line.startswith("| ") and "---" not in line][1:]
    assert rows == ["| real video AUC >= 0.97 | yes |", "| throughput >= 20 frames/s | **no** |"]
    assert "12.3 frames/s" in text
    assert "self-blend 0.99, face swap 0.51" in text
    assert table.checks_markdown({"results": {}}) == ""


def test_committed_json_fills_the_checks_part(table):
    data = json.loads(table.DATA.read_text())
    text = table.checks_markdown(data)
    assert all(name in text for name in data.get("checks", {}))


def test_snippets_are_written_even_without_the_json(table, tmp_path, monkeypatch):
    """A missing file is a note in the table's place and an empty checks part, so both pages
    that include them still build under ``--strict``."""
    written = {}
    monkeypatch.setattr(table, "write_snippet", lambda name, text: written.__setitem__(name, text))
    assert table.write_detect_real_table(tmp_path / "missing.json") == "missing"
    assert set(written) == {"table_detect_real", "table_detect_real_checks"}
    assert "Table not in this build" in written["table_detect_real"]


def test_make_bench_runs_the_commands_the_page_prints():
    """``make bench`` (``scripts/measure_results.py``) runs each generated table's command as printed
    under it, with this environment's programs, and refuses an unknown table in one line."""
    script = REPO / "scripts" / "measure_results.py"
    listed = subprocess.run([sys.executable, script, "--list"], capture_output=True, text=True, check=True)
    sys.path.insert(0, str(REPO / "scripts"))
    try:
        import measure_results
    finally:
        sys.path.remove(str(REPO / "scripts"))
    ALL_TABLES = sitegen("results_jobs").ALL_TABLES
    assert listed.stdout.splitlines() == [f"{t.snippet}: {t.command}" for t in ALL_TABLES]
    assert measure_results.runnable("python bench/x.py --json a.json") == [
        sys.executable,
        "bench/x.py",
        "--json",
        "a.json",
    ]
    unknown = subprocess.run([sys.executable, script, "--only", "nope"], capture_output=True, text=True)
    assert unknown.returncode == 2 and "no such table: nope" in unknown.stderr
