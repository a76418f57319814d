"""The course website: it builds offline under ``--strict``, and a real browser can use it.

One build (``site/build.py --quick --strict-figures``, figures drawn by the kit) serves every
test here. The browser tests open it in headless Chromium (Debian's ``chromium``, driven by
Playwright) from a local HTTP server on 127.0.0.1, the way a student opens a served copy:
the home page renders, the navigation reaches every theory page and lab guide, search finds
a term, formulas are typeset by the MathJax that ships with the site, images load, and no
request leaves the machine. Screenshots are saved under ``outputs/test-artifacts/site/``.

Without Chromium the browser tests skip with the reason, except in CI (``CI`` set), where
``.ci/run`` installs it and its absence is a failure.
"""

from __future__ import annotations

import functools
import http.server
import json
import os
import re
import subprocess
import sys
import threading
from pathlib import Path
from urllib.parse import urlparse

import pytest

from helpers import REPO

SITE = REPO / "site"
ARTIFACTS = REPO / "outputs" / "test-artifacts" / "site"

#: The pages a student must reach from the navigation: (nav section, link text, URL path).
THEORY_AND_LABS = [
    ("Theory", "Reenactment and FOMM", "theory/reenactment/"),
    ("Theory", "Detecting deepfakes", "theory/detection/"),
    ("Theory", "Provenance: C2PA and watermarks", "theory/provenance/"),
    ("Theory", "GANs", "theory/gans/"),
    ("Theory", "Benefits, risks and the law", "theory/ethics/"),
    ("Labs", "Lab 1: How easy is it to create a deepfake?", "labs/lab1/"),
    ("Labs", "Lab 2: From data to dollars", "labs/lab2/"),
    ("", "Install", "install/"),
    ("", "Glossary", "glossary/"),
    ("", "Results", "results/"),
]


@pytest.fixture(scope="module")
def built_site(tmp_path_factory) -> tuple[Path, dict]:
    """Build the site once into a temporary folder; return (folder, build summary)."""
    out = tmp_path_factory.mktemp("site")
    env = dict(os.environ, MPLBACKEND="Agg", OMP_NUM_THREADS=os.environ.get("OMP_NUM_THREADS", "2"))
    result = subprocess.run(
        [sys.executable, str(SITE / "build.py"), "--quick", "--strict-figures", "--site-dir", str(out)],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    (ARTIFACTS / "build.log").write_text(result.stdout + "\n" + result.stderr)
    assert result.returncode == 0, f"site build failed:\n{result.stdout[-3000:]}\n{result.stderr[-5000:]}"
    summary = json.loads((SITE / "generated" / "build_summary.json").read_text())
    return out, summary


# --------------------------------------------------------------------------- without a browser
def test_every_nav_page_is_built(built_site):
    out, _ = built_site
    for _, _, path in THEORY_AND_LABS:
        assert (out / path / "index.html").is_file(), path
    for path in [
        "index.html",
        "instructors/index.html",
        "reference/cli/index.html",
        "reference/core/index.html",
    ]:
        assert (out / path).is_file(), path


def test_no_page_loads_anything_from_the_network(built_site):
    """No script, stylesheet, font or image is taken from another host (fonts: false, no CDN)."""
    out, _ = built_site
    remote = re.compile(
        r"""<(?:script|link|img|iframe|source)\b[^>]*?\b(?:src|href)=["']?(?:https?:)?//""", re.I
    )
    offenders = []
    for page in out.rglob("*.html"):
        for match in remote.finditer(page.read_text(encoding="utf-8")):
            offenders.append(f"{page.relative_to(out)}: {match.group(0)}")
    assert not offenders, "\n".join(offenders[:20])
    assert "fonts.googleapis" not in "".join(p.read_text() for p in (out / "assets").rglob("*.css"))
    assert (out / "javascripts/vendor/mathjax/tex-chtml.js").is_file()


def test_cli_page_holds_the_help_of_every_command(built_site):
    """The CLI reference is generated from the parser, so every sub-command is on it."""
    out, summary = built_site
    from deepfakelab.cli import build_parser

    html = (out / "reference/cli/index.html").read_text(encoding="utf-8")
    parser = build_parser()
    subcommands = next(a for a in parser._actions if a.__class__.__name__ == "_SubParsersAction").choices
    assert subcommands, "the CLI has no sub-commands at all"
    for name, sub in subcommands.items():
        assert f"deepfakelab {name}" in summary["cli_commands"]
        assert f"usage: deepfakelab {name}" in html, name
        for action in sub._actions:
            for option in action.option_strings:
                assert option in html, f"{name} {option}"


def test_reference_documents_the_modules_in_the_tree(built_site):
    out, summary = built_site
    for part, modules in summary["api_modules"].items():
        html = (out / "reference" / part / "index.html").read_text(encoding="utf-8")
        for module in modules:
            assert f'id="{module}"' in html, f"{module} missing from reference/{part}"
    core = (out / "reference/core/index.html").read_text(encoding="utf-8")
    assert "DeepfakeLabError" in core and "seed_everything" in core


def test_figures_present_in_the_kit_are_drawn(built_site):
    """A figure is only skipped when its part of the kit is not in the tree yet; every figure
    drawn is an image on its page."""
    out, summary = built_site
    for name, job in summary["figures"].items():
        assert job["status"] in ("made", "skipped"), f"{name}: {job['reason']}"
        if job["status"] == "skipped":
            assert "not in this version of the kit" in job["reason"]
        for path in job["figures"].values():
            rel = Path(path).resolve().relative_to(SITE / "docs")
            assert (out / rel).is_file(), rel
    # ...and no page shows a picture pasted in by hand: every content image is a generated figure
    images = re.compile(r'<img [^>]*src="([^"]+)"')
    for page in out.rglob("*.html"):
        content = page.read_text(encoding="utf-8").split("<article", 1)[-1]
        for src in images.findall(content):
            assert "figures/" in src, f"{page.relative_to(out)} shows {src}, which the build did not draw"


# --------------------------------------------------------------------------- in a browser
class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):  # keep pytest's output clean
        pass


