"""Writing the Markdown pieces that pages include, and the shape of a figure on the page.

A page says ``--8<-- "fig_gan_curves.md"``; this module writes that file, either as the figure
with its caption or, when the part of the kit that draws it is not in this version, as a note
that says so. Either way the page builds under ``mkdocs build --strict``: it never points at
an image that does not exist.
"""

from __future__ import annotations

import textwrap
from dataclasses import dataclass, field
from pathlib import Path

SITE = Path(__file__).resolve().parents[1]
DOCS = SITE / "docs"
GENERATED = SITE / "generated"
FIGURES = DOCS / "figures"


@dataclass
class Figure:
    """One image the kit drew, and what the page says under it.

    ``path`` is the PNG under ``site/docs/figures/``; ``caption`` is Markdown (it may hold
    measured numbers, which the generator computed while drawing the figure).
    """

    snippet: str
    path: Path
    alt: str
    caption: str
    numbers: dict = field(default_factory=dict)


@dataclass
class NotDrawn:
    """A figure a job could not draw in this version of the kit, and why (shown on the page)."""

    snippet: str
    reason: str


def write_snippet(name: str, markdown: str) -> Path:
    """Write ``site/generated/<name>.md`` and return its path."""
    GENERATED.mkdir(parents=True, exist_ok=True)
    path = GENERATED / f"{name}.md"
    path.write_text(markdown.rstrip() + "\n", encoding="utf-8")
    return path


def figure_markdown(figure: Figure) -> str:
    """The figure as Material renders it: the image, then its caption, centred.

    The image link is docs-absolute (``/figures/...``): mkdocs checks it and makes it relative
    to whichever page includes the snippet.
    """
    rel = figure.path.resolve().relative_to(DOCS).as_posix()
    return (
        '<figure markdown="span">\n'
        f"  ![{figure.alt}](/{rel}){{ loading=lazy }}\n"
        f"  <figcaption markdown>{figure.caption}</figcaption>\n"
        "</figure>\n"
    )


def missing_markdown(what: str, reason: str) -> str:
    """A note in place of a figure that this version of the kit cannot draw yet."""
    body = textwrap.indent(
        f"**{what}.** The kit draws this figure itself when the site is built; this build left "
        f"it out: {reason}",
        "    ",
    )
    return f'!!! note "Figure not in this build"\n{body}\n'
