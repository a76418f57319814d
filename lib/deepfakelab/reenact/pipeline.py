"""From files to a labelled reenactment video: what ``deepfakelab reenact`` runs.

photo + video -> faces found and cropped -> a method -> optional paste-back and side-by-side view
-> mp4 labelled as synthetic, at the driving video's frame rate, every frame, with its audio,
watermarked and signed (:mod:`deepfakelab.provenance`).

The method (:func:`~.methods.reenactor`, one interface for all of them): the FOMM when a
checkpoint is given; otherwise the mesh warp (:mod:`.mesh_warp`, 468 points: moves the head, blinks,
opens the mouth); the 5-point landmark warp (:mod:`.landmark_warp`) stays as a baseline,
``method="landmark-warp"``. The mesh warp tracks its mesh on the driving video's whole frames; the
others are given face crops, found and cropped here with MTCNN (the landmark warp moves the five
landmarks found with them).

Blending: both warps look every output pixel up in the source crop and pin the crop's border, so
the face keeps the photo's own colours and pasting the crop back (``paste_back``) leaves no seam
and no colour step; only the inside of an opening mouth is new: the driving video's own teeth and
tongue, moved into the photo's colour and light (see :mod:`.mesh_warp`). The FOMM's generated
crop is blended with a feathered square.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .. import faces as face_tools
from ..errors import ConfigError
from ..heads.writer import HEADS_LABEL
from ..media.files import VIDEO_OUTPUT_SUFFIXES, check_input_file, check_output_file, is_image_path
from ..media.photo import read_photo
from ..media.video import Video, count_frames, read_header, read_video
from ..media.writer import read_metadata, write_video
from ..provenance.marking import Provenance
from ..threads import torch_threads
from .fomm.checkpoint import SHIPPED_WEIGHTS
from .landmark_warp import fill_missing
from .methods import MeshWarp, Reenacted, Reenactor, best_frame_by_landmarks, method_name, reenactor
from .views import save_strip, side_by_side

WARP_NOTE = (
    "no FOMM checkpoint given: using the training-free mesh warp (468-point face mesh, piecewise-affine), "
    "not the First Order Motion Model; pass --checkpoint vox-cpk.pth.tar for FOMM"
)
LANDMARK_WARP_NOTE = (
    "landmark warp: the 5-point baseline (MTCNN's five points, thin-plate spline), not the First "
    "Order Motion Model; it cannot close an eye or open a mouth (the default mesh warp can)"
)
SMALL_FOMM_WARNING = (
    "the shipped small FOMM ({name}) was trained on synthetic heads only and breaks a real face "
    "into blotches: for a real photo use the default mesh warp (drop --checkpoint) or a published "
    "vox-256 checkpoint (--checkpoint vox-cpk.pth.tar)"
)
#: What a user should know about the method that ran, by its name.
METHOD_NOTES = {"mesh-warp": WARP_NOTE, "landmark-warp": LANDMARK_WARP_NOTE}


@dataclass
class ReenactOptions:
    """Settings of one reenactment; the CLI flags map onto these one to one."""

    checkpoint: Path | None = None
    method: str | None = None  # None: "fomm" with a checkpoint, else "mesh-warp"
    config: str | Path | None = None
    size: int = 256
    relative: bool = True
    adapt_movement_scale: bool = True
    best_frame: int | str | None = None
    paste_back: bool = False
    side_by_side: bool = False
    visible_mark: bool = False
    max_frames: int | None = None
    crop_scale: float = face_tools.DEFAULT_CROP_SCALE
    batch_size: int = 4
    progress: bool = True
    engine: str = "torch"

    def reenactor(self) -> Reenactor:
        """The method these settings name, set up (:func:`~.methods.reenactor`): a FOMM checkpoint
        is loaded here."""
        return reenactor(
            self.method,
            checkpoint=self.checkpoint,
            config=self.config,
            relative=self.relative,
            adapt_movement_scale=self.adapt_movement_scale,
            batch_size=self.batch_size,
            progress=self.progress,
            engine=self.engine,
        )


@dataclass
class SourceFace:
    """The source photo, its face crop ``(S, S, 3)`` uint8, the crop box, landmarks in crop pixels,
    and the detector's face box in photo pixels."""

    photo: np.ndarray
    crop: np.ndarray
    box: np.ndarray
    landmarks: np.ndarray
    notes: list[str] = field(default_factory=list)
    face_box: np.ndarray | None = None
    photo_name: str = "photo"


@dataclass
class DrivingFaces:
    """Driving crops ``(N, S, S, 3)`` from one stable box, landmarks ``(N, 5, 2)`` crop pixels
    (interpolated where no face was found) and which frames had a face."""

    crops: np.ndarray
    box: np.ndarray
    landmarks: np.ndarray
    found: np.ndarray
    notes: list[str] = field(default_factory=list)


