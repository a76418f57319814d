"""One interface for every reenactment method: ``(source face, driving faces) -> frames``.

Modelled on pytorch-grad-cam's ``BaseCAM``: one base class, :class:`Reenactor`, does what every
method shares -- checks the inputs, checks the initial driving frame (the reference of relative
motion), lets a caller's own points stand in for the method's detector, packs the result as a
:class:`Reenacted` -- and each variant says only what is its own:

- :class:`MeshWarp` (``"mesh-warp"``): the 468-point face mesh moved by the driver's head pose and
  expression, the photo warped piecewise-affine along it (:mod:`.mesh_warp`); the default without
  a checkpoint.
- :class:`LandmarkWarp` (``"landmark-warp"``): MTCNN's five points and a thin-plate spline
  (:mod:`.landmark_warp`); the baseline.
- :class:`FOMM` (``"fomm"``): the First Order Motion Model (:mod:`.fomm`), whose network finds its
  own keypoints.

:func:`reenactor` looks a method up by name and sets it up (it loads a FOMM checkpoint)::

    done = reenactor("mesh-warp")(photo, driving_frames, fps=25)
    done.frames                      # (N, H, W, 3) uint8: the photo animated
    fomm = reenactor("fomm", checkpoint="vox-cpk.pth.tar")
    fomm(face_crop, driving_crops).frames   # 256-px face crops for vox-256

Where the points come from: a warp finds them in the source and in every driving frame itself
(:meth:`Reenactor.track`), unless the caller gives them (``source_points``, ``driving_points``:
``deepfakelab reenact`` gives the MTCNN landmarks it cropped the faces with, the real-video
evaluation its clip's tracked mesh, the fake-maker a moved mesh). FOMM takes none.

Cropping the faces and pasting the result back are the callers' (:mod:`.pipeline` for
``deepfakelab reenact``, :mod:`deepfakelab.labs.lab1` for the lab): the mesh warp reads the driving
video's whole frames (:attr:`Reenactor.whole_frames`), the others face crops.
"""

from __future__ import annotations

import inspect
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from pathlib import Path
from typing import ClassVar

import cv2
import numpy as np

from ..errors import ConfigError
from ..faces.detection import NoFaceError, detect_faces_in_frames, largest_face
from ..faces.drawing import draw_mesh
from ..faces.landmarks import normalized_landmarks
from ..faces.mesh import FaceMesh, check_rgb_image
from .fomm.animate import MotionTransfer, animate_with_keypoints, to_uint8_frames
from .fomm.checkpoint import load_model
from .fomm.model import FirstOrderModel
from .landmark_warp import fill_missing, landmark_reenact
from .mesh_warp import best_frame_by_mesh, mesh_reenact, reenact_photo
from .views import draw_points

#: The methods, by the names ``deepfakelab reenact --method`` knows ("_" for "-" works too).
METHODS = ("mesh-warp", "landmark-warp", "fomm")


@dataclass
class Reenacted:
    """A reenactment: ``frames (N, H, W, 3)`` uint8 at the source's size, and the points behind
    them in pixels: the source's ``(P, 2+)``, the driving frames' ``(N, P, 2+)`` (interpolated where
    a frame had no face) and where the source's went ``(N, P, 2)`` -- the mesh's 468 points, the five
    landmarks, or FOMM's keypoints (in the pixels of the frames returned) -- the initial driving
    frame, and notes for the user."""

    frames: np.ndarray
    source_points: np.ndarray
    driving_points: np.ndarray
    moved_points: np.ndarray
    initial: int
    notes: list[str] = field(default_factory=list)


@dataclass
class Tracked:
    """A warp's points in every driving frame: ``points (N, P, 2+)`` pixels (interpolated over the
    frames without a face), ``found (N,)`` which frames had one, and notes."""

    points: np.ndarray
    found: np.ndarray
    notes: list[str] = field(default_factory=list)


