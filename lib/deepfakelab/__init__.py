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

Nothing in the package downloads anything: data is made by the kit, shipped inside a PyPI
package, or given as a path by the user.
"""

__version__ = "0.1.0"

# Before anything imports torch: OpenMP threads that sleep while waiting keep the kit usable on
# a machine shared with other jobs (measurements in deepfakelab/threads.py).
from .threads import prefer_passive_waiting as _prefer_passive_waiting  # noqa: E402

_prefer_passive_waiting()
