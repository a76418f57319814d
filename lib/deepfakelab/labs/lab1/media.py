"""Which photos and videos Lab 1 works on, and which reenactment animates each photo.

Three cases, decided once from what the lab is given (:func:`choose_reenactment`):

- **A media pack with a published checkpoint** (``vox-cpk.pth.tar`` named in ``lab1.yaml``):
  every photo is animated by FOMM vox-256 at 256 px, with the student's motion transfer. It is
  slow on a CPU (about 1 frame/s), so the notebook measures this machine first and says how long.
- **A media pack without one**: the photos are real people, whom the kit's small FOMM (trained
  on synthetic heads) cannot animate; the training-free mesh warp
  (:func:`deepfakelab.reenact.mesh_warp.reenact_photo`) does, with the same idea of relative motion
  on 468 face-mesh points.
- **No pack** (the default, offline): today's synthetic heads from :mod:`.notebook`,
  animated by the kit's small FOMM; a real photo of the student's own goes through the mesh warp.

Where the pack is read from is what keeps grading honest: a student's notebook reads the copy
the release put beside it (``media/lab1.yaml``, :func:`resolve_media`); the hidden checks read
the course's own copy (:func:`course_media`), so a student who edits their copy gets fakes the
checks do not recompute. The student may add their own photos and one video of their own
(:func:`add_own`): one more source each and one more real video, so no check counts videos.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field, replace
from functools import lru_cache
from pathlib import Path

import cv2
import numpy as np

from . import notebook as lab1
from ...course.layout import open_course
from ...errors import DataError
from ...faces import largest_face
from ...faces.detection import DEFAULT_CROP_SCALE
from ...media import iter_frames, probe_video, read_photo
from ...media.phone import fit_video
from ...media.photo import astronaut
from ...reenact.fomm.animate import animate
from ...reenact.fomm.checkpoint import load_model
from ...reenact.methods import Reenacted, reenactor
from .media_pack import ASSIGNMENT, MANIFEST, RELEASE_FOLDER, load_pack

#: The three reenactments (see the module docstring).
FOMM_PUBLISHED, MESH_WARP, FOMM_SMALL = "fomm-vox-256", "mesh-warp", "fomm-small"
#: Side of the published FOMM's frames, and its face crop (the published demo's framing).
PUBLISHED_SIDE = 256
PUBLISHED_CROP_SCALE = DEFAULT_CROP_SCALE
#: Names the student's own media get: ``my_photo``, ``my_photo_2``, ... and the real video ``my_video``.
OWN_PHOTO, OWN_VIDEO = "my_photo", "my_video"
#: A real video is scored at frames up to max(SCORE_INDICES), so it needs one more.
MIN_VIDEO_FRAMES = max(lab1.SCORE_INDICES) + 1


@dataclass(frozen=True)
class Lab1Media:
    """What the lab works on: the hard-case ``photos`` and the real ``videos`` (name -> file), which
    video drives the fakes, the published ``checkpoint`` if any, the ``pack`` folder (``None``: the
    synthetic media of :mod:`.notebook`) and the student's ``own`` photos (name -> file)."""

    photos: dict[str, Path]
    videos: dict[str, Path]
    driving: str
    checkpoint: Path | None = None
    pack: Path | None = None
    own: dict[str, Path] = field(default_factory=dict)

    @property
    def synthetic(self) -> bool:
        return self.pack is None

    @property
    def driving_video(self) -> Path:
        return self.videos[self.driving]

    @property
    def sources(self) -> dict[str, Path]:
        """Every photo the lab fakes: the hard cases, then the student's own."""
        return {**self.photos, **self.own}

    @property
    def fps(self) -> float:
        return lab1.FPS if self.synthetic else probe_video(self.driving_video).fps

    def photo(self, name: str) -> np.ndarray:
        """Source photo ``name`` as ``(H, W, 3)`` uint8 RGB (a synthetic hard case is drawn, not read)."""
        if self.synthetic and name in lab1.HARD_CASES:
            return lab1.source_photo(name)
        if name not in self.sources:
            raise DataError(f"no lab photo {name!r}; the photos are {', '.join(self.sources)}")
        return read_photo(self.sources[name])[0]

    def driving_frames(self) -> np.ndarray:
        """The first :data:`lab1.DRIVING_FRAMES` frames of the driving video, ``(N, H, W, 3)`` uint8."""
        if self.synthetic:
            return lab1.real_video(lab1.DRIVING)
        frames = [frame for _, frame in iter_frames(self.driving_video, set(range(lab1.DRIVING_FRAMES)))]
        if len(frames) < lab1.DRIVING_FRAMES:
            raise DataError(
                f"{self.driving_video}: {len(frames)} frames; the driving video needs {lab1.DRIVING_FRAMES}"
            )
        return np.stack(frames)

    def face_box(self, name: str) -> tuple[float, float, float, float] | None:
        """MTCNN's face box in hard-case photo ``name`` (where its fake carries the face), else None."""
        if name not in self.photos:
            return None
        if self.synthetic:
            return lab1.source_face_box(name)
        return _face_box(str(self.photos[name]))


