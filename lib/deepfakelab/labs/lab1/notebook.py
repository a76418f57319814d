"""What Lab 1's notebook works on, made offline, and the steps its locked cells call.

The lab needs faces it is allowed to fake: source photos with the hard cases the course names
(dark glasses, a diving mask, a covered mouth, an odd expression), "real" talking-head videos to
drive them and to compare the detector against, and a real photo (scikit-image's astronaut) for
the student's own choice. All of them are drawn here from fixed seeds by :mod:`deepfakelab.heads`,
so the notebook, its hidden checks and the tests see the same pixels without downloading
anything, and the grader can recompute what a correct notebook would have produced.

The reenactment uses the kit's small FOMM (:func:`deepfakelab.reenact.fomm.checkpoint.shipped_model`),
which was trained on 64-pixel frames of these heads; :func:`reenact_photo` crops the face the way those
frames are framed, animates it with a motion transfer the caller supplies (the student's), and
pastes the result back into the photo.

These are the lab's default media. An instructor's media pack of real photos and videos, the
student's own additions, and which reenactment animates which photo are
:mod:`.media`'s; the whole lab is mapped in :mod:`deepfakelab.labs.lab1`.
"""

from __future__ import annotations

import base64
import html
import time
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import cv2
import matplotlib.pyplot as plt
import numpy as np
import torch

from ... import faces as face_tools
from ...errors import DataError
from ...faces import crop, largest_face
from ...faces.cropper import margin_box
from ...heads import Identity, motion, render_frame, render_video
from ...heads.state import FaceState
from ...media.photo import astronaut
from ...media.video import Video
from ...media.writer import write_video
from ...reenact.fomm.animate import to_image_tensor
from ...reenact.fomm.checkpoint import SHIPPED_WEIGHTS, shipped_model
from ...reenact.fomm.motion_transfer import transfer_motion
from ...reenact.methods import reenactor
from ...reenact.pipeline import prepare_driving, prepare_source
from .. import expected_time, website

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
            write_video(
                path,
                real_video(name),
                FPS,
                label="real video of a synthetic talking head (deepfakelab.heads)",
            )
        videos[name] = path
    return LabMedia(folder, photos, videos)


def reenact_photo(
    photo: np.ndarray,
    driving: np.ndarray,
    model,
    transfer=None,
    name: str = "photo",
    side: int = MODEL_SIDE,
    crop_scale: float = CROP_SCALE,
):
    """Animate ``photo`` with the motion of ``driving`` frames using the FOMM ``model``.

    The source face and one stable driving box are found with MTCNN and cropped at
    ``crop_scale`` to ``side`` pixels (the small FOMM's :data:`CROP_SCALE` and :data:`MODEL_SIDE`
    by default; a published checkpoint runs at 256 px, see :mod:`.media`); frame 0 of the driving
    video is the initial frame of the relative motion. ``transfer`` (see :func:`deepfakelab.reenact.fomm.animate.animate`)
    replaces the kit's relative motion. Returns ``(crops (N, S, S, 3), pasted (N, H, W, 3))``, both
    uint8: the animated face crops, and the photo with the face (a soft ellipse over MTCNN's face
    box) replaced by theirs, as a face-reenactment deepfake is made.
    """
    source = prepare_source(np.asarray(photo), name, side, crop_scale)
    faces = prepare_driving(Video(np.asarray(driving), FPS), "driving video", side, crop_scale)
    crops = reenactor("fomm", model=model, transfer=transfer)(source.crop, faces.crops, initial=0).frames
    mask = face_tools.face_ellipse(source.face_box, source.box, side)
    pasted = np.stack([face_tools.paste_back(source.photo, crop, source.box, mask=mask) for crop in crops])
    return crops, pasted


def load_model():
    """The kit's trained small FOMM; a clear error when this version ships none."""
    model = shipped_model()
    if model is None:
        raise DataError(
            f"this version of deepfakelab ships no FOMM weights (deepfakelab/{SHIPPED_WEIGHTS}); "
            "Lab 1 needs them: reinstall the kit or ask your instructor"
        )
    return model.eval()


#: Grey level of frame ``i`` of a counter video is ``COUNTER_BASE + COUNTER_STEP * i``.
COUNTER_BASE, COUNTER_STEP = 20, 16


def counter_video(path: str | Path, frames: int = 12) -> Path:
    """A test video whose frame ``i`` is a flat grey of level ``20 + 16 i``: which frame is which
    can be read off the pixels (:func:`counter_value`), whatever the codec does to them."""
    if not 1 <= frames <= (255 - COUNTER_BASE) // COUNTER_STEP + 1:
        raise DataError(
            f"a counter video has 1 to {(255 - COUNTER_BASE) // COUNTER_STEP + 1} frames, not {frames}"
        )
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


# --------------------------------------------------------------------------- what the notebook shows first
#: The synthetic head of the fake the notebook opens with (issue 31: the student watches a finished
#: fake before rebuilding it). Never a real person, whatever media the lab uses; MTCNN finds this face.
REFERENCE_IDENTITY = 8