class Reenactor(ABC):
    """A reenactment method: ``reenactor(source, driving) -> Reenacted`` (see :meth:`__call__`).

    A variant sets :attr:`name` and :attr:`points` and implements :meth:`reenact` (find its points
    and animate); a warp, which can be given points, also :meth:`move`, :meth:`track` and
    :meth:`best_frame`.
    """

    #: The method's name, as ``deepfakelab reenact --method`` spells it.
    name: ClassVar[str]
    #: The points it moves: ``"mesh"`` (468), ``"landmarks"`` (MTCNN's five) or ``"keypoints"``
    #: (found by its own network: a caller cannot give them).
    points: ClassVar[str]
    #: Whether it reads the driving video's whole frames (the mesh warp tracks its mesh there)
    #: rather than crops of the driving face.
    whole_frames: ClassVar[bool] = False
    #: ``draw(image, points)``: how its points are drawn (:func:`~deepfakelab.reenact.views.side_by_side`).
    draw = staticmethod(draw_points)

    def __call__(
        self,
        source: np.ndarray,
        driving=None,
        *,
        initial: int | str | None = None,
        source_points: np.ndarray | None = None,
        driving_points: np.ndarray | None = None,
        fps: float = 25.0,
        source_name: str = "source",
        driving_name: str = "driving video",
    ) -> Reenacted:
        """Animate ``source`` with the motion of ``driving``.

        source: ``(H, W, 3)`` uint8 RGB, the face (a crop; the mesh warp also takes a whole photo).
        driving: ``N`` frames ``(h, w, 3)`` uint8 RGB, an ``(N, h, w, 3)`` array or a list.
        initial: the driving frame whose pose the source's corresponds to (relative motion moves
        the source by the driver's motion since that frame): an index, ``"auto"`` for the frame
        whose pose is closest to the source's, or None for the method's default (frame 0; for the
        mesh warp the first frame with a face).
        source_points, driving_points: a warp's points in pixels of the source ``(P, 2+)`` and of
        the driving frames ``(N, P, 2+)``, given instead of found (both or neither); ``driving``
        may then be None (the mesh warp then paints an opening mouth instead of taking the
        driver's).
        fps: the driving video's frame rate (the mesh tracker smooths over time with it).
        source_name, driving_name: what messages call the inputs (file names).
        """
        source = _image(source, source_name)
        frames = None if driving is None else _frames(driving, driving_name)
        if source_points is None and driving_points is None:
            if frames is None:
                raise ValueError(f"{self.name}: give the driving frames (or a warp's points)")
            _check_initial(initial, len(frames), driving_name)
            return self.reenact(source, frames, initial, fps, source_name, driving_name)
        if self.points == "keypoints":
            raise ValueError(f"{self.name} finds its own keypoints: give it no points")
        if source_points is None or driving_points is None:
            raise ValueError(f"{self.name}: give both source_points and driving_points, or neither")
        source_points, driving_points = np.asarray(source_points), np.asarray(driving_points)
        shapes = (source_points.ndim, driving_points.ndim, driving_points.shape[1:2])
        if shapes != (2, 3, (len(source_points),)):
            raise ValueError(
                f"{self.name}: expected source_points (P, 2+) and driving_points (N, P, 2+), "
                f"got {source_points.shape} and {driving_points.shape}"
            )
        if frames is not None and len(frames) != len(driving_points):
            raise ValueError(f"{driving_name}: {len(frames)} frames for {len(driving_points)} sets of points")
        _check_initial(initial, len(driving_points), driving_name)
        initial = self.best_frame(source_points, driving_points) if initial == "auto" else int(initial or 0)
        animated, moved = self.move(source, source_points, driving_points, initial, frames)
        return Reenacted(animated, source_points, driving_points, moved, initial)

    @abstractmethod
    def reenact(
        self,
        source: np.ndarray,
        driving: np.ndarray,
        initial: int | str | None,
        fps: float,
        source_name: str,
        driving_name: str,
    ) -> Reenacted:
        """Find the method's points in ``source`` and every ``driving`` frame, and animate (inputs
        checked; ``initial`` as in :meth:`__call__`)."""

    def move(
        self,
        source: np.ndarray,
        source_points: np.ndarray,
        driving_points: np.ndarray,
        initial: int,
        driving: np.ndarray | None = None,
    ) -> tuple[np.ndarray, np.ndarray]:
        """A warp's animation from given points: ``(frames (N, H, W, 3) uint8, moved points (N, P, 2))``."""
        raise NotImplementedError(f"{self.name} finds its own keypoints")

    def track(self, frames, fps: float = 25.0, name: str = "driving video") -> Tracked:
        """A warp's points in every frame (:class:`~deepfakelab.faces.detection.NoFaceError` if none
        has a face)."""
        raise NotImplementedError(f"{self.name} finds its own keypoints")

    def best_frame(self, source_points: np.ndarray, driving_points: np.ndarray, found=None) -> int:
        """The driving frame (among those ``found`` with a face) whose points are most like the source's."""
        raise NotImplementedError(f"{self.name} finds its own keypoints")


