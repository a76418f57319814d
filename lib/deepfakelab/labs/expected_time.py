"""How long each part of a lab takes, estimated from its notebook by one rule for both labs.

Not a measurement: a count of what each part asks -- its words to read, the lines of the
solution to write, its written answers, its cells to run and their measured running time -- at
the rates below, each part rounded to the nearest 5 minutes (at least 5). The notebooks' and the
guides' tables of parts quote these numbers, and tests keep them equal. Each lab gives its own
headings and running times (:func:`deepfakelab.labs.lab1.notebook.expected_minutes`,
:func:`deepfakelab.labs.lab2.notebook.expected_minutes`).
"""

from __future__ import annotations

import json
import re
from pathlib import Path

#: Reading speed for new, technical text (and for the code cells a part gives), in words a minute.
READING_WPM = 120
#: Minutes per line of the instructor's solution: writing it with the hints at hand, running the
#: checks, fixing a mistake.
MINUTES_PER_LINE = 1.0
#: Minutes per written answer; the 4-point question is longer.
MINUTES_PER_ANSWER, MINUTES_PER_LONG_ANSWER = 10, 15
#: Minutes per code cell to run and look at.
MINUTES_PER_CELL = 1.0


def expected_minutes(notebook: str | Path, heading: str, compute_seconds: dict[str, float]) -> dict[str, int]:
    """The expected time per part of ``notebook``, in minutes, by the rule above.

    Parts begin at the headings ``heading`` matches (a regular expression, the part's number in
    group 1); ``"start"`` is the introduction and the set-up cell, ``"hand in"`` the final
    restart-and-run-all (``## Before you hand in``). ``compute_seconds``: the measured running
    time of the cells that work, by part.
    """
    cells = json.loads(Path(notebook).read_text())["cells"]
    heading_pattern, compute = heading, compute_seconds
    counts: dict[str, dict[str, float]] = {}
    part = "start"
    for cell in cells:
        source = "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]
        heading = re.match(heading_pattern, source)
        if heading:
            part = heading.group(1)
        elif source.startswith("## Before you hand in"):
            part = "hand in"
        meta = cell.get("metadata", {}).get("nbgrader", {})
        c = counts.setdefault(part, {"words": 0, "lines": 0, "answers": 0, "cells": 0})
        if cell["cell_type"] == "markdown":
            if meta.get("solution"):
                c["answers"] += MINUTES_PER_LONG_ANSWER if meta.get("points", 0) >= 4 else MINUTES_PER_ANSWER
            else:
                c["words"] += len(
                    re.findall(r"[A-Za-z0-9_']+", re.sub(r"<details>.*?</details>", "", source, flags=re.S))
                )
            continue
        c["cells"] += 1
        if meta.get("solution"):
            found = re.search(r"### BEGIN SOLUTION\n(.*?)### END SOLUTION", source, re.S)
            body = found.group(1) if found else ""
            c["lines"] += sum(
                1 for line in body.splitlines() if line.strip() and not line.strip().startswith("#")
            )
        elif not meta.get("grade"):
            c["words"] += len(re.findall(r"[A-Za-z0-9_']+", source))
    minutes = {}
    for part, c in counts.items():
        raw = (
            c["words"] / READING_WPM
            + c["lines"] * MINUTES_PER_LINE
            + c["answers"]
            + c["cells"] * MINUTES_PER_CELL
            + compute.get(part, 0) / 60
        )
        minutes[part] = max(5, 5 * round(raw / 5))
    return minutes