@dataclass
class ReenactResult:
    output: Path
    method: str
    frames: int
    fps: float
    initial_frame: int
    strip: Path | None
    notes: list[str]


def prepare_source(photo: np.ndarray, name: str, size: int, crop_scale: float) -> SourceFace:
    """Find the largest face in ``photo (H, W, 3)`` uint8 and crop it square to ``size`` px.

    The crop box is kept inside the photo (:func:`~deepfakelab.faces.crop_box`); where the photo
    is too small to hold it around the whole face, the crop is padded by reflection and a note
    says so.
    """
    face, note = face_tools.largest_face(photo, name)
    notes = [note] if note else []
    box = face_tools.crop_box(face_tools.square_box(face.box, crop_scale), photo.shape, keep=face.box)
    if face_tools.leaves_image(box, photo.shape):
        notes.append(
            f"{name}: the photo is too small around the face for a {crop_scale:g}x crop; "
            "the crop was padded by mirroring the photo at its edges"
        )
    small = face_tools.face_size_note(face.box, name)
    notes += [small] if small else []
    crop = face_tools.crop(photo, box, size)
    landmarks = face_tools.to_crop_coordinates(face.landmarks, box, size)
    return SourceFace(photo, crop, box, landmarks, notes, np.asarray(face.box), name)


def prepare_driving(
    video: Video, name: str, size: int, crop_scale: float, progress: bool = False
) -> DrivingFaces:
    """Crop every frame with one stable box (see :func:`~deepfakelab.faces.stable_box`)."""
    detections = face_tools.detect_faces_in_frames(list(video.frames), progress=progress, name=name)
    shape = video.frames.shape[1:]
    box = face_tools.stable_box(detections, crop_scale, name=name, image_shape=shape)
    crops = np.stack([face_tools.crop(frame, box, size) for frame in video.frames])
    found = np.array([bool(faces) for faces in detections])
    landmarks = fill_missing(
        [face_tools.to_crop_coordinates(f[0].landmarks, box, size) if f else None for f in detections]
    )
    notes = []
    if face_tools.leaves_image(box, shape):
        notes.append(
            f"{name}: the frames are too small around the face for a {crop_scale:g}x crop; "
            "the crops were padded by mirroring the frames at their edges"
        )
    small = face_tools.face_size_note(np.median([f[0].box for f in detections if f], axis=0), name)
    notes += [small] if small else []
    several = sum(len(f) > 1 for f in detections)
    if several:
        notes.append(f"{name}: several faces in {several} of {len(detections)} frames; following the largest")
    if not found.all():
        notes.append(
            f"{name}: no face in {int((~found).sum())} of {len(found)} frames; landmarks interpolated there"
        )
    return DrivingFaces(crops, box, landmarks, found, notes)


def reenact_faces(
    source: SourceFace, driving: DrivingFaces, options: ReenactOptions, method: Reenactor
) -> Reenacted:
    """Animate the source crop with the driving crops by ``method`` (the landmark warp or FOMM).

    The initial frame (``options.best_frame``; ``"auto"``: the frame whose five landmarks are the
    closest to the source's) is chosen here, with the landmarks the faces were cropped with; the
    landmark warp moves those landmarks, FOMM finds its own keypoints.
    """
    if options.best_frame == "auto":
        initial = best_frame_by_landmarks(source.landmarks, driving.landmarks, driving.found)
    elif options.best_frame is None:
        initial = 0
    else:
        initial = int(options.best_frame)
        if not 0 <= initial < len(driving.crops):
            raise ConfigError(
                f"--best-frame {initial}: the driving video has frames 0..{len(driving.crops) - 1}"
            )
    if method.points == "landmarks":
        return method(
            source.crop,
            driving.crops,
            initial=initial,
            source_points=source.landmarks,
            driving_points=driving.landmarks,
        )
    return method(source.crop, driving.crops, initial=initial)


def is_shipped_small_fomm(checkpoint: str | Path) -> bool:
    """Whether ``checkpoint`` is the kit's shipped small FOMM (that file, or a byte-for-byte copy)."""
    shipped = Path(__file__).resolve().parents[1] / SHIPPED_WEIGHTS
    path = Path(checkpoint)
    if not (shipped.is_file() and path.is_file()):
        return False
    if path.resolve() == shipped or path.samefile(shipped):
        return True
    return path.stat().st_size == shipped.stat().st_size and path.read_bytes() == shipped.read_bytes()


