"""Lab 2, *From data to dollars* (nbgrader assignment ``lab2``): what its notebook works on.

- :mod:`.notebook` -- what the notebook shows: the bags, a reference run of the lab's DCGAN
  trained by the kit, the networks block by block; how long each part takes.
- :mod:`.diagnosis` -- what the checks say about a student's loss or training step: a trace of
  what the step did, and one sentence that says what to change.

The hidden checks are ``autograder/hidden_checks/lab2/``; the probes they run beside the
student's code in the sandbox are :mod:`deepfakelab.course.probes.lab2`.
"""