@pytest.fixture(scope="module")
def served(built_site):
    """The built site on http://127.0.0.1:<free port>/, for the duration of the module."""
    out, _ = built_site
    server = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(_QuietHandler, directory=str(out))
    )
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()
    server.server_close()


@pytest.fixture
def page(browser, served):
    """A fresh page that records every request; any request to another host is blocked and
    recorded, so nothing leaves the machine even if the site tried."""
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    log = {"requests": [], "blocked": [], "failed": []}

    def route(route):
        url = route.request.url
        log["requests"].append(url)
        host = urlparse(url).hostname
        if urlparse(url).scheme in ("data", "blob", "about") or host == "127.0.0.1":
            route.continue_()
        else:
            log["blocked"].append(url)
            route.abort()

    context.route("**/*", route)
    page = context.new_page()
    page.on("response", lambda r: r.status >= 400 and log["failed"].append(f"{r.status} {r.url}"))
    page.request_log = log
    page.base_url = served
    yield page
    context.close()
    assert not log["blocked"], f"requests tried to leave the machine: {log['blocked']}"
    assert not log["failed"], f"local requests failed: {log['failed']}"


def _shot(page, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=False)


def _images_load(page) -> list[str]:
    """Load every image of the page's content (lazy ones too); return those that failed."""
    return page.evaluate(
        """async () => {
            const images = [...document.querySelectorAll('.md-content img')];
            const results = await Promise.all(images.map(async (img) => {
                img.loading = 'eager';
                try { await img.decode(); } catch (e) {}
                return img.complete && img.naturalWidth > 0 ? null : img.getAttribute('src');
            }));
            return results.filter((r) => r !== null);
        }"""
    )


def test_home_page_renders(page):
    page.goto(page.base_url)
    assert page.title().startswith("deepfakelab")
    assert page.locator("h1").first.is_visible()
    body = page.locator(".md-content").inner_text()
    assert "make demo" in body and "make test" in body
    assert not _images_load(page)
    _shot(page, "home")


def test_navigation_reaches_every_theory_page_and_lab_guide(page):
    page.goto(page.base_url)
    sidebar = page.locator(".md-sidebar--primary")
    for section, text, path in THEORY_AND_LABS:
        link = sidebar.get_by_role("link", name=text, exact=True)
        assert link.count() >= 1, f"no link {text!r} in the navigation"
        link.first.click()
        page.wait_for_url(f"**/{path}")
        heading = page.locator(".md-content h1").first
        assert heading.is_visible(), path
        broken = _images_load(page)
        assert not broken, f"{path}: images that did not load: {broken}"
        _shot(page, path.strip("/").replace("/", "_"))


