"""Run the figure jobs: each draws the site's figures for one part of the kit, with its own API.

A job names the modules it needs. When one of them is not in this version of the kit, the job
is skipped with a printed note and its snippets become notes on the page ("Figure not in this
build"), so the site still builds. When the modules are there and the job fails anyway, that
is a real error (the figure would no longer match the code): with ``strict`` it stops the
build, otherwise it is printed and the page gets a note.
"""

from __future__ import annotations

import importlib.util
import time
import traceback
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from .snippets import FIGURES, Figure, NotDrawn, figure_markdown, missing_markdown, write_snippet


@dataclass
class FigureJob:
    """Figures of one part. ``make(out_dir, quick)`` returns a :class:`Figure` for each figure
    it drew and a :class:`NotDrawn` (with the reason) for each it cannot draw in this version."""

    name: str
    requires: list[str]
    snippets: dict[str, str]  # snippet name -> what the figure shows (for the note)
    make: Callable[[Path, bool], list[Figure | NotDrawn]]


class FigureJobFailed(RuntimeError):
    """A job whose modules exist failed: the figure no longer matches the code."""


def _missing(modules: list[str]) -> list[str]:
    missing = []
    for name in modules:
        try:
            if importlib.util.find_spec(name) is None:
                missing.append(name)
        except ModuleNotFoundError:
            missing.append(name)
    return missing


def run_jobs(jobs: list[FigureJob], quick: bool = False, strict: bool = False) -> dict:
    """Run every job; write a snippet for every figure a page includes; return a summary.

    The summary maps job name to ``{"status": "made" | "skipped" | "failed", "seconds": ...,
    "figures": [...], "numbers": {...}, "reason": ...}``.
    """
    summary = {}
    for job in jobs:
        out_dir = FIGURES / job.name
        out_dir.mkdir(parents=True, exist_ok=True)
        start = time.perf_counter()
        missing = _missing(job.requires)
        made: dict[str, Figure] = {}
        not_drawn: dict[str, str] = {}
        if missing:
            reason = (
                f"`{', '.join(missing)}` is not in this version of the kit yet, so the site's "
                "figure script skipped it."
            )
            status = "skipped"
            print(f"[figures] {job.name}: skipped, not in the kit yet: {', '.join(missing)}")
        else:
            try:
                for item in job.make(out_dir, quick):
                    if isinstance(item, NotDrawn):
                        not_drawn[item.snippet] = item.reason
                        print(f"[figures] {job.name}: {item.snippet} not drawn: {item.reason}")
                    else:
                        made[item.snippet] = item
                status, reason = "made", ""
            except Exception as exc:  # report, then fail or degrade as asked
                detail = "".join(traceback.format_exception_only(type(exc), exc)).strip()
                if strict:
                    raise FigureJobFailed(
                        f"figure job {job.name!r} failed although {job.requires} exist: {detail}"
                    ) from exc
                traceback.print_exc()
                status = "failed"
                reason = f"the figure script failed on this version of the kit (`{detail}`)."
                print(f"[figures] {job.name}: FAILED: {detail}")
        for snippet, what in job.snippets.items():
            if snippet in made:
                write_snippet(snippet, figure_markdown(made[snippet]))
            else:
                why = not_drawn.get(snippet) or reason or "this version of the kit does not draw it yet."
                write_snippet(snippet, missing_markdown(what, why))
        seconds = round(time.perf_counter() - start, 1)
        if status == "made":
            print(f"[figures] {job.name}: {len(made)} figure(s) in {seconds} s")
        summary[job.name] = {
            "status": status,
            "seconds": seconds,
            "figures": {k: str(v.path) for k, v in made.items()},
            "numbers": {k: v.numbers for k, v in made.items() if v.numbers},
            "reason": reason,
            "not_drawn": not_drawn,
        }
    return summary