def is_synthetic_head(path: str | Path) -> bool:
    """Whether the file carries the label of :mod:`deepfakelab.heads` (its videos do): the one
    source the shipped small FOMM was trained for. Any other photo counts as real."""
    return read_metadata(path).get("comment", "").startswith(HEADS_LABEL)


def small_fomm_warning(source_path: str | Path, options: ReenactOptions) -> str | None:
    """The one-line warning for the shipped small FOMM on a real photo, or None."""
    if (
        options.checkpoint is None
        or not is_shipped_small_fomm(options.checkpoint)
        or is_synthetic_head(source_path)
    ):
        return None
    return SMALL_FOMM_WARNING.format(name=Path(options.checkpoint).name)


def check_inputs(
    source_path: str | Path, driving_path: str | Path, output: str | Path, options: ReenactOptions
) -> tuple[Path, Path, Path]:
    """Every path of a reenactment checked before any work: one clear error per problem.

    The photo and the video must be readable files big enough to hold a face, the output an mp4
    that can be written (its strip ``<output>.png`` goes beside it), the checkpoint a file.
    Reading the driving video's header is quick next to finding faces.
    """
    output = check_output_file(output, VIDEO_OUTPUT_SUFFIXES, "video")
    check_output_file(output.with_suffix(".png"), {".png"}, "strip picture")
    source_path = check_input_file(source_path, "photo")
    driving_path = check_input_file(driving_path, "video")
    if options.checkpoint is not None:
        check_input_file(options.checkpoint, "FOMM checkpoint (.pth.tar)")
    if options.max_frames is not None and options.max_frames < 1:
        raise ConfigError(f"--max-frames {options.max_frames}: use at least 1 frame")
    method_name(options.method, options.checkpoint is not None)
    if is_image_path(driving_path):
        image, _ = read_photo(driving_path)
        height, width = image.shape[:2]
    else:
        width, height = read_header(driving_path)["size"]
    face_tools.check_image_size(width, height, str(driving_path))
    return source_path, driving_path, output


@dataclass
class MeshWarpResult:
    """The mesh warp of a source crop: ``frames (N, S, S, 3)`` uint8, the driving crops ``(N, S, S, 3)``
    (one box from the driving meshes, for the views), and meshes in crop pixels: the source's
    ``(468, 3)``, the driving ones ``(N, 468, 2)``, where the source's points went ``(N, 468, 2)``."""

    frames: np.ndarray
    driving_crops: np.ndarray
    source_points: np.ndarray
    driving_points: np.ndarray
    moved_points: np.ndarray
    initial: int
    notes: list[str]


def mesh_warp_faces(
    source: SourceFace, video: Video, name: str, options: ReenactOptions, method: MeshWarp | None = None
) -> MeshWarpResult:
    """Animate the source crop with the mesh warp (``method``, by default :class:`~.methods.MeshWarp`).

    The driving meshes are tracked on the whole frames (MTCNN only where the face is lost), so no
    per-frame detector runs; the driving crops shown beside the result come from one box around
    every driving mesh, kept inside the frame like the source's.
    """
    if options.best_frame not in (None, "auto") and not 0 <= int(options.best_frame) < len(video.frames):
        raise ConfigError(
            f"--best-frame {options.best_frame}: the driving video has frames 0..{len(video.frames) - 1}"
        )
    done = (method or MeshWarp())(
        source.crop,
        video.frames,
        initial=options.best_frame,
        fps=video.fps,
        source_name=f"{source.photo_name} (face crop)",
        driving_name=name,
    )
    xy = done.driving_points[..., :2]
    extent = np.concatenate([xy.reshape(-1, 2).min(axis=0), xy.reshape(-1, 2).max(axis=0)])
    shape = video.frames.shape[1:]
    box = face_tools.crop_box(face_tools.square_box(extent, options.crop_scale), shape, keep=extent)
    notes = list(done.notes)
    if face_tools.leaves_image(box, shape):
        notes.append(
            f"{name}: the frames are too small around the face for a {options.crop_scale:g}x crop; "
            "the crops were padded by mirroring the frames at their edges"
        )
    faces = np.concatenate([xy.min(axis=1), xy.max(axis=1)], axis=1)  # (N, 4) box of each frame's mesh
    small = face_tools.face_size_note(np.median(faces, axis=0), name)
    notes += [small] if small else []
    crops = np.stack([face_tools.crop(frame, box, options.size) for frame in video.frames])
    driving_points = np.stack([face_tools.to_crop_coordinates(points, box, options.size) for points in xy])
    return MeshWarpResult(
        done.frames, crops, done.source_points, driving_points, done.moved_points, done.initial, notes
    )