def test_search_finds_a_term(page):
    page.goto(page.base_url)
    # The search worker indexes every page first (seconds on a loaded 2-core machine); a query
    # typed before it is ready is not run again, so wait for Material to say it is ready.
    page.wait_for_function(
        "() => { const m = document.querySelector('.md-search-result__meta');"
        " return m && m.textContent.trim() && !m.textContent.includes('Initializing'); }",
        timeout=90000,
    )
    page.locator("label.md-search__icon, .md-search__input").first.click()
    # typed key by key, as a person does: Material runs the query on keyboard events
    page.locator("input.md-search__input").press_sequentially("discriminator", delay=30)
    results = page.locator(".md-search-result__item")
    results.first.wait_for(state="visible", timeout=30000)
    assert results.count() >= 1
    text = page.locator(".md-search-result").inner_text().lower()
    assert "discriminator" in text
    _shot(page, "search")
    results.first.locator("a").first.click()
    page.wait_for_load_state()
    assert "discriminator" in page.locator(".md-content").inner_text().lower()


def test_formulas_are_typeset(page):
    page.goto(page.base_url + "theory/gans/")
    page.wait_for_function("() => window.MathJax && MathJax.startup && MathJax.startup.promise")
    page.evaluate("() => MathJax.startup.promise")
    formulas = page.locator(".arithmatex")
    typeset = page.locator(".arithmatex mjx-container")
    assert formulas.count() >= 3
    assert typeset.count() == formulas.count(), "some formulas were left as TeX source"
    # CommonHTML output draws glyphs with the shipped fonts: the typeset formula has real size.
    box = page.locator(".arithmatex mjx-container").first.bounding_box()
    assert box and box["width"] > 5 and box["height"] > 5
    page.locator(".arithmatex").nth(0).scroll_into_view_if_needed()
    _shot(page, "formula")


def test_fomm_figures_follow_the_model_api(tmp_path):
    """The FOMM figures are only drawn when trained weights are given; this proves their code
    still runs against the kit's model (a small random one here, a few frames) so that a build
    with weights does not break."""
    pytest.importorskip("deepfakelab.reenact.fomm.animate")
    pytest.importorskip("deepfakelab.heads")
    sys.path.insert(0, str(SITE))
    try:
        from sitegen import fig_reenact
    finally:
        sys.path.remove(str(SITE))
    from deepfakelab.reenact.fomm.model import build_model

    figures = fig_reenact.fomm_figures(
        build_model("fomm-small-64"), tmp_path, "random init", size=64, frames=4
    )
    assert [f.snippet for f in figures] == [*fig_reenact.FOMM_SNIPPETS, "fig_reenact_strip"]
    for figure in figures:
        assert figure.path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", figure.path


def test_detector_maps_figure_follows_the_detect_api(tmp_path):
    """Like the FOMM figures, the maps figure needs trained weights to be published; this runs its
    code on an untrained detector so that it keeps up with the detect package."""
    pytest.importorskip("deepfakelab.fakes.synthetic")
    pytest.importorskip("deepfakelab.heads")
    sys.path.insert(0, str(SITE))
    try:
        from sitegen import fig_detect
    finally:
        sys.path.remove(str(SITE))
    from deepfakelab.detect.model import DetectorConfig, build_detector

    config = DetectorConfig()
    figure = fig_detect.maps_figure(build_detector(config).eval(), config, tmp_path, "random init")
    assert figure.snippet == "fig_detect_cam"
    assert figure.path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    # one pointing-game verdict per fake and method: the figure shows what it claims
    assert set(figure.numbers) == set(fig_detect.MAP_METHODS)
    assert all(len(v) == 2 for v in figure.numbers.values())


def _table_module():
    sys.path.insert(0, str(SITE))
    try:
        from sitegen import table_detect_real
    finally:
        sys.path.remove(str(SITE))
    return table_detect_real


