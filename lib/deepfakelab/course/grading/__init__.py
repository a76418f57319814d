"""The grading engine: every submission of an assignment graded, scored and recorded.

``deepfakelab course grade`` calls :func:`.grade.grade_assignment`, which grades each
submission in a worker process of its own and keeps each result as it arrives. The modules:

- :mod:`.grade` -- the run over an assignment, step by step: collect, grade in parallel, the
  journal, the gradebook, feedback, CSV.
- :mod:`.worker` -- one submission in a private copy of the course: its answer cells written
  into the release (:mod:`.answers`), ``nbgrader autograde`` with the kit's limits
  (:mod:`.limits`; the kernel runs in the sandbox, :mod:`..sandbox`), the hidden checks, the
  score of every graded cell, the graded notebook made safe to show (:mod:`.sanitize`). Its
  process is forked from a server that has imported the libraries once and built their caches
  (:data:`.worker.PRELOAD`, :mod:`.warm_caches`).
- :mod:`.hidden` -- the pytest plugin that runs the hidden checks over a graded notebook's
  artifacts, calling the student's functions in the sandbox (:mod:`..sandbox.remote_student`);
  :mod:`.forked_checks` runs that pytest in a fork of the worker.

Only :mod:`.grade`, in the instructor's process, writes to the course; a worker gets a job of
paths and limits and hands back a result of scores and messages.
"""
