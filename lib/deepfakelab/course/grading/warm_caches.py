"""Imported first by the grading workers' fork server: its start, and the caches every worker would fill itself.

The fork server is a fresh interpreter that imports the modules of :data:`.worker.PRELOAD` in
order, and every worker and feedback process is a fork of it. This module comes first, so the
server's set-up (:func:`..startup.skip_iri_parser`) happens before nbgrader and nbformat are
imported. Then nbformat's notebook validators, which it builds on first use, per process: the
strict one and the relaxed one nbgrader also asks for, about 80 ms of every submission's
worker. Built here, every fork starts with them. Only library code runs here, never anything
of a submission's.
"""

from __future__ import annotations

from ..startup import skip_iri_parser


def warm() -> None:
    """Build nbformat's validators of the current notebook format, strict and relaxed."""
    import nbformat  # deferred: the fork server imports nbformat only after skip_iri_parser() (start_server)
    from nbformat.validator import get_validator  # deferred: as nbformat

    for relax in (False, True):
        get_validator(
            version=nbformat.current_nbformat,
            version_minor=nbformat.current_nbformat_minor,
            relax_add_props=relax,
        )


def start_server() -> None:
    """What the fork server does once, before it imports anything else and forks any process."""
    skip_iri_parser()
    warm()


start_server()
