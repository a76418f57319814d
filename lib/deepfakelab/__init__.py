"""deepfakelab: an offline, CPU-first course kit for imaging security.

The package reads like the course. The library, data flowing media -> faces -> reenact / fakes
-> detect -> reports:

- :mod:`deepfakelab.heads` -- procedural talking heads with ground truth.
- :mod:`deepfakelab.media` -- photos and videos in and out (the one reader and writer).
- :mod:`deepfakelab.faces` -- MTCNN faces, crops and paste-back for every part.
- :mod:`deepfakelab.reenact` -- reenactment methods behind one interface: the mesh warp, the
  landmark-warp baseline and the First Order Motion Model (``reenact/fomm/``).
- :mod:`deepfakelab.fakes` -- the detector's training data: fakes with their change masks, face sets.
- :mod:`deepfakelab.detect` -- a deepfake detector, its training and explainability.
- :mod:`deepfakelab.provenance` -- the invisible watermark, the C2PA manifest, ``verify``.
- :mod:`deepfakelab.gan` -- Lab 2's DCGAN, its data (bags) and its offline quality metric.

On top of it, and never imported by it:

- :mod:`deepfakelab.labs` -- what each lab's notebook and hidden checks work on: ``labs.lab1``
  (Lab 1, nbgrader assignment ``lab1``, with its media pack), ``labs.lab2`` (Lab 2, ``lab2``).
- :mod:`deepfakelab.course` -- releasing and grading the labs: nbgrader, the sandbox, Gradescope.
- :mod:`deepfakelab.demos` -- ``deepfakelab demo``: one part per lab, in one time budget.

And the pieces every part shares: :mod:`deepfakelab.cli` (the ``deepfakelab`` command, each part
adding its sub-commands), :mod:`deepfakelab.errors`, :mod:`deepfakelab.runtime` (device, seeds),
:mod:`deepfakelab.threads` (torch's threads on a shared CPU), :mod:`deepfakelab.datafiles` (the
YAML and JSON files a user hands a command).

Importing it changes nothing in the process (no environment edits, no stubs): set-up is one
explicit call where a process starts (:func:`deepfakelab.threads.prepare_process`). Nothing in
the package downloads anything: data is made by the kit, shipped inside a PyPI
package, or given as a path by the user.
"""

__version__ = "0.1.0"