class MeshWarp(Reenactor):
    """The face mesh (468 points) moved by the driver's head pose and expression, the source warped
    piecewise-affine along it (:mod:`.mesh_warp`): it turns the head, blinks and opens the mouth
    (filled with the driver's own teeth and tongue when its frames are given); no trained network.
    Its own points: the source's mesh detected, the driving meshes tracked over the whole driving
    frames (:func:`~.mesh_warp.reenact_photo`)."""

    name = "mesh-warp"
    points = "mesh"
    whole_frames = True
    draw = staticmethod(draw_mesh)

    def __init__(self, face_mesh: FaceMesh | None = None, fill_mouth: bool = True):
        self.face_mesh = face_mesh
        self.fill_mouth = fill_mouth

    def reenact(self, source, driving, initial, fps, source_name, driving_name) -> Reenacted:
        done = reenact_photo(
            source,
            driving,
            fps,
            self.face_mesh,
            name=source_name,
            driving_name=driving_name,
            fill_mouth=self.fill_mouth,
            best_frame=initial,
        )
        return Reenacted(
            done.frames, done.source_points, done.driving_points, done.moved_points, done.initial, done.notes
        )

    def move(self, source, source_points, driving_points, initial, driving=None):
        return mesh_reenact(
            source,
            source_points,
            driving_points,
            initial=initial,
            fill_mouth=self.fill_mouth,
            driving_frames=driving,
        )

    def track(self, frames, fps=25.0, name="driving video") -> Tracked:
        meshes = (self.face_mesh or FaceMesh()).track(frames, fps=fps)
        found = np.array([mesh is not None for mesh in meshes])
        if not found.any():
            raise NoFaceError(f"{name}: no face found in any of its {len(found)} frames")
        notes = (
            []
            if found.all()
            else [
                f"{name}: no face in {int((~found).sum())} of {len(found)} frames; "
                "the mesh was interpolated there"
            ]
        )
        points = fill_missing([mesh.points if mesh is not None else None for mesh in meshes])
        return Tracked(points, found, notes)

    def best_frame(self, source_points, driving_points, found=None) -> int:
        found = np.ones(len(driving_points), bool) if found is None else found
        return best_frame_by_mesh(source_points, driving_points, found)


class LandmarkWarp(Reenactor):
    """MTCNN's five points (eyes, nose, mouth corners) moved by relative motion, the source warped
    along them by a thin-plate spline (:mod:`.landmark_warp`): head motion and coarse expression,
    but five points cannot close an eye or open a mouth. The baseline. ``adapt_movement_scale``
    scales the driver's motion by the ratio of the faces' sizes."""

    name = "landmark-warp"
    points = "landmarks"

    def __init__(self, adapt_movement_scale: bool = True):
        self.adapt_movement_scale = adapt_movement_scale

    def reenact(self, source, driving, initial, fps, source_name, driving_name) -> Reenacted:
        face, note = largest_face(source, source_name)
        tracked = self.track(driving, fps, driving_name)
        if initial == "auto":
            initial = self.best_frame(face.landmarks, tracked.points, tracked.found)
        initial = 0 if initial is None else int(initial)
        frames, moved = self.move(source, face.landmarks, tracked.points, initial)
        notes = ([note] if note else []) + tracked.notes
        return Reenacted(frames, face.landmarks, tracked.points, moved, initial, notes)

    def move(self, source, source_points, driving_points, initial, driving=None):
        return landmark_reenact(source, source_points, driving_points, initial, self.adapt_movement_scale)

    def track(self, frames, fps=25.0, name="driving video") -> Tracked:
        faces = detect_faces_in_frames(list(frames), name=name)
        found = np.array([bool(found) for found in faces])
        if not found.any():
            raise NoFaceError(f"{name}: no face found in any of its {len(found)} frames")
        notes = (
            []
            if found.all()
            else [
                f"{name}: no face in {int((~found).sum())} of {len(found)} frames; "
                "landmarks interpolated there"
            ]
        )
        return Tracked(fill_missing([f[0].landmarks if f else None for f in faces]), found, notes)

    def best_frame(self, source_points, driving_points, found=None) -> int:
        return best_frame_by_landmarks(source_points, driving_points, found)


