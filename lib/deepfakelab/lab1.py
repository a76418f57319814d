"""What Lab 1's notebook works on, made offline, and the steps its locked cells call.

The lab needs faces it is allowed to fake: source photos with the hard cases the course names
(dark glasses, a diving mask, a covered mouth, an odd expression), "real" talking-head videos to
drive them and to compare the detector against, and a real photo (scikit-image's astronaut) for
the student's own choice. All of them are drawn here from fixed seeds by :mod:`deepfakelab.heads`,
so the notebook, its hidden checks and the tests see the same pixels without downloading
anything, and the grader can recompute what a correct notebook would have produced.

The reenactment uses the kit's small FOMM (:func:`deepfakelab.reenact.checkpoint.shipped_model`), which
was trained on 64-pixel frames of these heads; :func:`reenact_photo` crops the face the way those
frames are framed, animates it with a motion transfer the caller supplies (the student's), and
pastes the result back into the photo.

These are the lab's default media. An instructor's media pack of real photos and videos, the
student's own additions, and which reenactment animates which photo are
:mod:`deepfakelab.lab1_media`'s.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import cv2
import numpy as np

from . import faces as face_tools
from .errors import DataError
from .faces import crop, largest_face
from .faces.cropper import margin_box
from .heads import Identity, motion, render_frame, render_video
from .heads.state import FaceState
from .media.photo import astronaut
from .media.video import Video
from .media.writer import write_video
from .reenact.animate import animate, to_uint8_frames
from .reenact.checkpoint import SHIPPED_WEIGHTS, shipped_model
from .reenact.pipeline import prepare_driving, prepare_source

#: Side of the lab's photos and videos, their frame rate and the length of the driving videos.
SIZE = 256
FPS = 25.0
DRIVING_FRAMES = 50
#: The small FOMM's input side, and the face crop that matches its training frames (a head fills
#: the same share of a 64-pixel training frame as of the crop MTCNN's box times this scale).
MODEL_SIDE = 64
CROP_SCALE = 2.0

#: The hard sources: name -> (identity seed, accessory, expression and pose). The seeds are ones
#: whose face MTCNN finds (it misses many diving masks: the lab's text says so).
HARD_CASES: dict[str, tuple[int, str, dict]] = {
    "dark_glasses": (21, "dark", {}),
    "diving_mask": (24, "diving_mask", {}),
    "covered_mouth": (22, "scarf", {}),
    "odd_expression": (23, "none", {"mouth_open": 1.0, "brow_raise": 1.0, "roll": 14.0, "gaze_x": 0.8}),
}

#: The real videos: name -> (identity seed, motion script, motion seed). ``talking`` (speech, small
#: head motion: what a face-reenactment deepfake usually borrows) drives the reenactments; all of
#: them are the detector's real examples.
REAL_VIDEOS: dict[str, tuple[int, str, int]] = {
    "talking": (7, "talk", 3),
    "nodding": (31, "nod", 5),
    "surprised": (32, "surprise", 6),
}
DRIVING = "talking"

#: The frames taken out of every video and scored (no frame 0, so that an off-by-one answer still
#: finds frames and only the checks about frame numbers fail), and the one shown side by side.
SCORE_INDICES = (3, 9, 15, 21, 27, 33, 39, 45)
FRAME_INDEX = 21


@dataclass(frozen=True)
class LabMedia:
    """Paths of the files :func:`write_media` made: photos (PNG) and videos (mp4)."""

    folder: Path
    photos: dict[str, Path]
    videos: dict[str, Path]

    @property
    def driving(self) -> Path:
        return self.videos[DRIVING]


def source_photo(name: str) -> np.ndarray:
    """The hard-case photo ``name`` (one of :data:`HARD_CASES`), ``(SIZE, SIZE, 3)`` uint8 RGB."""
    if name not in HARD_CASES:
        raise DataError(f"no lab photo {name!r}; choose one of {', '.join(HARD_CASES)}")
    seed, accessory, state = HARD_CASES[name]
    identity = Identity.sample(seed).wearing(accessory)
    return render_frame(identity, FaceState(**state), SIZE).image


def real_video(name: str, frames: int = DRIVING_FRAMES) -> np.ndarray:
    """The real talking-head video ``name`` (one of :data:`REAL_VIDEOS`), ``(frames, SIZE, SIZE, 3)`` uint8."""
    if name not in REAL_VIDEOS:
        raise DataError(f"no lab video {name!r}; choose one of {', '.join(REAL_VIDEOS)}")
    seed, script, motion_seed = REAL_VIDEOS[name]
    states = motion.script(script, frames, FPS, seed=motion_seed)
    rendered = render_video(Identity.sample(seed, accessory_rate=0.0), states, SIZE, None, FPS)
    return np.stack([f.image for f in rendered])


def write_media(folder: str | Path = "lab1_media") -> LabMedia:
    """Write the lab's photos (PNG) and real videos (mp4) into ``folder``; reuse files already there."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    photos = {}
    for name in [*HARD_CASES, "astronaut"]:
        path = folder / f"{name}.png"
        if not path.is_file():
            image = astronaut() if name == "astronaut" else source_photo(name)
            cv2.imwrite(str(path), image[..., ::-1])
        photos[name] = path
    videos = {}
    for name in REAL_VIDEOS:
        path = folder / f"{name}.mp4"
        if not path.is_file():
            write_video(path, real_video(name), FPS, label="real video of a synthetic talking head (deepfakelab.heads)")
        videos[name] = path
    return LabMedia(folder, photos, videos)


