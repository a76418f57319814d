"""A face set from a user's labelled videos: ``real/`` and ``fake/`` folders, FaceForensics++-like.

No fakes are made here: the fakes are the user's. Frames are cropped as the deployed detector
crops them (MTCNN, :class:`~deepfakelab.faces.cropper.FaceCropper`); change masks are unknown.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from tqdm.auto import tqdm

from ..errors import DataError, DeepfakeLabError
from ..faces.cropper import FaceCropper
from ..media.frames import extract_frames
from ..runtime import resolve_device
from .faceset import FaceSet


def build_from_folders(
    videos_dir: str | Path, out: str | Path, frames_per_video: int = 32, size: int = 128, device: str = "auto"
) -> Path:
    """A face set from ``videos_dir/real/*`` and ``videos_dir/fake/*`` (FaceForensics++-like).

    ``frames_per_video`` evenly spread frames of each video are cropped with MTCNN; frames
    without a face and unreadable videos are listed, not fatal. Masks are unknown (``has_mask``
    False). The split key is the video's name up to the first ``_`` (FF++ names fakes
    ``000_003.mp4`` after their target ``000.mp4``), so a fake and its source stay together.
    """
    videos_dir = Path(videos_dir)
    found = {
        label: sorted(p for p in (videos_dir / label).glob("*") if p.is_file()) for label in ("real", "fake")
    }
    if not found["real"] or not found["fake"]:
        raise DataError(f"{videos_dir}: expected sub-folders real/ and fake/, each with videos")
    cropper = FaceCropper(size=size, device=str(resolve_device(device)))
    images, labels, kinds, videos, groups, sources, problems = [], [], [], [], [], [], []
    jobs = [(label, path) for label in ("real", "fake") for path in found[label]]
    for label, path in tqdm(jobs, desc="videos", unit="video"):
        try:
            _, frames = extract_frames(path, count=frames_per_video)
            order = sorted(frames)
            crops = cropper.crop_many([frames[i] for i in order], str(path))  # a picture too small: one line
        except DeepfakeLabError as exc:
            problems.append(str(exc))
            continue
        missing = 0
        for index, crop in zip(order, crops):
            if crop is None:
                missing += 1
                continue
            images.append(crop.image)
            labels.append(int(label == "fake"))
            kinds.append(label)
            videos.append(f"{label}/{path.name}")
            groups.append(path.stem.split("_")[0])
            sources.append(f"{label}/{path.name}#{index}")
        if missing:
            problems.append(f"{path}: no face in {missing} of {len(frames)} frames")
    for line in problems:
        print(f"warning: {line}")
    if not images:
        raise DataError(f"{videos_dir}: no face crops could be made")
    n = len(images)
    return FaceSet(
        np.stack(images),
        np.array(labels, np.int64),
        np.zeros((n, size, size), np.uint8),
        np.zeros(n, bool),
        np.array(kinds),
        np.array(videos),
        np.array(groups),
        np.array(sources),
    ).save(out)
