"""``deepfakelab course ...``: release assignments, grade them, pack them for Gradescope."""

from __future__ import annotations

import argparse
import subprocess
from pathlib import Path

from ..errors import ConfigError
from ..labs.lab1.cli import register as register_media
from .layout import init_course, kit_root, open_course


def _release(args: argparse.Namespace) -> int:
    from .release import generate_assignment, relative_website_links, student_versions

    if args.kit_assignments:
        kit = kit_root()
        names = args.assignments or sorted(p.name for p in (kit / "solutions").iterdir() if p.is_dir())
        for path in student_versions(
            kit / "solutions", kit / "assignments", names, kit / "autograder" / "nbgrader_config.py"
        ):
            print(f"wrote {path}")
        return 0
    from ..labs.lab1.media_check import checked_pack
    from ..labs.lab1.media_pack import (
        ASSIGNMENT as MEDIA_ASSIGNMENT,
        exchange_note,
        install_course_media,
        release_media,
    )

    pack = None
    if args.media:
        if args.assignments and MEDIA_ASSIGNMENT not in args.assignments:
            raise ConfigError(f"--media is Lab 1's media pack: release {MEDIA_ASSIGNMENT} with it")
        pack = checked_pack(args.media)
    course = init_course(args.course, args.assignments or None)
    if pack is not None:
        print(f"media pack: {install_course_media(course, pack)}")
    names = args.assignments or sorted(p.name for p in (course.root / "source").iterdir() if p.is_dir())
    for name in names:  # a broken notebook in any of them stops the release before nbgrader runs
        course.check_assignment(name)
    for name in names:
        released = generate_assignment(course, name, args.site_url)
        print(f"released {name}: {released}")
        for notebook, count in relative_website_links(released).items():
            print(
                f"  note: {count} website links in {notebook} stay relative and open nothing in JupyterLab; "
                "give the site's address: --site-url URL (or c.WebsiteLinks.base_url in nbgrader_config.py)"
            )
        if (copied := release_media(course, name)) is not None:
            print(f"  with the media pack: {copied}")
            if (note := exchange_note(course.release(name))) is not None:
                print(f"  note: {note}")
    print(f"Give students the folders under {course.root / 'release'} (or `nbgrader release_assignment`).")
    return 0


UNSANDBOXED = (
    "NOT SANDBOXED (--no-sandbox): student code ran as your user with time and memory limits only; "
    "a determined student can read and change the course. Grade without --no-sandbox to use bubblewrap."
)


def _grade(args: argparse.Namespace) -> int:
    from .grading.grade import GradeOptions, grade_assignment

    course = open_course(args.course, args.hidden_checks)
    options = GradeOptions(
        jobs=args.jobs,
        force=args.force,
        students=args.student or None,
        cell_timeout=args.cell_timeout,
        notebook_timeout=args.notebook_timeout,
        memory_mb=args.memory_mb,
        feedback=not args.no_feedback,
        sandbox=not args.no_sandbox,
    )
    if args.no_sandbox:
        print(UNSANDBOXED)
    report = grade_assignment(course, args.assignment, options, zip_path=Path(args.zip) if args.zip else None)
    if not report.sandboxed:
        print(UNSANDBOXED)
    print(
        f"\n{args.assignment}: graded {len(report.graded)}, unchanged since last run {len(report.skipped)}, "
        f"problems {len(report.failed)} ({report.seconds:.0f} s)"
    )
    for student, result in sorted(report.graded.items()):
        print(
            f"  {student:20s} {result.score:g} / {result.max_score:g} (autograded part; written answers wait for you)"
        )
    for student, why in sorted(report.failed.items()):
        print(f"  {student:20s} PROBLEM: {why[:300]}")
    for student, note in sorted(report.notes.items()):
        print(f"  {student:20s} note: {note[:300]}")
    if report.collection:
        print(f"  {len(report.collection)} upload(s) of {args.zip} not collected (the rest were):")
    for line in report.collection:
        print(f"  NOT COLLECTED: {line}")
    if report.tampered:
        print(
            f"  WARNING: the gradebook was changed by another process during grading; that copy was set aside "
            f"as {report.tampered} and the gradebook restored to its state before the run."
        )
    print(f"Grades: {course.root / 'grades.csv'} and {report.csv}; feedback: {course.root / 'feedback'}")
    if report.interrupted:
        print(
            f"Stopped: every result above is recorded; {len(report.left)} submission(s) not graded yet "
            f"({', '.join(report.left[:10])}{' ...' if len(report.left) > 10 else ''}): run the same command again "
            "to go on."
        )
        return 130
    return 0