@lru_cache(maxsize=None)
def _face_box(path: str) -> tuple[float, float, float, float]:
    face, _ = largest_face(read_photo(path)[0], path)
    return tuple(float(v) for v in face.box)


def from_pack(folder: str | Path) -> Lab1Media:
    """The media a pack folder describes (its manifest's problems are one :class:`DataError`)."""
    pack = load_pack(folder)
    return Lab1Media(dict(pack.photos), dict(pack.videos), pack.driving, pack.checkpoint, pack.folder)


def synthetic_media(folder: str | Path = "lab1_media") -> Lab1Media:
    """The synthetic media as :func:`.notebook.write_media` lays them out in ``folder`` (nothing written)."""
    folder = Path(folder)
    return Lab1Media(
        {name: folder / f"{name}.png" for name in lab1.HARD_CASES},
        {name: folder / f"{name}.mp4" for name in lab1.REAL_VIDEOS},
        lab1.DRIVING,
    )


def resolve_media(notebook_folder: str | Path = ".", scratch: str = "lab1_media") -> Lab1Media:
    """The media of the notebook in ``notebook_folder``: the pack the release put beside it
    (``media/lab1.yaml``) when there is one, else the synthetic media, written into ``scratch``.

    Either way ``scratch/astronaut.png`` (public domain) is written, the default own photo.
    """
    base = Path(notebook_folder)
    folder = base / scratch
    folder.mkdir(parents=True, exist_ok=True)
    if not (folder / "astronaut.png").is_file():
        cv2.imwrite(str(folder / "astronaut.png"), astronaut()[..., ::-1])
    if (base / RELEASE_FOLDER / MANIFEST).is_file():
        return from_pack(base / RELEASE_FOLDER)
    written = lab1.write_media(folder)
    return Lab1Media(
        {name: written.photos[name] for name in lab1.HARD_CASES}, dict(written.videos), lab1.DRIVING
    )


def course_media(course_root: str | Path | None) -> Lab1Media:
    """The media the hidden checks grade against: the course's own pack (``Course.media``), never
    the student's copy; the synthetic media when the course has none (or no course is named)."""
    if course_root is not None and (Path(course_root) / "nbgrader_config.py").is_file():
        folder = open_course(course_root).media(ASSIGNMENT)
        if (folder / MANIFEST).is_file():
            return from_pack(folder)
    return synthetic_media()


def add_own(
    media: Lab1Media, photos=(), video=None, folder: str | Path = "lab1_media"
) -> tuple[Lab1Media, list[str]]:
    """``media`` with the student's own ``photos`` (paths; named ``my_photo``, ``my_photo_2``, ...)
    as more sources and ``video`` (a phone or webcam clip, or None) as one more real video.

    The video is written upright, at most 640 px and 30 fps, into ``folder/my_video.mp4``
    (:func:`deepfakelab.media.phone.fit_video`); returns the new media and one note per change.
    """
    own, notes = {}, []
    for number, path in enumerate(photos, start=1):
        path = Path(path)
        read_photo(path)  # a missing or unreadable photo is a clear error now, not in the reenactment
        own[OWN_PHOTO if number == 1 else f"{OWN_PHOTO}_{number}"] = path
    videos = dict(media.videos)
    if video is not None:
        fitted = fit_video(video, Path(folder) / f"{OWN_VIDEO}.mp4")
        notes.append(fitted.note)
        if fitted.frames < MIN_VIDEO_FRAMES:
            raise DataError(
                f"{video}: {fitted.frames} frames; the lab scores frames up to {max(lab1.SCORE_INDICES)}, "
                f"so a video needs at least {MIN_VIDEO_FRAMES} (about {MIN_VIDEO_FRAMES / fitted.fps:.1f} s)"
            )
        videos[OWN_VIDEO] = fitted.path
    return replace(media, own={**media.own, **own}, videos=videos), notes


