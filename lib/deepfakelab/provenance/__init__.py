"""Provenance marks on what the kit generates, and their check (issue 30).

A map:

- :mod:`.watermark` -- an invisible watermark in the pixels of every generated frame (kit version,
  a short file id), found again without the original, after crops and downscales.
- :mod:`.c2pa_manifest` -- a signed C2PA manifest in the file: created by trained algorithmic media,
  by deepfakelab, from these inputs (by hash); the signing key (the instructor's or a local one).
- :mod:`.marking` -- both marks applied where the kit writes a generated file.
- :mod:`.verify` -- reading both back for ``deepfakelab verify``; :mod:`.cli` registers it.

The visible label band and the metadata label (:mod:`deepfakelab.media.writer`) stay: they are for
people; these marks are for machines.
"""
