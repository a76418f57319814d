"""Generators for the course website: figures, CLI help and API reference, written as files.

The site's pages never paste in a figure or a help text by hand. ``site/build.py`` runs these
generators first; they write images under ``site/docs/figures/`` and small Markdown pieces
("snippets") under ``site/generated/``, which the pages include with ``--8<--``. Both folders
are git-ignored, so what the site shows is always what the code in this checkout does.
"""