def test_real_face_table_shows_every_detector_and_column_of_the_bench_json(tmp_path, monkeypatch):
    """The detection page's table is the bench's JSON, row for row: numbers from a made-up JSON
    reach the table, the share of reals called fake is shown as a count, and a missing file is a
    note, not a broken build."""
    table = _table_module()
    rng = __import__("numpy").random.default_rng(0)
    keys = [k for _, k in table.COLUMNS]

    def row():
        real = {k: float(rng.random()) for k in keys if not k.startswith("synthetic:")}
        real.update(
            real_videos=5,
            fake_videos=15,
            frames=700,
            reals_called_fake=0.6,
            real_photos=10,
            fake_photos=40,
            photos_called_fake=0.2,
        )
        return {"real": real, "synthetic": {"video_auc": float(rng.random())}}

    data = {"results": {"shipped/given": row(), "kitnet (synthetic only)": row()}, "test_persons": 5}
    path = tmp_path / "detect_real.json"
    path.write_text(json.dumps(data))
    monkeypatch.setattr(table, "write_snippet", lambda name, text: (tmp_path / f"{name}.md").write_text(text))
    assert table.write_detect_real_table(path) == "made"
    text = (tmp_path / "table_detect_real.md").read_text()
    lines = [line for line in text.splitlines() if line.startswith("| ") and "---" not in line]
    assert len(lines) == 1 + len(data["results"])
    for line, (name, r) in zip(lines[1:], data["results"].items()):
        cells = [c.strip() for c in line.strip("|").split("|")]
        assert cells[0] == table.NAMES.get(name, name) and len(cells) == 1 + len(table.COLUMNS)
        assert cells[1 + keys.index("frame_auc")] == f"{r['real']['frame_auc']:.3f}"
        assert cells[1 + keys.index("reals_called_fake")] == "3 of 5"
        assert cells[1 + keys.index("photos_called_fake")] == "2 of 10"
        assert cells[1 + keys.index("identity_leak_gap")] == f"{r['real']['identity_leak_gap']:+.2f}"
        assert cells[-1] == f"{r['synthetic']['video_auc']:.3f}"
    assert "5 held-out people" in text and table.COMMAND in text
    assert (
        "identity-leak gap: the shipped" not in text
    )  # a file from before the gap was measured: no sentence
    data["results"]["shipped/given"]["real"]["real_score_by_split"] = {
        "train": 0.4412,
        "val": 0.7775,
        "test": 0.6961,
    }
    assert "trained on, 0.78 for the validation people and 0.70 for the test people" in table.table_markdown(
        data
    )
    assert "10 real photos against the 40 fakes" in table.table_markdown(data)
    first = data["results"]["shipped/given"]["real"]
    assert (
        f"its video AUC is {first['video_auc_within_person']:.3f}, against {first['video_auc']:.3f} pooled"
        in table.table_markdown(data)
    )
    assert table.write_detect_real_table(tmp_path / "missing.json") == "missing"
    assert "Table not in this build" in (tmp_path / "table_detect_real.md").read_text()


def test_committed_real_face_numbers_are_aggregates_for_every_detector():
    """site/data/detect_real.json: the three rows the issue asks for, every column there, and
    nothing per video or per person (no file names of the shared videos)."""
    table = _table_module()
    text = table.DATA.read_text()
    data = json.loads(text)
    assert len(data["results"]) >= 3
    for row in data["results"].values():
        for _, key in table.COLUMNS:
            part, k = ("synthetic", key.split(":")[1]) if ":" in key else ("real", key)
            assert isinstance(row[part][k], float), (part, k)
    from deepfakelab.fakes.roster import Roster

    assert not [f for f in Roster.shared().persons if f in text]


def test_detection_page_shows_the_real_face_table(built_site):
    out, summary = built_site
    assert summary["detect_real_table"] == "made"
    page = (out / "theory" / "detection" / "index.html").read_text()
    assert "held-out people" in page and "video AUC after JPEG 50" in page
    assert page.count("<tr>") >= 4  # a header and the three detectors


def _provenance_table_module():
    sys.path.insert(0, str(SITE))
    try:
        from sitegen import table_provenance
    finally:
        sys.path.remove(str(SITE))
    return table_provenance


