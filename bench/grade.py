"""Graded submissions per minute: ``deepfakelab course grade`` against plain ``nbgrader autograde``.

All grade the same toy-course submissions in the same run, each in its own fresh copy of the
course. nbgrader grades one submission after another in one process; the kit grades
``--jobs`` submissions at a time, each in its own process, and does more per submission (a
private course copy, the memory-capped kernel in a bubblewrap sandbox, the hidden checks in a
separate pytest process calling the student's functions in a second sandbox); it is timed with
the sandbox and with ``--no-sandbox``. Feedback is off for all (nbgrader autograde does not make it).

    python bench/grade.py [--submissions 8] [--jobs 2]
    python bench/grade.py --json site/data/grade.json   # for the site's Results page (commit it)

``--json FILE`` writes every number printed, the target and how it was measured
(``site/sitegen/table_grade.py`` renders it).
"""

from __future__ import annotations

import _kit  # the benches' shared helpers (bench/_kit.py)

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")

from deepfakelab.course.startup import skip_iri_parser  # noqa: E402

skip_iri_parser()  # before nbformat is imported (below), as `deepfakelab course grade` does

from deepfakelab.course import toy  # noqa: E402
from deepfakelab.course.grading.grade import GradeOptions, grade_assignment  # noqa: E402
from deepfakelab.course.layout import ensure_tools_on_path, open_course  # noqa: E402
from deepfakelab.course.release import generate_assignment  # noqa: E402
from deepfakelab.measured import Measurement  # noqa: E402
from deepfakelab.threads import prepare_process  # noqa: E402

KINDS = ["correct", "off_by_one", "blank", "tamper"]  # quick ones: no submission waits on a limit
#: The kit's rate in the sandbox over plain nbgrader's: doing more per submission (a private copy,
#: the sandboxed kernel, hidden checks, limits) must not make grading slower than nbgrader alone.
TARGET_RATIO = 1.0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--submissions", type=int, default=8, help="number of student submissions (default: 8)"
    )
    parser.add_argument(
        "--jobs", type=int, default=2, help="parallel grading workers for the kit (default: 2)"
    )
    parser.add_argument(
        "--json",
        help="also write every number here (site/data/grade.json is what the site's Results page shows)",
    )
    args = parser.parse_args()
    _kit.check_outputs(parser, json=(args.json, ".json"))
    measurement = Measurement()  # each grading process sets its own threads (OMP_NUM_THREADS above)
    ensure_tools_on_path()
    with tempfile.TemporaryDirectory(prefix="dfl-bench-") as tmp:
        base = toy.build_toy_course(Path(tmp) / "base")
        generate_assignment(base, toy.ASSIGNMENT)
        for i in range(args.submissions):
            toy.make_submission(base, f"student{i:03d}", KINDS[i % len(KINDS)])
        plain_root, kit_root_, bare_root = Path(tmp) / "plain", Path(tmp) / "kit", Path(tmp) / "bare"
        for root in (plain_root, kit_root_, bare_root):
            shutil.copytree(base.root, root)

        start = time.perf_counter()
        proc = subprocess.run(
            [sys.executable, "-m", "nbgrader", "autograde", toy.ASSIGNMENT, "--force"],
            cwd=plain_root,
            capture_output=True,
            text=True,
        )
        plain_s = time.perf_counter() - start
        if proc.returncode != 0:
            print(proc.stderr[-2000:])
            return 1

        timed = {}
        for name, root, sandbox in (("sandbox", kit_root_, True), ("no-sandbox", bare_root, False)):
            start = time.perf_counter()
            report = grade_assignment(
                open_course(root),
                toy.ASSIGNMENT,
                GradeOptions(jobs=args.jobs, feedback=False, progress=False, sandbox=sandbox),
            )
            timed[name] = time.perf_counter() - start
            if report.failed:
                print("failed:", report.failed)
                return 1
            if name == "sandbox":
                sandboxed_report = report
        report, kit_s = sandboxed_report, timed["sandbox"]

    phases = {}
    for result in report.graded.values():
        for phase, seconds in result.seconds.items():
            phases.setdefault(phase, []).append(seconds)
    n = args.submissions
    plain_rate, kit_rate = 60 * n / plain_s, 60 * n / kit_s
    print(f"machine: {os.cpu_count()} CPUs; {n} toy submissions ({', '.join(KINDS)} in turn)")
    print(
        f"nbgrader autograde (one at a time)     : {plain_s:6.1f} s  {plain_rate:5.1f} submissions/min  "
        f"({plain_s / n:.1f} s each)"
    )
    bare_s = timed["no-sandbox"]
    print(
        f"deepfakelab course grade --jobs {args.jobs}      : {kit_s:6.1f} s  "
        f"{kit_rate:5.1f} submissions/min  (bubblewrap sandbox, hidden checks, limits)"
    )
    print(f"  ... --no-sandbox                     : {bare_s:6.1f} s  {60 * n / bare_s:5.1f} submissions/min")
    print(
        f"ratio (kit / nbgrader)                 : {kit_rate / plain_rate:.2f}x "
        f"(sandbox costs {kit_s / bare_s:.2f}x the time of --no-sandbox)"
    )
    print(
        "kit, mean seconds per submission and phase: "
        + ", ".join(f"{k} {sum(v) / len(v):.2f}" for k, v in phases.items())
    )
    if args.json:
        seconds = {"nbgrader": plain_s, "sandbox": kit_s, "no_sandbox": bare_s}
        numbers = {
            "submissions": n,
            "kinds": KINDS[:n],  # given in turn
            "jobs": args.jobs,
            # wall seconds for all n submissions: nbgrader autograde, the kit with and without the sandbox
            "seconds": {name: round(value, 3) for name, value in seconds.items()},
            "per_minute": {name: round(60 * n / value, 2) for name, value in seconds.items()},
            "phase_mean_s": {phase: round(sum(v) / len(v), 3) for phase, v in phases.items()},
            "target_ratio": TARGET_RATIO,
        }
        _kit.write_json(args.json, numbers, measurement)
    return 0


if __name__ == "__main__":
    prepare_process()  # sleeping OpenMP threads, before any work (deepfakelab/threads.py)
    raise SystemExit(main())
