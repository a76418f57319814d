"""The grading engine: every submission of an assignment graded, scored and recorded.

``deepfakelab course grade`` calls :func:`.grade.grade_assignment`, a list of named steps that
grades each submission in a worker process of its own and records each result as it arrives.
What flows: the run builds a :class:`.jobs.GradingJob` (paths and limits) per submission; a
worker hands back a :class:`.jobs.GradingResult` (scores and messages per notebook and cell);
the run journals it, writes it into the gradebook and exports it.

The run, in the instructor's process (the only one that writes to the course):

- :mod:`.grade` -- :func:`~.grade.grade_assignment` and its steps, in order: check the request,
  sweep the leftovers, warm up, generate the release, collect, fingerprint, grade in the pool
  and record each result, the missing feedback, the final gradebook; and ``course feedback``.
- :mod:`.jobs` -- the job and the result, frozen dataclasses that cross to the worker and back.
- :mod:`.pool` -- worker processes forked from a server that has imported the libraries once,
  killed past their wall time; the pool that runs a few at a time and stops on Ctrl-C.
- :mod:`.journal` -- each student's recorded result with the fingerprint of what was graded, so
  a rerun skips what is done.
- :mod:`.gradebook` -- nbgrader's gradebook (backed up, guarded against anything else writing to
  it) and the grades exported to CSV.
- :mod:`.feedback` -- nbgrader's feedback pages, one student at a time in a process stopped after
  two minutes, with a Content-Security-Policy.

One submission, in a worker (never writing to the course):

- :mod:`.worker` -- a private copy of the course: the answer cells written into the release
  (:mod:`.answers`), ``nbgrader autograde`` with the kit's limits (:mod:`.limits`; the kernel
  runs in the sandbox, :mod:`..sandbox`), the hidden checks, the score of every graded cell, the
  graded notebook made safe to show (:mod:`.sanitize`). The fork server imports what
  :data:`.worker.PRELOAD` lists and builds the caches of :mod:`.warm_caches` once for all.
- :mod:`.hidden` -- the pytest plugin that runs the hidden checks over a graded notebook's
  artifacts, calling the student's functions in the sandbox (:mod:`..sandbox.remote_student`);
  :mod:`.forked_checks` runs that pytest in a fork of the worker.
"""
