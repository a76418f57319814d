"""The Results page's tables, generated from the JSON files the benches write into ``site/data/``.

A bench measures for minutes, so the site build does not run it: the bench writes its numbers
once (``python bench/NAME.py --json site/data/NAME.json``, committed), and the build turns each
file into a Markdown snippet the page includes. A figure therefore lives in one file; the page,
the README and the weights' cards quote it by reference. Each file carries the ``measured`` block
of :mod:`deepfakelab.measured` (command, date, machine, load), printed under its table. A
missing file becomes a note that names the command, so the site still builds.

One :class:`ResultsTable` per file; the renderers live in the ``table_*`` modules by subject and
the list in :mod:`sitegen.results_jobs`.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from .snippets import SITE, write_snippet

DATA = SITE / "data"


@dataclass(frozen=True)
class ResultsTable:
    """One bench's JSON file and how the page shows it.

    ``render`` turns the file's content into Markdown (the table and what it means); the
    "measured by" line is added here, the same for every table.
    """

    snippet: str
    data: str
    command: str
    render: Callable[[dict], str]

    @property
    def path(self) -> Path:
        return DATA / self.data


def markdown_table(header: Sequence[str], rows: Sequence[Sequence[object]], align: str = "") -> str:
    """A pipe table; ``align`` is one letter per column, ``l`` or ``r`` (default: first left, rest right)."""
    align = align or "l" + "r" * (len(header) - 1)
    rule = ["---:" if a == "r" else "---" for a in align]
    lines = ["| " + " | ".join(header) + " |", "| " + " | ".join(rule) + " |"]
    lines += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]
    return "\n".join(lines)


def number(value: float | None, digits: int = 2, suffix: str = "") -> str:
    """A number as the tables print it, ``-`` for a missing one."""
    return "-" if value is None else f"{value:.{digits}f}{suffix}"


def measured_line(data: dict) -> str:
    """``*Measured 2026-12-07* by `command` (...)``: the circumstances a number needs beside it."""
    info = data.get("measured")
    if not info:
        return "*When and where this was measured was not recorded in the file.*"
    load = [info.get("load_average_before"), info.get("load_average_after")]
    load_text = (
        f"load average {load[0]:.1f} before and {load[1]:.1f} after"
        if None not in load
        else "load average not recorded"
    )
    count = info.get("threads")
    threads = f"{count} torch thread{'s' if count != 1 else ''}, " if count else ""
    wall = info.get("wall_s")
    took = f", {wall / 60:.0f} min" if wall and wall >= 90 else (f", {wall:.0f} s" if wall else "")
    return (
        f"*Measured {info['date']}* by `{info['command']}` (kit {info['kit_version']}; {info['machine']}; "
        f"{threads}{load_text}{took})."
    )


def write_results_table(table: ResultsTable) -> str:
    """Write one table's snippet; ``"made"`` or ``"missing"`` (a note on the page)."""
    if not table.path.is_file():
        write_snippet(
            table.snippet,
            f'!!! note "Table not in this build"\n    `site/data/{table.data}` is missing; '
            f"`{table.command}` measures it.\n",
        )
        return "missing"
    data = json.loads(table.path.read_text())
    write_snippet(table.snippet, table.render(data).rstrip() + "\n\n" + measured_line(data) + "\n")
    return "made"


def write_results_tables(tables: Sequence[ResultsTable]) -> dict[str, str]:
    """Every table's snippet: ``{snippet: "made" | "missing"}``."""
    return {table.snippet: write_results_table(table) for table in tables}
