"""Faces in pictures, for every part of the kit: find them, crop them, put results back.

- ``detection``: MTCNN faces (box, score, five landmarks), the size checks, one stable box per video
- ``boxes``: square crop boxes kept inside the picture, the one crop and the one paste-back
- ``cropper``: the detector's 30 %-margin crops (DFDC winner's recipe)
- ``landmarks``: comparing poses by MTCNN's five points (FOMM's best initial frame)
- ``masks``: soft masks of face regions in crop pixels
- ``mesh_model``, ``mesh``, ``smoothing``: MediaPipe's 468-point face mesh in torch, tracked and smoothed
- ``regions``: the mesh's regions (face oval, eyes, brows, lips, inner mouth) as polygons and masks
- ``drawing``: the mesh drawn for side-by-side views

Data flows one way: :mod:`deepfakelab.media` -> faces -> reenact / detect -> reports.
"""

from .boxes import crop, crop_box, leaves_image, paste_back, square_box, to_crop_coordinates, uncrop
from .detection import (
    DEFAULT_CROP_SCALE,
    Face,
    NoFaceError,
    check_image_size,
    detect_faces,
    detect_faces_in_frames,
    face_size_note,
    largest_face,
    stable_box,
)
from .landmarks import find_best_frame, normalized_landmarks
from .masks import face_ellipse
