"""A griffe extension: Sphinx cross-reference roles in docstrings, shown as code on the site.

The kit's docstrings use Sphinx roles (``:class:`~deepfakelab.errors.DeepfakeLabError```,
``:func:`train```) because they read well in ``help()`` and in editors. mkdocstrings renders
Markdown, where a role would appear literally; this rewrites each role to inline code with the
name a reader expects (the last component when the role starts with ``~``). Loaded by
``site/mkdocs.yml``; it changes only what the site shows, never the code.
"""

from __future__ import annotations

import re

import griffe

ROLE = re.compile(
    r":(?:py:)?(?:class|func|meth|mod|data|attr|exc|obj|const|type):`(~?)\.?([^`<]+?)(?:\s*<([^>]+)>)?`"
)


def _code(match: re.Match) -> str:
    short, target, explicit = match.group(1), match.group(2).strip(), match.group(3)
    if explicit:  # :func:`title <target>`
        return f"`{target}`"
    return f"`{target.rsplit('.', 1)[-1] if short else target}`"


def rewrite_roles(text: str) -> str:
    """``:class:`~a.b.C``` -> ```C```; ``:func:`a.f``` -> ```a.f```."""
    return ROLE.sub(_code, text)


class SphinxRoles(griffe.Extension):
    """Rewrites Sphinx roles in every docstring griffe loads."""

    def on_instance(self, *, node, obj, agent, **kwargs) -> None:  # noqa: ARG002 (griffe's hook signature)
        if obj.docstring is not None:
            obj.docstring.value = rewrite_roles(obj.docstring.value)