def reenact_files(
    source_path: str | Path,
    driving_path: str | Path,
    output: str | Path,
    options: ReenactOptions | None = None,
    announce=None,
) -> ReenactResult:
    """Reenact the face in ``source_path`` with ``driving_path``'s motion; write ``output`` (mp4).

    Also writes ``<output>.png``, a strip of driving frames and results. Returns what was done,
    with notes for the user (conversions, several faces, which method ran, a truncated driving
    video, a small face). Inputs are checked, and the checkpoint loaded, before faces are searched.
    A warning that concerns the whole run (the shipped small FOMM given a real photo) goes to
    ``announce(line)`` before any work when given (the CLI prints it), else to the notes.
    ``ReenactResult.frames`` is the number of frames in the written file, counted by decoding it.
    """
    options = options or ReenactOptions()
    source_path, driving_path, output = check_inputs(source_path, driving_path, output, options)
    provenance = Provenance([source_path, driving_path]).check()  # a bad signing key stops the run here
    notes = _whole_run_warning(source_path, options, announce)
    photo, photo_notes = read_photo(source_path)
    notes += photo_notes
    face_tools.check_image_size(photo.shape[1], photo.shape[0], str(source_path))
    video = read_video(driving_path, max_frames=options.max_frames)
    notes += video.notes
    method = options.reenactor()
    notes += [METHOD_NOTES[method.name]] if method.name in METHOD_NOTES else []

    source = prepare_source(photo, str(source_path), options.size, options.crop_scale)
    notes += source.notes
    done, driving_crops, driving_notes = _animate(method, source, video, str(driving_path), options)
    notes += driving_notes + done.notes
    frames, initial = done.frames, done.initial
    if options.best_frame == "auto":
        notes.append(f"best frame: driving frame {initial} is the closest in pose to the source")

    written = _written_frames(done, source, driving_crops, method, options)
    # a generated video: watermark every frame, sign the file with the inputs' hashes (issue 30)
    write_video(
        output,
        written,
        video.fps,
        audio_from=video.path,
        visible_mark=options.visible_mark,
        provenance=provenance,
    )
    in_file = count_frames(output)
    if in_file != len(written):  # never claim frames the file does not hold
        notes.append(f"{output}: {len(written)} frames were sent to the encoder but the file holds {in_file}")
    strip = save_strip(
        output.with_suffix(".png"),
        source.crop,
        driving_crops,
        frames,
        title=f"Reenactment by {method.name} (synthetic)",
        provenance=provenance.sibling(),
    )
    return ReenactResult(output, method.name, in_file, video.fps, initial, strip, notes)


def _whole_run_warning(source_path: Path, options: ReenactOptions, announce) -> list[str]:
    """The run's first notes: a warning that concerns the whole run (:func:`small_fomm_warning`),
    unless ``announce`` is given, which hears it at once, before any work."""
    warning = small_fomm_warning(source_path, options)
    if warning and announce is not None:
        announce(warning)
    elif warning:
        return [warning]
    return []


def _animate(
    method: Reenactor, source: SourceFace, video: Video, driving_name: str, options: ReenactOptions
) -> tuple[Reenacted | MeshWarpResult, np.ndarray, list[str]]:
    """Animate the source crop with the driving video by ``method``; return its result, the driving
    crops shown beside it, and the notes of finding the driving faces.

    The mesh warp tracks its mesh on the whole driving frames (:func:`mesh_warp_faces`), on one
    torch thread: its network is small, and the decoder and the encoder want the other core (one
    thread is faster, :func:`deepfakelab.threads.torch_threads`). The other methods are given face
    crops, found here with MTCNN, and keep all threads (FOMM's convolutions use them)."""
    if method.whole_frames:
        with torch_threads(1):
            done = mesh_warp_faces(source, video, driving_name, options, method)
        return done, done.driving_crops, []
    driving = prepare_driving(video, driving_name, options.size, options.crop_scale, options.progress)
    return reenact_faces(source, driving, options, method), driving.crops, driving.notes


def _written_frames(
    done: Reenacted | MeshWarpResult,
    source: SourceFace,
    driving_crops: np.ndarray,
    method: Reenactor,
    options: ReenactOptions,
) -> np.ndarray:
    """The frames the output video holds: the animated crops as they are, pasted back into the
    photo (``paste_back``), or beside the driving crops with the meshes drawn (``side_by_side``)."""
    if options.side_by_side:
        return side_by_side(
            source.crop,
            driving_crops,
            done.frames,
            done.source_points,
            done.driving_points,
            done.moved_points,
            method.draw,
        )
    if options.paste_back:
        return np.stack([face_tools.paste_back(source.photo, frame, source.box) for frame in done.frames])
    return done.frames
