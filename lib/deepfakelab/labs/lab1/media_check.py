"""Is a Lab 1 media pack fit for a term? Every problem, one line each, naming the file.

An instructor builds a pack weeks before the lab; a dog photo, a clip one second long or a
truncated checkpoint should be found then, not by sixty students on the day. The checks follow
what the notebook does with each file (:mod:`.notebook`):

- a **photo** is a reenactment source: it must be readable and hold exactly one clear face
  (MTCNN, as the reenactment's cropper finds it), big enough to crop;
- a **video** is a real example for the detector and may drive the reenactments: the lab
  scores frames :data:`~.notebook.SCORE_INDICES` of it, so it needs that many frames and a face
  MTCNN finds in every one of them (the detector's cropper, as the notebook uses it); the driving
  video also needs the :data:`~.notebook.DRIVING_FRAMES` the fakes are made of. Its frame rate
  and size must be ones the lab can decode in class time;
- a **checkpoint** must load into the kit's FOMM (:func:`deepfakelab.reenact.fomm.checkpoint.load_model`).
"""

from __future__ import annotations

from pathlib import Path

from . import notebook as lab1
from ...errors import DataError
from ...faces.cropper import FaceCropper
from ...faces.detection import detect_faces
from ...media.photo import read_photo
from ...media.video import iter_frames, probe_video
from ...reenact.fomm.checkpoint import load_model
from .media_pack import MediaPack, MediaPackError, read_manifest

#: The smallest face (MTCNN box width, pixels) a photo may hold: the reenactment crops about
#: twice the face and resizes it to the model's side, so smaller faces are mostly upsampled blur.
MIN_FACE_PIXELS = 64
#: Frames per second a pack video may have: slower is a slideshow, faster (60 fps phone clips)
#: doubles the decoding for the same seconds of speech (fit it first: :mod:`deepfakelab.media.phone`).
FPS_RANGE = (10.0, 60.0)
#: Video sides, pixels: the shorter one at least (the detector crops 128-pixel faces), the longer
#: at most (a 4K clip takes minutes to decode in the notebook).
MIN_VIDEO_SIDE = 128
MAX_VIDEO_SIDE = 1920


def frames_needed(driving: bool) -> int:
    """How many frames a pack video must have: the scored frames, and the fakes' length if it drives."""
    needed = max(lab1.SCORE_INDICES) + 1
    return max(needed, lab1.DRIVING_FRAMES) if driving else needed


def check_pack(folder: str | Path) -> tuple[MediaPack | None, list[str]]:
    """Validate the pack in ``folder``: ``(pack or None, problems)``; no problems means ready."""
    pack, problems = read_manifest(folder)
    if pack is None:
        return None, problems
    for path in pack.photos.values():
        problems += check_photo(path)
    cropper = FaceCropper()
    for name, path in pack.videos.items():
        problems += check_video(path, driving=name == pack.driving, cropper=cropper)
    if pack.checkpoint is not None:
        problems += check_checkpoint(pack.checkpoint)
    return pack, [" ".join(problem.split()) for problem in problems]  # one line each, whatever a library said


def checked_pack(folder: str | Path) -> MediaPack:
    """The pack in ``folder`` if it passes :func:`check_pack`; :class:`MediaPackError` listing its problems."""
    pack, problems = check_pack(folder)
    if len(problems) == 1:  # one line, naming the file: "PATH: problem"
        raise MediaPackError(f"{problems[0]}; nothing was released")
    if problems:
        raise MediaPackError(
            f"the media pack {folder} has {len(problems)} problem(s); nothing was released:\n"
            + "\n".join(problems)
        )
    return pack


def _missing(path: Path, kind: str) -> list[str]:
    if path.is_symlink() and not path.exists():
        return [f"{path}: broken link (points at {path.readlink()}, which does not exist)"]
    if not path.is_file():
        return [f"{path}: no such file (the manifest names it as a {kind})"]
    return []


def check_photo(path: Path) -> list[str]:
    """Problems of one hard-case photo: unreadable, no face, several faces, a face too small."""
    if missing := _missing(path, "photo"):
        return missing
    try:
        image, _ = read_photo(path)
    except DataError as exc:
        return [str(exc)]
    faces = detect_faces(image)
    if not faces:
        return [f"{path}: no face found; a hard-case photo needs one clearly visible human face"]
    if len(faces) > 1:
        return [
            f"{path}: {len(faces)} faces found; a hard-case photo needs exactly one (crop the others out)"
        ]
    width = faces[0].box[2] - faces[0].box[0]
    if width < MIN_FACE_PIXELS:
        return [
            f"{path}: the face is only {width:.0f} pixels wide; use a photo where it is at least "
            f"{MIN_FACE_PIXELS} (a larger or closer photo)"
        ]
    return []


def check_video(path: Path, driving: bool = False, cropper=None) -> list[str]:
    """Problems of one real video: unreadable, too short, odd frame rate or size, no face in scored frames."""
    if missing := _missing(path, "video"):
        return missing
    try:
        info = probe_video(path)
    except DataError as exc:
        return [str(exc)]
    problems = []
    needed = frames_needed(driving)
    if info.frame_count < needed:
        role = f"it drives the reenactments ({lab1.DRIVING_FRAMES} frames) and " if driving else ""
        problems.append(
            f"{path}: {info.frame_count} frames; {role}Lab 1 scores frames up to "
            f"{max(lab1.SCORE_INDICES)}, so it needs at least {needed}"
        )
    low, high = FPS_RANGE
    if not low <= info.fps <= high:
        problems.append(
            f"{path}: {info.fps:g} frames per second; Lab 1 expects {low:g} to {high:g} "
            "(fit it with `deepfakelab fit-video`)"
        )
    short, long = sorted((info.width, info.height))
    if short < MIN_VIDEO_SIDE:
        problems.append(
            f"{path}: {info.width}x{info.height} pixels; the shorter side must be at least {MIN_VIDEO_SIDE}"
        )
    if long > MAX_VIDEO_SIDE:
        problems.append(
            f"{path}: {info.width}x{info.height} pixels; the longer side must be at most "
            f"{MAX_VIDEO_SIDE} (fit it with `deepfakelab fit-video`)"
        )
    if info.frame_count < needed or cropper is None:
        return problems
    try:
        scored = list(iter_frames(path, set(lab1.SCORE_INDICES)))
        found = cropper.detect_many([frame for _, frame in scored], str(path))
        missed = [index for (index, _), box in zip(scored, found) if box is None]
    except DataError as exc:
        return problems + [str(exc)]
    if missed:
        problems.append(
            f"{path}: no face found in frame(s) {', '.join(map(str, missed))} of the frames Lab 1 "
            f"scores ({', '.join(map(str, lab1.SCORE_INDICES))}); use a clip where the face stays in view"
        )
    return problems


def check_checkpoint(path: Path) -> list[str]:
    """Problems of the checkpoint: missing, unreadable, or weights that do not fit the kit's FOMM."""
    if missing := _missing(path, "checkpoint"):
        return missing
    try:
        load_model(path)
    except DataError as exc:
        return [str(exc)]
    return []
