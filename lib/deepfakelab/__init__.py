"""deepfakelab: an offline, CPU-first course kit for imaging security.

The package reads like the course:

- :mod:`deepfakelab.gan` -- Lab 2's DCGAN, its data (bags) and its offline quality metric.
- :mod:`deepfakelab.heads` -- procedural talking heads with ground truth.
- :mod:`deepfakelab.media` -- photos and videos in and out (the one reader and writer).
- :mod:`deepfakelab.faces` -- MTCNN faces, crops and paste-back for every part.
- :mod:`deepfakelab.reenact` -- reenactment methods behind one interface: the mesh warp, the
  landmark-warp baseline and the First Order Motion Model (``reenact/fomm/``).
- :mod:`deepfakelab.detect` -- a deepfake detector, its training data and explainability.
- :mod:`deepfakelab.course` -- notebooks and autograding helpers.

Importing it changes nothing in the process (no environment edits, no stubs): set-up is one
explicit call where a process starts (:func:`deepfakelab.threads.prepare_process`). Nothing in
the package downloads anything: data is made by the kit, shipped inside a PyPI
package, or given as a path by the user.
"""

__version__ = "0.1.0"