@dataclass
class ReferenceFake:
    """The fake of Part 0: ``path`` is a side-by-side mp4 (photo | driving video | fake), ``photo``
    the synthetic head animated, ``seconds`` how long the kit took to make it."""

    path: Path
    photo: np.ndarray
    frames: int
    seconds: float


def reference_photo() -> np.ndarray:
    """The synthetic head of Part 0's fake, ``(SIZE, SIZE, 3)`` uint8: no glasses, no mask, a neutral face."""
    return render_frame(Identity.sample(REFERENCE_IDENTITY, accessory_rate=0.0), FaceState(), SIZE).image


def reference_fake(folder: str | Path = "lab1_media", model=None) -> ReferenceFake:
    """Make Part 0's fake in a few seconds: :func:`reference_photo` animated by the kit's small FOMM
    (:func:`load_model`, or ``model``) with the kit's own relative motion and the motion of the
    ``talking`` real video, written as ``folder/reference_fake.mp4`` with the photo and the driving
    video beside it. Always synthetic heads, whether or not the lab has a media pack."""
    started = time.perf_counter()
    model = load_model() if model is None else model
    photo, driving = reference_photo(), real_video(DRIVING)
    _, pasted = reenact_photo(photo, driving, model, None, "reference head")
    frames = [np.concatenate([photo, still, fake], axis=1) for still, fake in zip(driving, pasted)]
    path = write_video(
        Path(folder) / "reference_fake.mp4",
        frames,
        FPS,
        label="synthetic video: a synthetic head reenacted by deepfakelab (Lab 1, part 0)",
    )
    return ReferenceFake(path, photo, len(frames), time.perf_counter() - started)


def video_html(paths, titles=None, width: int = 256):
    """The videos at ``paths``, embedded (base64) in the notebook side by side, looping, with a
    title under each: an :class:`IPython.display.HTML` to display. They play in the notebook
    (JupyterLab, the saved .ipynb) without their files."""
    try:
        from IPython.display import HTML  # optional: IPython is there in a notebook's kernel
    except ImportError:
        raise DataError(
            "video_html makes HTML for a notebook, and IPython is not installed: "
            "pip install 'deepfakelab[lab]'"
        ) from None

    paths = [paths] if isinstance(paths, (str, Path)) else list(paths)
    titles = list(titles) if titles is not None else [Path(p).stem for p in paths]
    items = []
    for path, title in zip(paths, titles):
        data = base64.b64encode(Path(path).read_bytes()).decode("ascii")
        items.append(
            f'<figure style="margin:4px;text-align:center">'
            f'<video width="{width}" controls loop autoplay muted '
            f'playsinline src="data:video/mp4;base64,{data}"></video>'
            f'<figcaption style="font-size:80%">{html.escape(str(title))}</figcaption></figure>'
        )
    return HTML(
        '<div style="display:flex;flex-wrap:wrap;align-items:flex-start">' + "".join(items) + "</div>"
    )


@dataclass
class KeypointMotion:
    """What FOMM's keypoints do for one driving frame ``frame``: the face crops (``source``,
    ``initial`` = driving frame 0, ``driving`` = driving frame ``frame``, each ``(S, S, 3)`` uint8)
    and, in ``[-1, 1]`` coordinates (x, y), the keypoints ``kp_source``, ``kp_initial``,
    ``kp_driving`` ``(K, 2)``, the source's keypoints moved by the kit's relative motion
    ``kp_moved (K, 2)``, and the Jacobians ``jac_source``, ``jac_driving`` ``(K, 2, 2)``."""

    frame: int
    source: np.ndarray
    initial: np.ndarray
    driving: np.ndarray
    kp_source: np.ndarray
    kp_initial: np.ndarray
    kp_driving: np.ndarray
    kp_moved: np.ndarray
    jac_source: np.ndarray
    jac_driving: np.ndarray


def keypoint_motion(
    photo: np.ndarray, driving: np.ndarray, model, frame: int = FRAME_INDEX
) -> KeypointMotion:
    """FOMM's keypoints on the face crops of ``photo`` and of driving frames 0 and ``frame``, and
    where the kit's relative motion moves the source's keypoints (cropped as :func:`reenact_photo` does)."""
    source = prepare_source(np.asarray(photo), "photo", MODEL_SIDE, CROP_SCALE).crop
    crops = prepare_driving(Video(np.asarray(driving), FPS), "driving video", MODEL_SIDE, CROP_SCALE).crops
    with torch.no_grad():
        kp_s = model.kp_detector(to_image_tensor(source))
        kp_d = model.kp_detector(torch.cat([to_image_tensor(crops[0]), to_image_tensor(crops[frame])]))
        kp_0 = type(kp_d)(kp_d.value[:1], kp_d.jacobian[:1] if kp_d.jacobian is not None else None)
        kp_t = type(kp_d)(kp_d.value[1:], kp_d.jacobian[1:] if kp_d.jacobian is not None else None)
        moved = transfer_motion(kp_s, kp_t, kp_0)
    eye = np.broadcast_to(np.eye(2), (kp_s.value.shape[1], 2, 2))

    def jac(kp):
        return kp.jacobian[0].numpy() if kp.jacobian is not None else eye

    return KeypointMotion(
        frame,
        source,
        crops[0],
        crops[frame],
        kp_s.value[0].numpy(),
        kp_0.value[0].numpy(),
        kp_t.value[0].numpy(),
        moved.value[0].numpy(),
        jac(kp_s),
        jac(kp_t),
    )