def reenact_photo(photo: np.ndarray, driving: np.ndarray, model, transfer=None, name: str = "photo",
                  side: int = MODEL_SIDE, crop_scale: float = CROP_SCALE):
    """Animate ``photo`` with the motion of ``driving`` frames using the FOMM ``model``.

    The source face and one stable driving box are found with MTCNN and cropped at
    ``crop_scale`` to ``side`` pixels (the small FOMM's :data:`CROP_SCALE` and :data:`MODEL_SIDE`
    by default; a published checkpoint runs at 256 px, see :mod:`deepfakelab.lab1_media`); frame 0 of the driving video is the initial
    frame of the relative motion. ``transfer`` (see :func:`deepfakelab.reenact.animate.animate`)
    replaces the kit's relative motion. Returns ``(crops (N, S, S, 3), pasted (N, H, W, 3))``, both
    uint8: the animated face crops, and the photo with the face (a soft ellipse over MTCNN's face
    box) replaced by theirs, as a face-reenactment deepfake is made.
    """
    source = prepare_source(np.asarray(photo), name, side, crop_scale)
    faces = prepare_driving(Video(np.asarray(driving), FPS), "driving video", side, crop_scale)
    frames = animate(source.crop, faces.crops, model, best_frame=0, progress=False, transfer=transfer)
    crops = to_uint8_frames(frames)
    mask = face_tools.face_ellipse(source.face_box, source.box, side)
    pasted = np.stack([face_tools.paste_back(source.photo, crop, source.box, mask=mask) for crop in crops])
    return crops, pasted


def load_model():
    """The kit's trained small FOMM; a clear error when this version ships none."""
    model = shipped_model()
    if model is None:
        raise DataError(f"this version of deepfakelab ships no FOMM weights (deepfakelab/{SHIPPED_WEIGHTS}); "
                        "Lab 1 needs them: reinstall the kit or ask your instructor")
    return model.eval()


#: Grey level of frame ``i`` of a counter video is ``COUNTER_BASE + COUNTER_STEP * i``.
COUNTER_BASE, COUNTER_STEP = 20, 16


def counter_video(path: str | Path, frames: int = 12) -> Path:
    """A test video whose frame ``i`` is a flat grey of level ``20 + 16 i``: which frame is which
    can be read off the pixels (:func:`counter_value`), whatever the codec does to them."""
    if not 1 <= frames <= (255 - COUNTER_BASE) // COUNTER_STEP + 1:
        raise DataError(f"a counter video has 1 to {(255 - COUNTER_BASE) // COUNTER_STEP + 1} frames, not {frames}")
    images = [np.full((64, 64, 3), COUNTER_BASE + COUNTER_STEP * i, np.uint8) for i in range(frames)]
    return write_video(path, images, FPS, label="test pattern: frame i has grey level 20 + 16 i")


def counter_value(frame: np.ndarray) -> int:
    """Which frame of a :func:`counter_video` ``frame`` is."""
    return int(round((float(np.asarray(frame).mean()) - COUNTER_BASE) / COUNTER_STEP))


@lru_cache(maxsize=None)
def source_face_box(name: str) -> tuple[float, float, float, float]:
    """MTCNN's box of the face in the hard-case photo ``name``: where its fakes carry their face."""
    face, _ = largest_face(source_photo(name), name)
    return tuple(float(v) for v in face.box)


def detector_crop(cropper, frame: np.ndarray, pasted_box=None) -> tuple[np.ndarray | None, str]:
    """The detector's face crop of ``frame``, and how the face was found.

    MTCNN first (``cropper``, a :class:`deepfakelab.faces.cropper.FaceCropper`), as for any video.
    The small FOMM's faces are often too blurry for MTCNN -- a tell in itself -- so for the fakes
    of the hard cases the crop falls back to ``pasted_box``, where their face was pasted (the face
    box in the source photo, which this lab knows because it made them: ``Lab1Media.face_box``).
    Returns ``(crop or None, "mtcnn" | "pasted face box" | "no face")``.
    """
    face = cropper.crop(frame)
    if face is not None:
        return face.image, "mtcnn"
    if pasted_box is not None:
        box = margin_box(pasted_box, frame.shape, cropper.margin)
        return crop(frame, box, cropper.size), "pasted face box"
    return None, "no face"