def _formgrader(args: argparse.Namespace) -> int:
    from .formgrader_csp import formgrader_command

    course = open_course(args.course)
    extra = args.jupyter_args[1:] if args.jupyter_args[:1] == ["--"] else args.jupyter_args
    command = formgrader_command(course.root, extra)
    print(
        f"JupyterLab in {course.root}, formgrader pages with a Content-Security-Policy: Nbgrader > Formgrader. "
        "Grade first (`deepfakelab course grade`): formgrader shows the sanitised graded notebooks."
    )
    return subprocess.call(command, cwd=course.root)


def _feedback(args: argparse.Namespace) -> int:
    from .grading.grade import write_feedback

    course = open_course(args.course)
    report = write_feedback(course, args.assignment, args.student or None)
    print(
        f"{args.assignment}: feedback for {len(report.feedback)} student(s) in "
        f"{course.root / 'feedback'} ({report.seconds:.0f} s)"
    )
    for student, why in sorted(report.failed.items()):
        print(f"  {student:20s} PROBLEM: {why[:300]}")
    return 1 if report.failed else 0


def _gradescope(args: argparse.Namespace) -> int:
    from .gradescope import build_autograder_zip

    course = open_course(args.course, args.hidden_checks)
    out = build_autograder_zip(course, args.assignment, Path(args.output))
    print(f"wrote {out}: upload it as the assignment's autograder on Gradescope (Ubuntu image).")
    return 0


def register(subparsers) -> None:
    """``deepfakelab course`` and its actions, one function each (``media``: :mod:`..labs.lab1.cli`)."""
    parser = subparsers.add_parser(
        "course",
        help="release, grade and export the labs (nbgrader-based)",
        description="Instructor commands: make the student versions, grade submissions in parallel "
        "under time and memory limits, write feedback and grades, build a Gradescope autograder.",
    )
    sub = parser.add_subparsers(dest="course_command", metavar="ACTION")
    _register_release(sub)
    _register_grade(sub)
    _register_feedback(sub)
    _register_formgrader(sub)
    _register_gradescope(sub)
    register_media(sub)
    parser.set_defaults(func=lambda args: parser.print_help() or 1)


def _register_release(sub) -> None:
    release = sub.add_parser(
        "release",
        help="create/update a course folder and generate the student versions",
        description="Copy the kit's nbgrader config, hidden checks and solutions into "
        "the course folder (never overwriting your edits) and run nbgrader generate_assignment.",
    )
    release.add_argument("assignments", nargs="*", help="assignments to release (default: all in solutions/)")
    release.add_argument("--course", default=".", help="the course folder (default: the current folder)")
    release.add_argument(
        "--media",
        metavar="DIR",
        help="a checked Lab 1 media pack (`course media init`) to use for lab1 instead "
        "of the synthetic media; copied into the course and the student release",
    )
    release.add_argument(
        "--site-url",
        metavar="URL",
        help="where you publish the course website: the notebooks' links to it become absolute "
        "(default: c.WebsiteLinks.base_url in the course's nbgrader_config.py, else $DEEPFAKELAB_SITE_URL)",
    )
    release.add_argument(
        "--kit-assignments",
        action="store_true",
        help="regenerate the kit's own assignments/ folder from solutions/ (for kit maintainers)",
    )
    release.set_defaults(func=_release)


