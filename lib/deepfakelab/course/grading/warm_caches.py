"""Imported once by the grading workers' fork server: the caches every worker would fill itself.

Each worker is forked from a server that has imported nbgrader (:data:`.worker.PRELOAD`), but
nbformat builds its notebook validators on first use, per process: the strict one and the
relaxed one nbgrader also asks for, about 80 ms of every submission's worker. Built here, every
fork starts with them. Only library code runs here, never anything of a submission's.
"""

from __future__ import annotations

import nbformat
from nbformat.validator import get_validator


def warm() -> None:
    """Build nbformat's validators of the current notebook format, strict and relaxed."""
    for relax in (False, True):
        get_validator(version=nbformat.current_nbformat, version_minor=nbformat.current_nbformat_minor,
                      relax_add_props=relax)


warm()
