"""The dense face mesh of a photo or a video: 468 points per face, found the way MediaPipe does.

The network (:mod:`.mesh_model`) reads a 192 px square crop around the face, rotated so the eyes
are level: its region of interest (ROI). Where that ROI comes from is what this module does:

- a photo, or the first frame of a video: from MTCNN's face box, scaled 1.5x and rotated by the
  line through MTCNN's eyes; then once more from the mesh that crop gave (MediaPipe's detector
  frames faces differently from MTCNN, and the mesh's own ROI is the one the network was trained
  on);
- every next frame: from the previous frame's mesh (the box around its points, scaled 1.5x,
  rotated by the line through the outer eye corners, points 33 and 263), so no detector runs
  while tracking;
- when the network's face-presence score drops below 0.5 the face is lost: MTCNN runs again on
  that frame.

Over a video the points are smoothed by a one-euro filter (:mod:`.smoothing`), with speeds in
face sizes per second, so a still face does not jitter and a moving one is not dragged behind.

Coordinates are image pixels ``(x, y)``, origin at the top-left; ``z`` is depth in the same
pixel units, relative to the face's centre (negative: nearer the camera).
"""

from __future__ import annotations

import copy
import math
from dataclasses import dataclass, replace
from typing import Iterable, Sequence

import cv2
import numpy as np
import torch

from .detection import Face, NoFaceError, detect_faces
from .mesh_model import INPUT_SIZE, NUM_POINTS, FaceMeshNet, load_face_mesh_net, run_face_mesh
from .smoothing import DEFAULT_BETA, DEFAULT_MIN_CUTOFF, OneEuroFilter

#: ROI side over the face box's longer side (MediaPipe: 1.5 for detections and for meshes).
ROI_SCALE = 1.5
#: Below this face-presence score the face counts as lost (MediaPipe's ``min_tracking_confidence``).
MIN_PRESENCE = 0.5
#: Outer eye corners, as seen in the image: left (the person's right eye) and right.
EYE_CORNERS = (33, 263)


@dataclass(frozen=True)
class Roi:
    """A square region of an image, rotated: ``center (x, y)`` and ``size`` in pixels,
    ``rotation`` in radians (positive turns the square clockwise on screen).

    The square's corners map onto the corners of the ``INPUT_SIZE`` crop, as MediaPipe's
    ``ImageToTensorCalculator`` maps them.
    """

    center: tuple[float, float]
    size: float
    rotation: float

    @classmethod
    def around(
        cls, box: np.ndarray, left_eye: np.ndarray, right_eye: np.ndarray, scale: float = ROI_SCALE
    ) -> Roi:
        """The ROI of an axis-aligned ``box (x0, y0, x1, y1)``: centred on it, ``scale`` times its
        longer side, turned so that the line from ``left_eye`` to ``right_eye`` is level."""
        x0, y0, x1, y1 = (float(v) for v in box)
        dx, dy = np.asarray(right_eye, float) - np.asarray(left_eye, float)
        rotation = -math.atan2(-dy, dx)  # MediaPipe's DetectionsToRectsCalculator, target angle 0
        return cls(((x0 + x1) / 2, (y0 + y1) / 2), scale * max(x1 - x0, y1 - y0), rotation)

    @classmethod
    def from_face(cls, face: Face) -> Roi:
        """From an MTCNN detection: its box, rotated by its two eyes."""
        return cls.around(face.box, face.landmarks[0], face.landmarks[1])

    @classmethod
    def from_points(cls, points: np.ndarray) -> Roi:
        """From a mesh ``(468, 2 or 3)``: the box around its points, rotated by the outer eye corners."""
        xy = np.asarray(points)[:, :2]
        box = np.concatenate([xy.min(axis=0), xy.max(axis=0)])
        return cls.around(box, xy[EYE_CORNERS[0]], xy[EYE_CORNERS[1]])

    def crop_matrix(self, out_size: int = INPUT_SIZE) -> np.ndarray:
        """The 2x3 affine matrix taking image pixels to pixels of the ``out_size`` crop."""
        cos, sin = math.cos(self.rotation), math.sin(self.rotation)
        k = out_size / self.size
        cx, cy = self.center
        # crop = k * R(-rotation) (image - center) + out_size / 2
        linear = k * np.array([[cos, sin], [-sin, cos]])
        offset = out_size / 2 - linear @ np.array([cx, cy])
        return np.hstack([linear, offset[:, None]])

    def crop(self, image: np.ndarray, out_size: int = INPUT_SIZE) -> np.ndarray:
        """The ``(out_size, out_size, 3)`` crop; outside the image, the border pixels are repeated
        (as MediaPipe does: the network was trained on such crops)."""
        return cv2.warpAffine(
            image,
            self.crop_matrix(out_size),
            (out_size, out_size),
            flags=cv2.INTER_LINEAR,
            borderMode=cv2.BORDER_REPLICATE,
        )

    def to_image(self, crop_points: np.ndarray, out_size: int = INPUT_SIZE) -> np.ndarray:
        """``(N, 3)`` points in crop pixels -> image pixels (``z`` scaled like ``x`` and ``y``)."""
        crop_points = np.asarray(crop_points, np.float64)
        cos, sin = math.cos(self.rotation), math.sin(self.rotation)
        k = self.size / out_size
        u = crop_points[:, 0] - out_size / 2
        v = crop_points[:, 1] - out_size / 2
        x = self.center[0] + k * (cos * u - sin * v)
        y = self.center[1] + k * (sin * u + cos * v)
        return np.stack([x, y, k * crop_points[:, 2]], axis=1)