def _register_grade(sub) -> None:
    grade = sub.add_parser(
        "grade",
        help="collect, autograde, feedback and CSV for one assignment",
        description="Grade every submission in submitted/*/ASSIGNMENT in parallel, each in "
        "its own process with time and memory limits; store the grades in the gradebook, "
        "write feedback/ and grades CSVs. Rerunning skips unchanged, finished submissions.",
    )
    grade.add_argument("assignment", help="assignment name, e.g. lab2")
    grade.add_argument("--course", default=".", help="the course folder (default: the current folder)")
    grade.add_argument(
        "--zip",
        help="an LMS download (zip of notebooks) to collect first: archives inside it, unsafe "
        "names, duplicates and oversized files are refused and listed, the rest collected",
    )
    grade.add_argument(
        "--jobs", type=int, default=2, help="submissions graded at the same time (default: %(default)s)"
    )
    grade.add_argument("--student", action="append", help="grade only this student (repeatable)")
    grade.add_argument(
        "--force", action="store_true", help="regrade submissions already graded and unchanged"
    )
    grade.add_argument(
        "--cell-timeout", type=int, help="seconds per cell (default: the course config's Execute.timeout)"
    )
    grade.add_argument(
        "--notebook-timeout",
        type=float,
        help="seconds per notebook (default: the course config's LimitedExecute.notebook_timeout)",
    )
    grade.add_argument(
        "--memory-mb", type=int, help="kernel address-space limit in MiB (default: the course config)"
    )
    grade.add_argument(
        "--hidden-checks", help="folder of hidden checks (default: the course's hidden_checks/)"
    )
    grade.add_argument("--no-feedback", action="store_true", help="skip generating feedback HTML")
    grade.add_argument(
        "--no-sandbox",
        action="store_true",
        help="run student code without bubblewrap (same-user limits only; every report says so)",
    )
    grade.set_defaults(func=_grade)


def _register_feedback(sub) -> None:
    fb = sub.add_parser(
        "feedback",
        help="feedback pages for the graded students, after grading by hand",
        description="Write nbgrader's feedback for every graded student of ASSIGNMENT (after the "
        "written answers were graded in formgrader), each in a process stopped after "
        "two minutes, with the pages' Content-Security-Policy.",
    )
    fb.add_argument("assignment", help="assignment name, e.g. lab2")
    fb.add_argument("--course", default=".", help="the course folder (default: the current folder)")
    fb.add_argument("--student", action="append", help="only this student (repeatable)")
    fb.set_defaults(func=_feedback)


def _register_formgrader(sub) -> None:
    fg = sub.add_parser(
        "formgrader",
        help="JupyterLab in the course folder, formgrader with a Content-Security-Policy",
        description="Start JupyterLab in the course folder with its jupyter_server_config.py, whose "
        "extension lets only formgrader's own scripts run on formgrader's pages. Arguments after "
        "-- go to JupyterLab (e.g. -- --port 8890 --no-browser).",
    )
    fg.add_argument("--course", default=".", help="the course folder (default: the current folder)")
    fg.add_argument("jupyter_args", nargs=argparse.REMAINDER, help="arguments for jupyter lab, after --")
    fg.set_defaults(func=_formgrader)


def _register_gradescope(sub) -> None:
    gs = sub.add_parser(
        "gradescope",
        help="build Gradescope's autograder.zip for one assignment",
        description="Pack the instructor source, hidden checks, config and the kit into "
        "Gradescope's format (setup.sh, run_autograder); it writes results.json per submission.",
    )
    gs.add_argument("assignment", help="assignment name, e.g. lab2")
    gs.add_argument(
        "-o", "--output", default="autograder.zip", help="zip file to write (default: %(default)s)"
    )
    gs.add_argument("--course", default=".", help="the course folder (default: the current folder)")
    gs.add_argument("--hidden-checks", help="folder of hidden checks (default: the course's hidden_checks/)")
    gs.set_defaults(func=_gradescope)