@dataclass(frozen=True)
class Reenactment:
    """How photo ``name`` is animated (one of :data:`FOMM_PUBLISHED`, :data:`MESH_WARP`, :data:`FOMM_SMALL`) and why."""

    name: str
    method: str
    reason: str


def choose_reenactment(media: Lab1Media, name: str) -> Reenactment:
    """The reenactment of source ``name`` (see the module docstring for the three cases)."""
    if media.checkpoint is not None:
        return Reenactment(
            name,
            FOMM_PUBLISHED,
            f"the media pack has a published FOMM checkpoint "
            f"({media.checkpoint.name}): FOMM vox-256 at {PUBLISHED_SIDE} px",
        )
    if media.synthetic and name in lab1.HARD_CASES:
        return Reenactment(
            name,
            FOMM_SMALL,
            "a synthetic head: the kit's small FOMM, trained on 64-pixel frames of such heads",
        )
    return Reenactment(
        name,
        MESH_WARP,
        "a real photo and no published FOMM checkpoint: the training-free mesh "
        "warp (468-point face mesh); the kit's small FOMM only knows synthetic heads",
    )


def load_fomm(media: Lab1Media):
    """The FOMM this media needs: the pack's checkpoint, else the kit's small one (None if only the mesh warp runs)."""
    if media.checkpoint is not None:
        return load_model(media.checkpoint)
    if media.synthetic:
        return lab1.load_model()
    return None


def measured_speed(model, frames: int = 2) -> float:
    """Frames per second of ``model`` animating :data:`PUBLISHED_SIDE`-pixel frames on this machine
    (after one warm-up frame): what the notebook multiplies into an expected time."""
    rng = np.random.default_rng(0)
    source = rng.integers(0, 256, (PUBLISHED_SIDE, PUBLISHED_SIDE, 3), dtype=np.uint8)
    driving = rng.integers(0, 256, (frames + 1, PUBLISHED_SIDE, PUBLISHED_SIDE, 3), dtype=np.uint8)
    animate(source, driving[:1], model, best_frame=0, progress=False)
    start = time.perf_counter()
    animate(source, driving[1:], model, best_frame=0, progress=False)
    return frames / (time.perf_counter() - start)


@dataclass
class Fake:
    """A reenacted photo: ``motion`` is what the checks compare -- FOMM's animated face crops
    ``(N, S, S, 3)`` uint8, or for the mesh warp where the source's mesh points went ``(N, 468, 2)``
    float32 pixels -- and ``frames (N, H, W, 3)`` uint8 the photo with the animated face; ``mesh``
    is the mesh warp's whole result (its source and driving meshes), None for FOMM."""

    name: str
    method: str
    motion: np.ndarray
    frames: np.ndarray
    mesh: Reenacted | None = None


def reenact(media: Lab1Media, name: str, driving: np.ndarray, model=None, transfer=None) -> Fake:
    """Animate source ``name`` of ``media`` with the ``driving`` frames, as :func:`choose_reenactment` says.

    ``model`` is :func:`load_fomm`'s (unused by the mesh warp); ``transfer`` replaces FOMM's
    relative motion (the student's, see :func:`deepfakelab.reenact.fomm.animate.animate`).
    """
    method = choose_reenactment(media, name).method
    photo = media.photo(name)
    if method == MESH_WARP:
        result = reenactor("mesh-warp")(
            photo, driving, fps=media.fps, source_name=name, driving_name=media.driving
        )
        return Fake(name, method, result.moved_points.astype(np.float32), result.frames, result)
    if model is None:
        raise DataError(f"{name}: {method} needs a FOMM model (lab1_media.load_fomm)")
    if method == FOMM_SMALL:
        crops, pasted = lab1.reenact_photo(photo, driving, model, transfer, name)
    else:
        crops, pasted = lab1.reenact_photo(
            photo, driving, model, transfer, name, PUBLISHED_SIDE, PUBLISHED_CROP_SCALE
        )
    return Fake(name, method, crops, pasted)