class FOMM(Reenactor):
    """The First Order Motion Model (:mod:`.fomm`): its keypoint detector finds ten keypoints and
    their local affine maps in the source and in every driving frame, their motion is transferred
    (relative to the initial frame, or absolute) and its generator draws each frame
    (:func:`~.fomm.animate.animate_with_keypoints`). ``model``: a trained
    :class:`~.fomm.model.FirstOrderModel`. The settings are those of
    :func:`~.fomm.animate.animate`; and ``side``: run at this side, the source and the driving
    frames shrunk to it (area) and the frames enlarged back to the source's size (bicubic),
    for a model trained on small frames.
    """

    name = "fomm"
    points = "keypoints"

    def __init__(
        self,
        model: FirstOrderModel,
        relative: bool = True,
        adapt_movement_scale: bool = True,
        batch_size: int = 4,
        progress: bool = False,
        engine: str = "torch",
        transfer: MotionTransfer | None = None,
        side: int | None = None,
    ):
        self.model = model
        self.relative, self.adapt_movement_scale = relative, adapt_movement_scale
        self.batch_size, self.progress, self.engine = batch_size, progress, engine
        self.transfer, self.side = transfer, side

    def reenact(self, source, driving, initial, fps, source_name, driving_name) -> Reenacted:
        height, width = source.shape[:2]
        if self.side is not None:
            side = (self.side, self.side)
            source = cv2.resize(source, side, interpolation=cv2.INTER_AREA)
            driving = np.stack([cv2.resize(f, side, interpolation=cv2.INTER_AREA) for f in driving])
        animation = animate_with_keypoints(
            source,
            driving,
            self.model,
            relative=self.relative,
            adapt_movement_scale=self.adapt_movement_scale,
            best_frame=initial,
            batch_size=self.batch_size,
            progress=self.progress,
            transfer=self.transfer,
            engine=self.engine,
        )
        frames = to_uint8_frames(animation.frames)
        if self.side is not None:
            frames = np.stack([cv2.resize(f, (width, height), interpolation=cv2.INTER_CUBIC) for f in frames])
        scale = np.array([width - 1, height - 1], np.float64)

        def pixels(keypoints):  # [-1, 1] (first and last pixel centres) -> pixels of the frames returned
            return (np.asarray(keypoints.numpy(), np.float64) + 1) / 2 * scale

        return Reenacted(
            frames,
            pixels(animation.kp_source),
            pixels(animation.kp_driving),
            pixels(animation.kp_transferred),
            animation.initial_frame,
        )


#: Each method's class, by name.
REENACTORS: dict[str, type[Reenactor]] = {cls.name: cls for cls in (MeshWarp, LandmarkWarp, FOMM)}


def method_name(name: str | None = None, checkpoint: bool = False) -> str:
    """The method to run, by the rules of ``deepfakelab reenact``: ``name`` (see :data:`METHODS`),
    or by default FOMM when there is a ``checkpoint``, else the mesh warp. A method that cannot use
    what was given is a :class:`~deepfakelab.errors.ConfigError`."""
    method = (name or ("fomm" if checkpoint else "mesh-warp")).replace("_", "-")
    if method not in METHODS:
        raise ConfigError(f"--method {name}: use one of {', '.join(METHODS)}")
    if method == "fomm" and not checkpoint:
        raise ConfigError(
            "--method fomm needs --checkpoint (a FOMM .pth.tar such as vox-cpk.pth.tar; "
            "in Python: reenactor('fomm', checkpoint=...) or model=...)"
        )
    if method != "fomm" and checkpoint:
        raise ConfigError(f"--method {method} uses no checkpoint: drop --checkpoint, or use --method fomm")
    return method


