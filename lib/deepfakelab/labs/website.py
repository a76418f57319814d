"""Where the labs' notebooks say their *website* links lead: the course website's address.

Both notebooks link to the course website's pages (the lab's guide, the glossary) by relative
paths, which an instructor's release makes absolute (:mod:`deepfakelab.course.website`, the one
home of the site's address); the set-up cells print one line saying where the website is
(:func:`website_line`), for a copy whose links are still relative (the kit's own).
"""

from __future__ import annotations

from pathlib import Path

from ..course.website import SITE_ENV, site_url


def website() -> str | None:
    """The course website's address: ``$DEEPFAKELAB_SITE_URL``, else the kit's own local build
    (``site/_build/``, made by ``make site``) as a ``file://`` address, else None."""
    given = site_url()
    if given:
        return given
    built = Path(__file__).resolve().parents[3] / "site" / "_build"
    if (built / "index.html").is_file():
        return built.as_uri() + "/"
    return None


def website_line() -> str:
    """One line for the notebook's set-up cell: where the links marked *website* lead."""
    base = website()
    if base is None:
        return (
            "Course website: your instructor gives its address (a release with it makes this notebook's "
            f"links open; set {SITE_ENV} to have it printed here)."
        )
    return f"Course website: {base} (e.g. the glossary: {base}glossary/)"