@dataclass(frozen=True)
class Mesh:
    """One face's mesh: ``points (468, 3)`` image pixels, the network's face-presence ``score``
    in [0, 1], and the ``roi`` it was read from."""

    points: np.ndarray
    score: float
    roi: Roi

    @property
    def xy(self) -> np.ndarray:
        """``(468, 2)`` image pixels."""
        return self.points[:, :2]


class FaceMesh:
    """Finds the 468-point mesh of the largest face in photos and videos (CPU, or ``device``).

    >>> mesh = FaceMesh().detect(photo)          # photo: (H, W, 3) uint8 RGB
    >>> meshes = FaceMesh().track(frames, fps=25) # one Mesh (or None: no face) per frame
    """

    def __init__(
        self,
        min_presence: float = MIN_PRESENCE,
        device: str | torch.device = "cpu",
        net: FaceMeshNet | None = None,
    ):
        self.min_presence = min_presence
        self.device = torch.device(device)
        net = net or load_face_mesh_net()
        # the shipped network is shared by every FaceMesh on the CPU; another device gets a copy
        self.net = net if self.device.type == "cpu" else copy.deepcopy(net).to(self.device)

    def mesh_in(self, image: np.ndarray, roi: Roi) -> Mesh:
        """Run the network on one ROI of ``image``; the score says whether a face was there."""
        crop = torch.from_numpy(np.ascontiguousarray(roi.crop(image)))[None].to(self.device)
        output = run_face_mesh(crop, self.net)
        points = output.points[0].cpu().double().numpy()
        return Mesh(roi.to_image(points), float(output.presence[0]), roi)

    def _from_detection(self, image: np.ndarray) -> Mesh | None:
        """Detect with MTCNN, read the mesh, then read it again from the mesh's own ROI."""
        faces = detect_faces(image)
        if not faces:
            return None
        mesh = self.mesh_in(image, Roi.from_face(faces[0]))
        if mesh.score < self.min_presence:
            return None
        refined = self.mesh_in(image, Roi.from_points(mesh.points))
        return refined if refined.score >= self.min_presence else mesh

    def detect(self, image: np.ndarray, name: str = "image") -> Mesh:
        """The mesh of the largest face in ``image (H, W, 3)`` uint8 RGB.

        Raises :class:`~deepfakelab.faces.detection.NoFaceError` naming ``name`` when MTCNN finds
        no face or the network does not see one where MTCNN did.
        """
        check_rgb_image(image, name)
        mesh = self._from_detection(image)
        if mesh is None:
            raise NoFaceError(
                f"{name}: no face found for the face mesh. Use a photo with a clearly visible human "
                "face (frontal or three-quarter view, at least about 40 pixels wide)."
            )
        return mesh

    def track(
        self,
        frames: Iterable[np.ndarray],
        fps: float = 25.0,
        smooth: bool = True,
        min_cutoff: float = DEFAULT_MIN_CUTOFF,
        beta: float = DEFAULT_BETA,
    ) -> list[Mesh | None]:
        """The mesh of each frame, tracked (see the module's docstring); ``None`` where no face.

        ``smooth`` applies the one-euro filter (``min_cutoff`` Hz, ``beta``; see
        :class:`~deepfakelab.faces.smoothing.OneEuroFilter`) to the points; the ROIs follow the raw
        points, as MediaPipe's do. A re-detection (after a frame without a face, or a jump the
        tracker lost) restarts the filter.
        """
        smoother = OneEuroFilter(fps, min_cutoff=min_cutoff, beta=beta)
        meshes: list[Mesh | None] = []
        roi: Roi | None = None
        for index, frame in enumerate(frames):
            check_rgb_image(frame, f"frame {index}")
            mesh = self.mesh_in(frame, roi) if roi is not None else None
            if mesh is None or mesh.score < self.min_presence:
                mesh = self._from_detection(frame)  # lost (or never found): detect again
                smoother.reset()  # a new track: do not drag the points from where the face was
            if mesh is None:
                meshes.append(None)
                roi = None
                continue
            roi = Roi.from_points(mesh.points)
            if smooth:
                mesh = replace(mesh, points=smoother(mesh.points, scale=mesh.roi.size / ROI_SCALE))
            meshes.append(mesh)
        return meshes


def check_rgb_image(image: np.ndarray, name: str) -> None:
    """An ``(H, W, 3)`` uint8 RGB array, or a ``ValueError`` naming ``name``: what every face step reads."""
    if not (
        isinstance(image, np.ndarray) and image.ndim == 3 and image.shape[2] == 3 and image.dtype == np.uint8
    ):
        shape = getattr(image, "shape", None)
        dtype = getattr(image, "dtype", type(image).__name__)
        raise ValueError(f"{name}: expected an (H, W, 3) uint8 RGB image, got shape {shape} and type {dtype}")


def mesh_sequence_points(meshes: Sequence[Mesh | None]) -> np.ndarray:
    """``(T, 468, 3)`` points of a tracked video, NaN where a frame had no face."""
    out = np.full((len(meshes), NUM_POINTS, 3), np.nan)
    for index, mesh in enumerate(meshes):
        if mesh is not None:
            out[index] = mesh.points
    return out
