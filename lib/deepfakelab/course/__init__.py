"""The course: nbgrader notebooks for the two labs and an autograder instructors can trust.

Three rooms, each a package with a map of its own:

- this package -- what students and instructors handle: the student-side API a notebook imports
  (:func:`hidden_check`, the artifact writers of :mod:`.artifacts`), and distribution:
  :mod:`.layout` (where the kit's solutions, student versions and hidden checks live, and the
  instructor's nbgrader course folder), :mod:`.release` (student versions and the grading
  template, by ``nbgrader generate_assignment``), :mod:`.collect` (an LMS download, checked
  before nbgrader unpacks it), :mod:`.gradescope` (the grading packed as Gradescope's
  ``autograder.zip``), :mod:`.formgrader_csp` (formgrader's pages with a
  Content-Security-Policy), :mod:`.open_lab` (``deepfakelab lab``, a student's way in),
  :mod:`.website` (the notebooks' links to the course website, made absolute at release), :mod:`.toy` (a tiny
  assignment that proves the machinery), :mod:`.probes` (public code the hidden checks run
  beside a student's, named by module), :mod:`.cli` (``deepfakelab course ...``) and
  :mod:`.startup` (what a process that grades does first, called at its start);
- :mod:`.grading` -- the grading engine: the run over every submission of an assignment
  (:mod:`.grading.grade`), one submission in a worker process (:mod:`.grading.worker`), the
  notebook's limits, the hidden checks, the gradebook, the journal and the feedback;
- :mod:`.sandbox` -- where a student's code runs: bubblewrap, the kernel, the process that
  calls the student's functions for the checks and what crosses back from it (data only), the
  media decoder, and what a killed run leaves behind.

What each lab's notebook and hidden checks work on is :mod:`deepfakelab.labs`'s, Lab 1's optional
media pack (the instructor's own photos, videos and FOMM checkpoint) included: ``course release
--media`` copies it into the course and the lab's releases (:mod:`deepfakelab.labs.lab1.media_pack`).

Distribution calls the engine (``course grade``, Gradescope); the engine starts every process
that runs student code in the sandbox; the sandbox imports nothing of the engine, and of this
package only the layout, the probes and the artifact readers. Nothing here is imported by
student notebooks except :func:`hidden_check` and the artifact writers, so students never
receive the instructor's assertions.
"""

from .artifacts import ArtifactError, save_array, save_csv, save_json


def hidden_check(grade_id: str) -> None:
    """Stand-in that a hidden test cell calls in the student's kernel.

    The real check runs after the notebook, in a separate process, over the notebook's saved
    artifacts (see :mod:`deepfakelab.course.grading.hidden`); its verdict replaces this cell's outcome
    in the graded notebook. Running the cell yourself only prints this note.
    """
    print(f"[{grade_id}] checked by the course's hidden checks when your notebook is graded.")
