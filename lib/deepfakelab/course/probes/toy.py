"""Probes of the toy assignment (:mod:`deepfakelab.course.toy`): the machinery of probes, in miniature.

Public code, like every probe (see :mod:`deepfakelab.course.probes`): it reports what the
student's function returned, as data, and says nothing of what is right.
"""

from __future__ import annotations


def returned_type(student, name: str, *args) -> dict:
    """What the student's function ``name(*args)`` returns: its type's name, and the types of its items."""
    value = getattr(student, name)(*args)
    items = list(value) if isinstance(value, (list, tuple)) else []
    return {"type": type(value).__name__, "item_types": sorted({type(v).__name__ for v in items})}
