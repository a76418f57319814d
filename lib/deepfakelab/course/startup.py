"""Set-up for a process that grades or releases: called at its start, never by an import.

jsonschema (under nbformat) imports ``rfc3987_syntax`` when that is installed, and it builds a
parser at import time: one to three seconds of every process that imports nbformat, and grading
imports it in the instructor's process (the ``deepfakelab`` command, Gradescope's entry point)
and in the workers' fork server. The notebooks never use the IRI formats that parser checks, so
these processes skip it: :func:`skip_iri_parser` is called by :func:`deepfakelab.cli.main`, by
the fork server as it starts (:mod:`.grading.warm_caches`, the first module it imports; each
worker and feedback process is a fork of it), and by :func:`.gradescope.main`. A student's
kernel, the hidden checks' pytest and the sandboxed student server never import jsonschema.
"""

from __future__ import annotations

import sys


def skip_iri_parser() -> None:
    """Keep jsonschema from importing ``rfc3987_syntax`` in this process, unless it is imported already.

    Call it before nbformat is imported; afterwards it changes nothing.
    """
    sys.modules.setdefault("rfc3987_syntax", None)
