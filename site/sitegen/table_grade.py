"""The Results page's grading table, from ``site/data/grade.json``.

``bench/grade.py --json`` grades the same toy submissions three ways in one run (plain
``nbgrader autograde`` one at a time, the kit in its sandbox, the kit with ``--no-sandbox``) and
writes the times, the kit's seconds per phase and the target; the ratio and "met" on the page are
computed here from those numbers.
"""

from __future__ import annotations

from .results import markdown_table, number

#: How the page names the bench's three ways of grading (``jobs``: the kit's parallel workers).
WAYS = {
    "nbgrader": "plain `nbgrader autograde`, one at a time",
    "sandbox": "`deepfakelab course grade --jobs {jobs}`, bubblewrap sandbox",
    "no_sandbox": "`deepfakelab course grade --jobs {jobs} --no-sandbox`",
}
#: How the page names the kit's phases of one submission.
PHASES = {"prepare": "prepare", "autograde": "autograde", "hidden_checks": "hidden checks"}


def grade(data: dict) -> str:
    """``bench/grade.py``: submissions graded per minute, the kit against nbgrader alone."""
    n, jobs, seconds, rate = data["submissions"], data["jobs"], data["seconds"], data["per_minute"]
    rows = [
        [WAYS.get(way, way).format(jobs=jobs), number(seconds[way], 1), number(rate[way], 1)]
        for way in seconds
    ]
    ratio = rate["sandbox"] / rate["nbgrader"]
    target = data["target_ratio"]
    phases = ", ".join(
        f"{PHASES.get(name, name)} {value:.2f} s" for name, value in data["phase_mean_s"].items()
    )
    return "\n".join(
        [
            f"{n} toy submissions ({', '.join(data['kinds'])} in turn), each way in its own fresh copy of "
            "the course, feedback off. The kit does more than nbgrader per submission: a private course "
            "copy, the kernel in a memory-capped sandbox, the hidden checks calling the student's functions "
            "in a second sandbox, limits.",
            "",
            markdown_table(["grading", f"wall s, {n} submissions", "submissions/min"], rows),
            "",
            f"- **The kit's mean seconds per submission** (sandbox): {phases}.",
            f"- **Against the target** (the kit, sandbox and all, grades at least {target:g}x as many "
            "submissions a minute as plain nbgrader): "
            f"{ratio:.2f}x, {'met' if ratio >= target else 'not met'}; the sandbox costs "
            f"{seconds['sandbox'] / seconds['no_sandbox']:.2f}x the time of `--no-sandbox`.",
        ]
    )
