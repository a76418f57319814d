"""Where the labs' notebooks say their *website* links lead: the course website's address.

Both notebooks link to the course website's pages (the lab's guide, the glossary) by relative
paths; their set-up cells print one line saying where those links lead (:func:`website_line`).
"""

from __future__ import annotations

import os
from pathlib import Path

#: The course website's address, if the instructor gives it (``export DEEPFAKELAB_SITE_URL=...``).
SITE_ENV = "DEEPFAKELAB_SITE_URL"


def website() -> str | None:
    """The course website's address: ``$DEEPFAKELAB_SITE_URL``, else the kit's own local build
    (``site/_build/``, made by ``make site``) as a ``file://`` address, else None."""
    given = os.environ.get(SITE_ENV, "").strip()
    if given:
        return given if given.endswith("/") else given + "/"
    built = Path(__file__).resolve().parents[3] / "site" / "_build"
    if (built / "index.html").is_file():
        return built.as_uri() + "/"
    return None


def website_line() -> str:
    """One line for the notebook's set-up cell: where the links marked *website* lead."""
    base = website()
    if base is None:
        return ("Course website: links in this notebook are relative to its address (your instructor "
                f"gives it; set {SITE_ENV} to have it printed here).")
    return f"Course website: {base} -- links in this notebook are relative to it, e.g. {base}glossary/"