def test_provenance_table_is_the_bench_json(tmp_path, monkeypatch):
    """The provenance page's robustness table is site/data/provenance.json, attack for attack: made-up
    rates reach the table as counts of what was measured, the command that measured them is
    named, and a missing file is a note, not a broken build."""
    table = _provenance_table_module()
    data = json.loads(table.DATA.read_text())
    data["generated"]["recovered_clips"] = {key: (i + 1) / 10 for i, (key, _) in enumerate(table.ATTACKS)}
    data["generated"].update(clips=10, single_frames_scored=40)
    data["real_media"].update(files=1000, false_positives=0)
    monkeypatch.setattr(table, "write_snippet", lambda name, text: (tmp_path / f"{name}.md").write_text(text))
    path = tmp_path / "provenance.json"
    path.write_text(json.dumps(data))
    assert table.write_provenance_table(path) == "made"
    text = (tmp_path / "table_provenance.md").read_text()
    rows = [line for line in text.splitlines() if line.startswith("| ") and "---" not in line][1:]
    assert len(rows) == len(table.ATTACKS)
    for i, (row, (key, label)) in enumerate(zip(rows, table.ATTACKS)):
        cells = [c.strip() for c in row.strip("|").split("|")]
        assert cells[0] == label and cells[1] == f"{i + 1} of 10 ({10 * (i + 1)} %)"
        single = data["generated"]["recovered_single_frames"][key]
        assert cells[2] == f"{round(single * 40)} of 40 ({100 * single:.0f} %)"
    assert "0 of 1000 real photos and videos" in text and data["command"] in text
    assert table.write_provenance_table(tmp_path / "missing.json") == "missing"
    assert "Table not in this build" in (tmp_path / "table_provenance.md").read_text()


def test_provenance_page_shows_the_measured_table_and_the_detection_page_links_it(built_site):
    out, summary = built_site
    assert summary["provenance_table"] == "made"
    page = (out / "theory" / "provenance" / "index.html").read_text()
    assert "payload recovered, whole clip" in page and "Article 50" in page
    assert page.count("<tr>") == 1 + len(_provenance_table_module().ATTACKS)
    assert 'href="../provenance/"' in (out / "theory" / "detection" / "index.html").read_text()


def test_leave_out_table_shows_each_left_out_kind_beside_the_detector_that_saw_it(tmp_path, monkeypatch):
    """The left-out kinds' table is the bench's JSON: each kind a row, its AUCs with the shipped
    detector's in brackets, a kind with no real videos (FOMM) a dash there, a missing file a note."""
    sys.path.insert(0, str(SITE))
    try:
        from sitegen import table_detect_leave_out as table
    finally:
        sys.path.remove(str(SITE))
    data = {
        "results": {
            "mesh_warp": {
                "left_out": {"video_auc": 0.9123, "photo_auc": 0.8},
                "seen": {"video_auc": 0.99, "photo_auc": 0.97},
            },
            "fomm": {"left_out": {"synthetic_video_auc": 0.75}, "seen": {"synthetic_video_auc": 1.0}},
        },
        "measured": "2 threads",
    }
    text = table.table_markdown(data)
    assert "| the kit's mesh warp | 0.912 (0.990) | 0.800 (0.970) | - |" in text
    assert "| FOMM (synthetic heads only) | - | - | 0.750 (1.000) |" in text and "(2 threads)" in text
    monkeypatch.setattr(table, "write_snippet", lambda name, body: (tmp_path / f"{name}.md").write_text(body))
    assert table.write_detect_leave_out_table(tmp_path / "missing.json") == "missing"
    assert "Table not in this build" in (tmp_path / "table_detect_leave_out.md").read_text()


#: TeX that MathJax should have typeset, or a Markdown escape that should have been consumed,
#: seen in a page's rendered prose (code blocks and typeset formulas removed first).
TEX_LEFT_OVER = re.compile(r"\\(?:frac|text|qquad|sum|partial|alpha|mathrm|cdot|log|exp)\b|\\[()\[\]_]")


def test_no_page_shows_tex_left_over(page, built_site):
    """Every page's prose after MathJax has run: no formula left as TeX source (the detection
    page once showed its softmax as ``[ P(\\text{fake}) = \\frac...]``) and no ``kernel\\_size``."""
    out, _ = built_site
    paths = sorted(
        p.parent.relative_to(out).as_posix()
        for p in out.rglob("index.html")
        if "reference" not in p.parts and p.parent != out / "search"
    )
    bad = {}
    for path in paths:
        page.goto(page.base_url + (path + "/" if path != "." else ""))
        page.wait_for_function("() => !window.MathJax || (MathJax.startup && MathJax.startup.promise)")
        page.evaluate("() => window.MathJax && MathJax.startup.promise")
        prose = page.evaluate("""() => {
            const content = document.querySelector('.md-content');
            if (!content) return '';
            const copy = content.cloneNode(true);
            copy.querySelectorAll('pre, code, mjx-container, script').forEach((e) => e.remove());
            return copy.textContent;
        }""")
        found = TEX_LEFT_OVER.findall(prose)
        if found:
            bad[path] = sorted(set(found))
    assert not bad, f"TeX left over in the rendered pages: {bad}"
