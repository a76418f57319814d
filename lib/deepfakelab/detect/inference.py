"""From a video file to per-frame fake probabilities and maps: the detector as a student uses it.

Data flows one way: video -> frames (:mod:`deepfakelab.media`) -> face crops
(:mod:`deepfakelab.faces`) -> scores and maps (:mod:`.explain`). Frames without a face and videos that cannot be read are recorded in the
result, never dropped silently, so the report can list them.

Beside the scores, each input's provenance marks are read (:func:`check_provenance`, the check of
``deepfakelab verify``): a fake the kit made says so in its pixels and its metadata, and that is
certain where the detector's probability is a guess.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from torch import nn

from ..errors import DataError, DeepfakeLabError
from ..provenance.verify import verify_file
from .explain import DEFAULT_METHOD, fake_maps
from .domain import has_stats, unlike_training
from ..faces.cropper import FaceCrop, FaceCropper
from .model import DetectorConfig, build_detector, to_tensor
from ..faces.detection import check_image_size
from ..media.frames import extract_frames
from ..media.video import VideoInfo, probe_video, short_video_note

#: Where the shipped weights live inside the package: the real-face MobileNetV2 (the default)
#: and kitnet, the small network trained on synthetic heads only that students retrain.
WEIGHTS_DIR = Path(__file__).resolve().parent / "weights"
DEFAULT_WEIGHTS = WEIGHTS_DIR / "detector.pt"
KITNET_WEIGHTS = WEIGHTS_DIR / "kitnet.pt"
TRAIN_HINT = "deepfakelab detect-train --out runs/detector (the course website's Lab 1 page, 'The commands behind the lab')"


def load_detector(
    path: str | Path | None = None, device: str | torch.device = "cpu"
) -> tuple[nn.Module, DetectorConfig]:
    """The trained network (eval mode, float32) and its config, from ``path`` or the shipped weights."""
    path = Path(path) if path else DEFAULT_WEIGHTS
    if not path.is_file():
        if path == DEFAULT_WEIGHTS:
            raise DataError(f"no detector weights shipped yet ({path} is missing): train with {TRAIN_HINT}")
        raise DataError(f"{path}: no such weights file")
    try:
        saved = torch.load(path, map_location="cpu", weights_only=True)
        config = DetectorConfig(**saved["config"])
        model = build_detector(config)
        model.load_state_dict({k: v.float() for k, v in saved["state_dict"].items()})
    except (KeyError, RuntimeError, TypeError, OSError) as exc:
        raise DataError(f"{path}: not a deepfakelab detector checkpoint ({exc})") from exc
    return model.to(device).eval(), config


@dataclass
class DetectorCard:
    """Who gives the verdict: ``name``, one line on its training data, and the statistics that
    tell an input unlike that data (:func:`.domain_stats.domain_stats`; None for weights made before
    they were stored: then every input counts as possibly unlike the training data)."""

    name: str
    trained_on: str
    domain: dict | None = None


def read_card(path: str | Path | None = None) -> DetectorCard:
    """The :class:`DetectorCard` of a weights file (default: the shipped detector)."""
    path = Path(path) if path else DEFAULT_WEIGHTS
    saved = torch.load(path, map_location="cpu", weights_only=True)
    info, arch = saved.get("info", {}), saved["config"].get("arch", "kitnet")
    domain = info.get("domain") or {}
    name = info.get("name") or f"{arch} ({path.name})"
    trained_on = (
        domain.get("trained_on") or info.get("trained_on") or "unknown data (no description in the weights)"
    )
    return DetectorCard(name, trained_on, domain if has_stats(domain) else None)


@dataclass
class FrameResult:
    """One scored frame. ``p_fake`` in [0, 1]; ``maps`` name -> ``(S, S)`` map of the crop in [0, 1]."""

    index: int
    p_fake: float
    crop: FaceCrop
    maps: dict[str, np.ndarray] = field(default_factory=dict)


@dataclass
class VideoResult:
    """Everything the report shows about one input, including what went wrong with it."""

    path: str
    fps: float = 0.0
    frame_count: int = 0
    frames: list[FrameResult] = field(default_factory=list)
    no_face: list[int] = field(default_factory=list)
    error: str | None = None
    notes: list[str] = field(default_factory=list)
    frame_images: dict[int, np.ndarray] = field(default_factory=dict)
    #: whether the scored faces look unlike the detector's training data (None: not known)
    unlike_training: bool | None = None
    #: their median feature distance to the training data (see :mod:`.domain`), or None
    domain_distance: float | None = None
    #: the file's provenance marks (:func:`check_provenance`); None when they were not looked for
    provenance: dict | None = None

    @property
    def p_fake(self) -> float | None:
        """The video's score: mean of its frames' probabilities (None when no frame was scored)."""
        return float(np.mean([f.p_fake for f in self.frames])) if self.frames else None


def check_provenance(path: str | Path) -> dict:
    """What ``path`` says about where it came from: ``{"c2pa": "valid"|"invalid"|"none",
    "watermark": bool, "payload": {...} or None, ...}``, from :func:`deepfakelab.provenance.verify.verify_file`.

    Reused, not redone, so that ``detect`` and ``verify`` can never disagree about a file. Cheap
    beside the detector: it decodes at most 24 frames and needs no face, so it also answers for an
    input the detector could not score (a picture without a face, one too small for one); a file it
    cannot read has ``error`` set.
    """
    report = verify_file(path)
    return {
        "c2pa": report.c2pa,
        "watermark": report.watermark,
        "payload": report.payload,
        "c2pa_trusted": report.c2pa_trusted,
        "c2pa_generator": report.c2pa_generator,
        "note": report.note,
        "error": report.error,
    }


def check_input(video: str | Path) -> VideoInfo:
    """Probe one input of the detector: a readable video or image with room for a face, or a
    :class:`~deepfakelab.errors.DataError` that names it."""
    info = probe_video(video)
    check_image_size(info.width, info.height, str(video))
    return info


class DeepfakeDetector:
    """Face cropper + detector network + CAM methods, used frame by frame."""

    def __init__(
        self,
        weights: str | Path | None = None,
        methods=(DEFAULT_METHOD,),
        device: str = "cpu",
        detect_side: int = 256,
    ):
        self.model, self.config = load_detector(weights, device)
        self.card = read_card(weights)
        self.device = device
        self.methods = tuple(methods)
        self.cropper = FaceCropper(size=self.config.size, detect_side=detect_side, device=device)

    def score_crops(self, crops: list[np.ndarray]) -> tuple[np.ndarray, dict[str, np.ndarray]]:
        """``crops``: list of ``(S, S, 3)`` uint8. Returns ``p_fake (N,)`` and ``{method: (N, S, S)}``."""
        inputs = to_tensor(crops).to(self.device)
        maps, p_fake = {}, None
        for method in self.methods:
            maps[method], p = fake_maps(self.model, inputs, method)
            p_fake = p if p_fake is None else p_fake
        if p_fake is None:
            with torch.no_grad():
                p_fake = torch.softmax(self.model(inputs), 1)[:, 1].cpu().numpy()
        return p_fake, maps

    def analyse(
        self,
        video: str | Path,
        count: int | None = 16,
        indices=None,
        keep_frames: bool = True,
        batch: int = 16,
        info: VideoInfo | None = None,
        provenance: bool = True,
    ) -> VideoResult:
        """Score ``count`` evenly spread frames (or the given ``indices``) of one video or image.

        A video shorter than ``count`` is scored on all its frames, with a note. Errors about this
        input (unreadable, too small for a face, index past the end) are stored in
        ``VideoResult.error`` instead of raised, so one bad file does not stop a report of four.
        ``info`` is the input's :func:`~deepfakelab.media.probe_video`, when the caller has it.
        ``provenance`` reads the file's provenance marks too (:func:`check_provenance`), before
        the detector's checks, so an input it cannot score still gets them.
        """
        result = VideoResult(str(video), provenance=check_provenance(video) if provenance else None)
        try:
            info = info or check_input(video)
            short = short_video_note(info)
            result.notes += [short] if short else []
            if indices is None:
                if count > info.frame_count:
                    if info.fps > 0:  # a still image is one frame by nature: nothing to say
                        result.notes.append(
                            f"{video}: has only {info.frame_count} frames; scoring all of them "
                            f"instead of {count}"
                        )
                    count = info.frame_count
            info, frames = extract_frames(video, indices=indices, count=None if indices else count, info=info)
        except DeepfakeLabError as exc:
            result.error = str(exc)
            return result
        result.fps, result.frame_count = info.fps, info.frame_count
        pending: list[tuple[int, FaceCrop]] = []
        order = sorted(frames)
        for index, crop in zip(order, self.cropper.crop_many([frames[i] for i in order], str(video))):
            if crop is None:
                result.no_face.append(index)
                continue
            pending.append((index, crop))
            if keep_frames:
                result.frame_images[index] = frames[index]
        if pending and self.card.domain is not None:
            sample = [c.image for _, c in pending[:: max(1, len(pending) // batch)]][:batch]
            result.unlike_training, result.domain_distance = unlike_training(
                self.model, to_tensor(sample).to(self.device), self.card.domain
            )
        for start in range(0, len(pending), batch):
            chunk = pending[start : start + batch]
            p_fake, maps = self.score_crops([c.image for _, c in chunk])
            for j, (index, crop) in enumerate(chunk):
                result.frames.append(
                    FrameResult(index, float(p_fake[j]), crop, {m: maps[m][j] for m in maps})
                )
        return result
