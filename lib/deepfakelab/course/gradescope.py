"""Gradescope: the kit's grading packed as ``autograder.zip``, and the program it runs.

Gradescope unzips ``autograder.zip`` into ``/autograder/source``, runs ``setup.sh`` once to build
the image, then for every submission runs ``/autograder/run_autograder`` with the student's
files in ``/autograder/submission`` and reads ``/autograder/results/results.json``. The zip holds
the instructor source, the hidden checks, the course's nbgrader config and the kit itself;
``run_autograder`` calls :func:`main`, which grades with the same worker as
``deepfakelab course grade`` and writes one Gradescope test per autograded cell.

``AUTOGRADER_ROOT`` (instead of ``/autograder``) and ``DEEPFAKELAB_PYTHON`` let the tests run
the unpacked zip in a temporary folder.
"""

from __future__ import annotations

import argparse
import json
import shutil
import tempfile
import zipfile
from pathlib import Path

from ..errors import DataError
from ..media.files import check_output_file
from .grading.jobs import GradingJob, GradingResult
from .layout import Course, kit_root
from .sandbox import bubblewrap
from .startup import skip_iri_parser

SETUP_SH = """#!/usr/bin/env bash
# Runs once when Gradescope builds the autograder image (Ubuntu): Python, a venv and the kit.
set -euo pipefail
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends python3 python3-venv python3-pip bubblewrap >/dev/null
python3 -m venv /autograder/venv
/autograder/venv/bin/pip install -q --upgrade pip
/autograder/venv/bin/pip install -q "/autograder/source/kit[dev]"
"""

RUN_AUTOGRADER = """#!/usr/bin/env bash
# Gradescope runs this for every submission; results land in $ROOT/results/results.json.
set -u
ROOT="${{AUTOGRADER_ROOT:-/autograder}}"
PY="${{DEEPFAKELAB_PYTHON:-$ROOT/venv/bin/python}}"
exec "$PY" -m deepfakelab.course.gradescope --root "$ROOT" --assignment {assignment}
"""


def _ignore(*extra):
    return shutil.ignore_patterns(
        "__pycache__", "*.pyc", ".ipynb_checkpoints", "artifacts", "*.egg-info", *extra
    )


def build_autograder_zip(course: Course, assignment: str, output: Path) -> Path:
    """Write Gradescope's ``autograder.zip`` for ``assignment`` to ``output``; return it."""
    output = check_output_file(output, {".zip"}, "Gradescope autograder").resolve()
    course.check_assignment(assignment)
    kit = kit_root()
    with tempfile.TemporaryDirectory(prefix="dfl-gradescope-") as tmp:
        root = Path(tmp)
        shutil.copytree(course.source(assignment), root / "source" / assignment, ignore=_ignore())
        hidden = course.hidden_checks / assignment
        if hidden.is_dir():
            shutil.copytree(hidden, root / "hidden_checks" / assignment, ignore=_ignore())
        shutil.copy2(course.config, root / "nbgrader_config.py")
        shutil.copytree(kit / "lib", root / "kit" / "lib", ignore=_ignore())
        shutil.copy2(kit / "pyproject.toml", root / "kit" / "pyproject.toml")
        shutil.copy2(kit / "README.md", root / "kit" / "README.md")
        (root / "setup.sh").write_text(SETUP_SH)
        (root / "run_autograder").write_text(RUN_AUTOGRADER.format(assignment=assignment))
        output.parent.mkdir(parents=True, exist_ok=True)
        with zipfile.ZipFile(output, "w", zipfile.ZIP_DEFLATED) as zf:
            for path in sorted(root.rglob("*")):
                if path.is_file():
                    info = zipfile.ZipInfo.from_file(path, path.relative_to(root).as_posix())
                    if path.name in ("setup.sh", "run_autograder"):
                        info.external_attr = 0o100755 << 16
                    zf.writestr(info, path.read_bytes(), zipfile.ZIP_DEFLATED)
    return output


def _find_submission(submission: Path, notebook: str) -> Path | None:
    """The student's ``<notebook>.ipynb`` anywhere in the upload (students zip folders too)."""
    matches = sorted(submission.rglob(f"{notebook}.ipynb"), key=lambda p: len(p.parts))
    matches = [m for m in matches if ".ipynb_checkpoints" not in m.parts]
    return matches[0] if matches else None


def grade_gradescope(root: Path, assignment: str) -> dict:
    """Grade ``root/submission`` against ``root/source``; write and return ``results.json``."""
    # Both load nbformat: only after main()'s skip_iri_parser(), never on import (see .startup).
    from .grading.pool import run_worker  # deferred: nbformat after skip_iri_parser()
    from .release import build_template  # deferred: nbformat after skip_iri_parser()

    source = root / "source"
    if not (source / "nbgrader_config.py").is_file():
        raise DataError(f"{source} has no nbgrader_config.py: is this an unpacked autograder.zip?")
    results_dir = root / "results"
    results_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="dfl-gs-") as tmp:
        work = Path(tmp)
        course = Course(root=source, hidden_checks=source / "hidden_checks")
        template = build_template(course, assignment, work / "template")
        upload = work / "upload"
        upload.mkdir()
        missing = _copy_submission(course.source(assignment), root / "submission", upload)
        # One submission per container already; bubblewrap adds the sandbox where the image allows it.
        job = GradingJob(
            assignment=assignment,
            student="student",
            template=template,
            submission=upload,
            hidden_checks=course.hidden_checks,
            staging=work / "graded",
            sandbox=bubblewrap.availability() is None,
        )
        result = run_worker(job, wall_timeout=3600)
    results = _results(result, missing)
    (results_dir / "results.json").write_text(json.dumps(results, indent=1))
    return results


def _copy_submission(source: Path, submission: Path, upload: Path) -> list[str]:
    """Copy into ``upload`` the student's file of each notebook of the assignment's ``source``,
    found anywhere in ``submission``; returns the names of those not found."""
    missing = []
    for nb in sorted(source.glob("*.ipynb")):
        found = _find_submission(submission, nb.stem)
        if found is None:
            missing.append(nb.name)
        else:
            shutil.copy2(found, upload / nb.name)
    return missing


def _results(result: GradingResult, missing: list[str]) -> dict:
    """Gradescope's ``results.json`` of a graded submission: one visible test per autograded cell,
    and the lines that say why grading failed or stopped and which notebooks were not uploaded."""
    tests, output = [], []
    if result.error:
        output.append(f"Your submission could not be graded: {result.error}")
    elif result.stopped:
        output.append(f"Grading was stopped: {result.stopped}.")
    for notebook, info in result.notebooks.items():
        for cell in info.cells:
            if cell.manual:
                continue
            tests.append(
                {
                    "name": f"{notebook}: {cell.grade_id}",
                    "score": cell.points or 0.0,
                    "max_score": cell.max_points,
                    "output": cell.message or "passed",
                    "visibility": "visible",
                }
            )
    if missing:
        output.append(
            "Not found in your upload: " + ", ".join(missing) + " (upload the notebook files themselves)."
        )
    return {
        "score": sum(t["score"] for t in tests),
        "tests": tests,
        "output": "\n".join(output) or "Written answers are graded by hand.",
        "visibility": "visible",
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Gradescope entry point (called by run_autograder).")
    parser.add_argument("--root", default="/autograder", help="the autograder folder")
    parser.add_argument("--assignment", required=True, help="assignment name")
    args = parser.parse_args(argv)
    skip_iri_parser()
    grade_gradescope(Path(args.root), args.assignment)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
