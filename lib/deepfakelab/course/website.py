"""The course website's address, and the notebooks' links to it made absolute when a lab is released.

The notebooks link each part and each term to the website with site-relative links
(``glossary/#tensor``, ``labs/lab2/#part-4``), because the kit does not know where an
instructor publishes the site. Opened in JupyterLab, a relative link is read as a file next to
the notebook and leads nowhere; so the release, which every student copy comes from, turns them
into absolute links to the address the instructor gives:

- ``DEEPFAKELAB_SITE_URL`` in the environment of ``deepfakelab course release``, or
- ``c.WebsiteLinks.base_url = "https://..."`` in the course's ``nbgrader_config.py``.

:class:`WebsiteLinks` is an nbgrader preprocessor that runs first in ``generate_assignment``
(the course's ``nbgrader_config.py`` puts it there), so the checksums nbgrader records for the
read-only cells are those of the cells the students receive, and validation and autograding see
no change. Without an address the links stay relative and ``course release`` says so in one line.
"""

from __future__ import annotations

import os
import re

from nbconvert.preprocessors import Preprocessor
from traitlets import Bool, Unicode

#: The environment variable that gives the website's address (as ``lab2.website`` reads it).
SITE_ENV = "DEEPFAKELAB_SITE_URL"

#: The website's top-level sections that notebooks link to (``site/docs/``; a test keeps them in step).
SECTIONS = ("glossary", "theory", "labs", "results", "install", "instructors", "reference")

#: A Markdown link or image target: ``](target)`` or ``](target "title")``.
_MARKDOWN_LINK = re.compile(r"\]\((?P<target>[^)\s]+)(?P<rest>[^)]*)\)")
#: An HTML anchor's ``href``.
_HTML_HREF = re.compile(r"""(?P<lead>href=["'])(?P<target>[^"']+)(?P<quote>["'])""")


def site_url(given: str | None = None) -> str | None:
    """The website's address with one trailing slash: ``given``, else ``$DEEPFAKELAB_SITE_URL``, else None."""
    address = (given if given is not None else os.environ.get(SITE_ENV, "")).strip()
    if not address:
        return None
    return address.rstrip("/") + "/"


def is_website_link(target: str) -> bool:
    """Whether ``target`` is a site-relative link into one of the website's :data:`SECTIONS`."""
    return target.split("/", 1)[0].split("#", 1)[0] in SECTIONS


def absolute_website_links(text: str, base: str) -> str:
    """``text`` (a Markdown cell) with every site-relative website link prefixed by ``base``."""

    def markdown(m: re.Match) -> str:
        target = m["target"]
        return f"]({base}{target}{m['rest']})" if is_website_link(target) else m[0]

    def html(m: re.Match) -> str:
        target = m["target"]
        return f"{m['lead']}{base}{target}{m['quote']}" if is_website_link(target) else m[0]

    return _HTML_HREF.sub(html, _MARKDOWN_LINK.sub(markdown, text))


def count_website_links(text: str) -> int:
    """How many site-relative website links ``text`` holds (what a release would rewrite)."""
    return sum(is_website_link(m["target"]) for m in _MARKDOWN_LINK.finditer(text)) + sum(
        is_website_link(m["target"]) for m in _HTML_HREF.finditer(text)
    )


class WebsiteLinks(Preprocessor):
    """nbgrader preprocessor: Markdown cells' website links made absolute (see the module's text)."""

    #: nbconvert runs a preprocessor only when enabled (nbgrader's own are enabled the same way).
    enabled = Bool(True).tag(config=True)
    base_url = Unicode(
        "", help=f"The course website's address; empty: ${SITE_ENV}, else links stay relative."
    ).tag(config=True)

    def preprocess(self, nb, resources):
        base = site_url(self.base_url or None)
        if base is not None:
            for cell in nb.cells:
                if cell.cell_type == "markdown":
                    cell.source = absolute_website_links(cell.source, base)
        return nb, resources
