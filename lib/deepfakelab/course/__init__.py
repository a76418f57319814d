"""The course: nbgrader notebooks for the two labs and an autograder instructors can trust.

How grading works, one small step per module:

- :mod:`.layout` -- where the kit's solutions, student versions and hidden checks live, and the
  instructor's nbgrader course folder.
- :mod:`.release` -- student versions from the instructor's solutions (``nbgrader generate_assignment``).
- :mod:`.bubblewrap` -- the sandbox every process that runs a student's code starts in.
- :mod:`.sandbox` -- per-cell/per-notebook time limits, output limits, the kernel's spec.
- :mod:`.prompt_kernel` -- the kernel's client, ready when the kernel has answered (no fixed wait).
- :mod:`.answers` -- the graded notebook: the release with the student's answer cells.
- :mod:`.artifacts` -- the files a notebook saves for grading, written and parsed strictly.
- :mod:`.student_code` -- the definitions from a student's answer cells, without their side effects.
- :mod:`.hidden` -- the pytest plugin that runs the hidden checks over the artifacts;
  :mod:`.forked_checks` runs it in a fork of the grading worker.
- :mod:`.remote_student`, :mod:`.student_server`, :mod:`.wire` -- the student's functions called
  in the sandbox by the hidden checks, with only data crossing back.
- :mod:`.sandboxed_media` -- the videos and images a notebook wrote, decoded in a sandbox for the checks.
- :mod:`.worker` -- grades one submission in a private copy of the course, in its own process
  (forked from a server that has imported the libraries and, :mod:`.warm_caches`, built their caches).
- :mod:`.grade` -- the whole cycle: collect, grade in parallel, gradebook, feedback, CSV.
- :mod:`.gradescope` -- the same grading packed as Gradescope's ``autograder.zip``.
- :mod:`.toy` -- a tiny assignment that proves the machinery without the labs' models.

What each lab's notebook and hidden checks work on is :mod:`deepfakelab.labs`'s, Lab 1's optional
media pack (the instructor's own photos, videos and FOMM checkpoint) included: ``course release
--media`` copies it into the course and the lab's releases (:mod:`deepfakelab.labs.lab1.media_pack`).

Nothing here is imported by student notebooks except :func:`hidden_check` and the artifact
writers, so students never receive the instructor's assertions.
"""

import sys

# jsonschema (under nbformat) imports rfc3987_syntax when it is installed, which builds a parser
# at import time: seconds per process, and grading starts three processes per submission. The
# notebooks never use the IRI formats it checks, so it is skipped -- unless already imported.
sys.modules.setdefault("rfc3987_syntax", None)

from .artifacts import ArtifactError, save_array, save_csv, save_json  # noqa: E402,F401


def hidden_check(grade_id: str) -> None:
    """Stand-in that a hidden test cell calls in the student's kernel.

    The real check runs after the notebook, in a separate process, over the notebook's saved
    artifacts (see :mod:`deepfakelab.course.hidden`); its verdict replaces this cell's outcome
    in the graded notebook. Running the cell yourself only prints this note.
    """
    print(f"[{grade_id}] checked by the course's hidden checks when your notebook is graded.")
