"""Who is this? dlib's ResNet face embedding, for the identity distance (AED) of reenactments.

FOMM's papers score identity with an embedding distance between faces (AED). The kit uses dlib's
ResNet face-recognition model (128 numbers per face; two photos of one person lie under about 0.6
apart, dlib's own threshold), with the 5-point shape predictor to align the face chip: both ship in
the PyPI package ``face-recognition-models`` and run with ``dlib-bin`` (the optional extra
``identity``: ``pip install 'deepfakelab[identity]'``). The 68-point predictor in the same package,
whose licence bars commercial use, is not used.

Faces are located by a box the caller gives (e.g. around a face mesh), so no second detector runs.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np

#: dlib's same-person threshold for this embedding (Euclidean distance).
SAME_PERSON_THRESHOLD = 0.6
#: The extra that installs the embedding, for the messages below.
INSTALL_HINT = "pip install 'deepfakelab[identity]' (dlib-bin, face-recognition-models)"


def identity_available() -> bool:
    """Whether dlib and the face-recognition models are installed."""
    return importlib.util.find_spec("dlib") is not None and _models_folder() is not None


def _models_folder() -> Path | None:
    # face_recognition_models/__init__.py imports pkg_resources, which new setuptools lacks: find
    # the files without importing it.
    spec = importlib.util.find_spec("face_recognition_models")
    if spec is None or not spec.submodule_search_locations:
        return None
    folder = Path(list(spec.submodule_search_locations)[0]) / "models"
    return folder if folder.is_dir() else None


class FaceIdentity:
    """``FaceIdentity().embed(image, box)`` -> ``(128,)`` float64: the face inside ``box``.

    ``image (H, W, 3)`` uint8 RGB; ``box (x0, y0, x1, y1)`` pixels around the face (a detector's
    box or the box around a face mesh). Raises ``ImportError`` with the install line when the
    extra is missing.
    """

    def __init__(self):
        if not identity_available():
            raise ImportError(f"the identity embedding needs dlib and its models: {INSTALL_HINT}")
        import dlib  # optional and heavy: only here

        folder = _models_folder()
        self._dlib = dlib
        self._shape = dlib.shape_predictor(str(folder / "shape_predictor_5_face_landmarks.dat"))
        self._net = dlib.face_recognition_model_v1(str(folder / "dlib_face_recognition_resnet_model_v1.dat"))

    def embed(self, image: np.ndarray, box) -> np.ndarray:
        x0, y0, x1, y1 = (int(round(float(v))) for v in box)
        rectangle = self._dlib.rectangle(x0, y0, x1, y1)
        image = np.ascontiguousarray(image, dtype=np.uint8)
        shape = self._shape(image, rectangle)
        return np.asarray(self._net.compute_face_descriptor(image, shape), dtype=np.float64)


def identity_distance(a: np.ndarray, b: np.ndarray) -> float:
    """Euclidean distance between two embeddings (AED's per-frame term)."""
    return float(np.linalg.norm(np.asarray(a) - np.asarray(b)))
