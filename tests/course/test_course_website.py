"""The notebooks' links to the course website become absolute in a release (issue #31).

A site-relative link opens nothing in JupyterLab (it is read as a file beside the notebook), so
``generate_assignment`` makes each one absolute to the address the instructor gives, before
nbgrader records its checksums: the released cells validate as they are.
"""

from __future__ import annotations

import json
import re

import pytest

from deepfakelab.course.layout import kit_root
from deepfakelab.course.website import SECTIONS, SITE_ENV, absolute_website_links, is_website_link, site_url

KIT = kit_root()
LABS = sorted(p.name for p in (KIT / "solutions").iterdir() if p.is_dir())
BASE = "https://course.example.org/deepfakelab/"


def test_site_relative_links_get_the_base_and_nothing_else_does():
    text = (
        'See [tensor](glossary/#tensor), [part 4](labs/lab2/#part-4 "Part 4"), '
        '<a href="theory/gans/">GANs</a>, [kept](https://pytorch.org/), [anchor](#part-2), '
        "![fig](figures/loss.png), [mail](mailto:a@b.c) and [glossaryx](glossaryx/)."
    )
    out = absolute_website_links(text, BASE)
    assert f"[tensor]({BASE}glossary/#tensor)" in out
    assert f'[part 4]({BASE}labs/lab2/#part-4 "Part 4")' in out
    assert f'<a href="{BASE}theory/gans/">' in out
    for kept in (
        "(https://pytorch.org/)",
        "(#part-2)",
        "(figures/loss.png)",
        "(mailto:a@b.c)",
        "(glossaryx/)",
    ):
        assert kept in out
    assert absolute_website_links(out, BASE) == out  # a second release changes nothing


def test_the_address_gets_one_trailing_slash_and_the_environment_is_the_fallback(monkeypatch):
    monkeypatch.delenv(SITE_ENV, raising=False)
    assert site_url() is None and site_url("  ") is None
    assert site_url("https://x.org/site") == site_url("https://x.org/site//") == "https://x.org/site/"
    monkeypatch.setenv(SITE_ENV, "https://env.org")
    assert site_url() == "https://env.org/"


def test_the_sections_are_the_websites_and_cover_every_relative_link_in_the_notebooks():
    docs = KIT / "site" / "docs"
    for section in SECTIONS:
        assert (docs / section).is_dir() or (docs / f"{section}.md").is_file(), section
    targets = set()
    for notebook in (KIT / "solutions").glob("*/*.ipynb"):
        for cell in json.loads(notebook.read_text())["cells"]:
            if cell["cell_type"] == "markdown":
                targets |= set(re.findall(r"\]\(([^)\s]+)", "".join(cell["source"])))
    relative = {t for t in targets if not re.match(r"^([a-z]+:|#|/)", t)}
    assert relative, "the notebooks link to the website"
    assert all(is_website_link(t) for t in relative), sorted(t for t in relative if not is_website_link(t))


@pytest.mark.parametrize("site", [BASE, None], ids=["with an address", "without"])
def test_a_release_makes_the_links_absolute_and_its_checksums_hold(tmp_path, monkeypatch, site):
    pytest.importorskip("nbgrader")
    from nbgrader.utils import compute_checksum
    import nbformat

    from deepfakelab.course.layout import init_course
    from deepfakelab.course.release import generate_assignment, relative_website_links

    monkeypatch.delenv(SITE_ENV, raising=False)
    lab = LABS[-1]
    course = init_course(tmp_path / "course", [lab])
    release = generate_assignment(course, lab, site)
    (notebook,) = release.glob("*.ipynb")
    nb = nbformat.read(notebook, as_version=4)
    markdown = "\n".join(c.source for c in nb.cells if c.cell_type == "markdown")
    if site is None:
        assert relative_website_links(release)[notebook.name] > 10
        assert BASE not in markdown
        return
    assert relative_website_links(release) == {}
    assert markdown.count(BASE) > 10
    checked = [c for c in nb.cells if "checksum" in c.metadata.get("nbgrader", {})]
    assert checked and all(compute_checksum(c) == c.metadata.nbgrader.checksum for c in checked)