def reenactor(
    name: str | None = None,
    *,
    checkpoint: str | Path | None = None,
    config=None,
    model: FirstOrderModel | None = None,
    **settings,
) -> Reenactor:
    """The method ``name`` (:data:`METHODS`), set up: ``reenactor("mesh-warp")(photo, frames)``.

    ``name`` None: FOMM with a ``checkpoint`` or a ``model``, else the mesh warp. FOMM takes its
    ``model``, or loads ``checkpoint`` (:func:`~.fomm.checkpoint.load_model`, with ``config``).
    ``settings`` are the variants' own (:class:`MeshWarp`: ``face_mesh``, ``fill_mouth``;
    :class:`LandmarkWarp`: ``adapt_movement_scale``; :class:`FOMM`: ``relative``,
    ``adapt_movement_scale``, ``batch_size``, ``progress``, ``engine``, ``transfer``, ``side``);
    those the chosen method has no use for, and a ``model`` given to a warp, are ignored, so one set
    serves every method (the command line's flags, an evaluation's loop over methods). A setting
    no method knows is a TypeError; a checkpoint given to a warp, or FOMM without one, a
    :class:`~deepfakelab.errors.ConfigError` (:func:`method_name`).
    """
    unknown = sorted(set(settings) - _SETTINGS)
    if unknown:
        raise TypeError(
            f"reenactor(): unknown setting(s) {', '.join(unknown)}; known: {', '.join(sorted(_SETTINGS))}"
        )
    if model is not None and checkpoint is None and (name or "fomm").replace("_", "-") == "fomm":
        return FOMM(model, **_own(FOMM, settings))
    method = method_name(name, checkpoint is not None)
    if method == "fomm":
        return FOMM(load_model(checkpoint, config), **_own(FOMM, settings))
    return REENACTORS[method](**_own(REENACTORS[method], settings))


def best_frame_by_landmarks(source_landmarks: np.ndarray, driving_landmarks: np.ndarray, found=None) -> int:
    """The driving frame (among those ``found`` with a face; all by default) whose normalised five
    landmarks (:func:`~deepfakelab.faces.landmarks.normalized_landmarks`) are closest to the source's."""
    reference = normalized_landmarks(source_landmarks)
    found = np.ones(len(driving_landmarks), bool) if found is None else found
    distances = [
        float(((normalized_landmarks(marks) - reference) ** 2).sum()) if has_face else np.inf
        for marks, has_face in zip(driving_landmarks, found)
    ]
    return int(np.argmin(distances))


def _parameters(cls: type[Reenactor]) -> set[str]:
    return set(inspect.signature(cls.__init__).parameters) - {"self", "model"}


_SETTINGS = set().union(*(_parameters(cls) for cls in REENACTORS.values()))


def _own(cls: type[Reenactor], settings: dict) -> dict:
    return {key: value for key, value in settings.items() if key in _parameters(cls)}


def _image(image, name: str) -> np.ndarray:
    image = np.asarray(image)
    check_rgb_image(image, name)
    return image


def _frames(frames, name: str) -> np.ndarray:
    if not isinstance(frames, np.ndarray):
        frames = [np.asarray(frame) for frame in frames]
        if len({frame.shape for frame in frames}) > 1:
            raise ValueError(f"{name}: the driving frames differ in size")
        frames = np.stack(frames) if frames else np.empty((0, 0, 0, 3), np.uint8)
    if len(frames) == 0:
        raise ValueError(f"{name}: no driving frames")
    if frames.ndim != 4 or frames.shape[3] != 3 or frames.dtype != np.uint8:
        raise ValueError(f"{name}: expected (N, H, W, 3) uint8 RGB frames, got {frames.dtype} {frames.shape}")
    return frames


def _check_initial(initial, count: int, name: str) -> None:
    if initial is None or (isinstance(initial, str) and initial == "auto"):
        return
    is_index = isinstance(initial, (int, np.integer)) and not isinstance(initial, bool)
    if not is_index or not 0 <= initial < count:
        raise ValueError(f"initial frame {initial!r}: use None, 'auto' or a frame of {name} (0..{count - 1})")
