"""The sandbox: where a student's code runs, and the only ways out of it.

Every process that runs a student's code -- the graded notebook's kernel, the server that calls
the student's functions for the hidden checks -- starts in a bubblewrap sandbox of its own, and
what comes back from it is data. The modules, from the walls inwards:

- :mod:`.bubblewrap` -- the sandbox itself: :class:`~.bubblewrap.Sandbox` turns a command into
  ``prlimit ... bwrap ... -- command`` (mounts, namespaces, resource limits) and
  :class:`~.bubblewrap.ProcessGroup` makes its cgroups; :func:`~.bubblewrap.availability` says
  whether it can run here. bwrap starts through :mod:`.bwrap_exec`, which hands it its options
  on a pipe and an empty environment.
- :mod:`.kernel_launcher` -- the graded notebook's kernel, started inside the sandbox under a
  memory limit (by the kernelspec of :func:`..grading.limits.write_kernelspec`);
  :mod:`.prompt_kernel` is its client on the grader's side, ready as soon as the kernel answers.
- :mod:`.remote_student` -- the hidden checks' handle on a student's functions: it starts
  :mod:`.student_server` in the sandbox, which loads the answer cells' definitions
  (:mod:`.student_code`) and the kit's probes (:mod:`..probes`), and it forwards each call
  there. Arguments go in and results come back as :mod:`.wire` frames: a JSON tree and NumPy
  arrays, never pickles.
- :mod:`.sandboxed_media` -- the videos and images a notebook wrote, decoded by the same server
  started without student code, so the process that grades never parses them.
- :mod:`.leftovers` -- the names of every temporary folder, staging folder and cgroup a grading
  run makes (after its pid), and the next run's sweep of those a killed run left.

This package imports nothing of the grading engine (:mod:`..grading`), which starts it; of the
course it uses only the kit's layout (what to mask), the probes and the artifact errors.
"""