def show_keypoints(motion: KeypointMotion, magnify: float = 10.0):
    """Three panels: driving frame 0 with its keypoints; driving frame ``motion.frame`` with its
    keypoints and an arrow from where each was in frame 0; the source photo's crop with its
    keypoints, their Jacobians (each keypoint's two axes: how its neighbourhood is stretched and
    turned) and an arrow to where relative motion moves them. The motions are small (a pixel or
    two on a 64-pixel crop), so the arrows are drawn ``magnify`` times longer. Returns the figure.

    (The kit's small FOMM, trained on synthetic heads, put its keypoints close together near the
    middle of the face and moves the face mostly by their Jacobians: the figure shows that too.)"""
    side = motion.source.shape[0]

    def pixels(kp):  # [-1, 1] -> pixels of the crop
        return (np.asarray(kp) + 1) / 2 * (side - 1)

    colours = plt.cm.tab10(np.arange(len(motion.kp_source)) % 10)
    fig, axes = plt.subplots(1, 3, figsize=(10.5, 3.8))
    panels = (
        (motion.initial, motion.kp_initial, None, "driving video, frame 0\n(the initial frame $d_0$)"),
        (
            motion.driving,
            motion.kp_driving,
            motion.kp_initial,
            f"driving video, frame {motion.frame}\narrows: motion since frame 0 (x{magnify:g})",
        ),
        (
            motion.source,
            motion.kp_source,
            None,
            "source photo: its keypoints and Jacobians\n"
            f"arrows: where relative motion moves them (x{magnify:g})",
        ),
    )
    for ax, (image, kp, start, title) in zip(axes, panels):
        ax.imshow(image)
        ax.set_title(title, fontsize=9)
        ax.axis("off")
        points = pixels(kp)
        ax.scatter(points[:, 0], points[:, 1], c=colours, s=28, edgecolors="white", linewidths=0.8, zorder=3)
        if start is not None:
            for begin, end, colour in zip(pixels(start), points, colours):
                _magnified_arrow(ax, begin, end, colour, magnify)
    ax = axes[2]
    points, moved = pixels(motion.kp_source), pixels(motion.kp_moved)
    for (x, y), jacobian, end, colour in zip(points, motion.jac_source, moved, colours):
        for column in np.asarray(jacobian).T:  # the images of the two unit axes, drawn 3 px long
            ax.plot([x, x + 3 * column[0]], [y, y + 3 * column[1]], color=colour, lw=1)
        _magnified_arrow(ax, (x, y), end, colour, magnify)
    fig.tight_layout()
    return fig


def _magnified_arrow(ax, start, end, colour, magnify: float) -> None:
    """An arrow from ``start`` in the direction of ``end`` (pixels), ``magnify`` times as long as the
    motion between them: the keypoints' motions are too small to see at their own length."""
    (x0, y0), (x1, y1) = start, end
    ax.annotate(
        "",
        (x0 + magnify * (x1 - x0), y0 + magnify * (y1 - y0)),
        (x0, y0),
        arrowprops=dict(arrowstyle="->", color=colour, lw=1.5),
    )


# --------------------------------------------------------------------------- expected times
#: Running time of the cells that work (seconds, measured on the kit's 2-core development machine
#: while a detector trained beside it, synthetic heads, not grading), by part: the set-up (writing
#: the media) 6 s, Part 0's fake 4 s, the keypoints 2 s, the four fakes 7 s, the astronaut's 2 s,
#: the frames 10 s, the detector 2 s, Grad-CAM 2 s, the provenance attacks 3 s, the whole notebook
#: 40 s (the hand-in run). A media pack with the published FOMM is far slower: its set-up cell says how slow.
COMPUTE_SECONDS = {"start": 6, "0": 4, "1": 2, "2": 7, "3": 2, "4": 10, "5": 2, "6": 2, "7": 3, "hand in": 40}


def expected_minutes(notebook: str | Path) -> dict[str, int]:
    """Lab 1's expected time per part, in minutes, estimated from the notebook itself by the labs'
    rule (:func:`deepfakelab.labs.expected_time.expected_minutes`: words at 120 a minute, 1 minute
    per line of the solution, 10 minutes per written answer and 15 for a 4-point one, 1 minute per
    code cell, plus :data:`COMPUTE_SECONDS`; each part to the nearest 5 minutes, at least 5). Parts
    are the notebook's ``## N.`` headings; ``"start"`` is the introduction and the set-up cell,
    ``"hand in"`` the final restart-and-run-all. Not a measurement: a count of what each part asks."""
    return expected_time.expected_minutes(notebook, heading=r"## (\d+)\. ", compute_seconds=COMPUTE_SECONDS)


def website_line() -> str:
    """One line for the set-up cell: where the notebook's website links lead
    (:func:`deepfakelab.labs.website.website_line`, as Lab 2's)."""
    return website.website_line()
