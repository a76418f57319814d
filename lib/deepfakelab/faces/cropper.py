"""Face crops for the detector, the DFDC-winner way.

The winning DFDC solution (Seferbekov, 2020) detected faces with MTCNN, grew each box by 30 %
on every side, so that the blending boundary of a face swap (jaw, hairline, cheeks) is inside
the crop, and squared it before resizing to the network's input. A tight box would cut exactly
the region where most manipulations leave their traces. The geometry is :mod:`.boxes`' (one crop
and one paste-back for the whole kit); this module adds the margin and a faster MTCNN setting.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import groupby
from typing import Sequence

import numpy as np

from .boxes import crop, crop_box, square_box
from .detection import check_image_size, mtcnn, shrunk

#: Margin added on each side of the detector's box, as a fraction of the box size.
DEFAULT_MARGIN = 0.3
#: Frames MTCNN searches at once in :meth:`FaceCropper.detect_many`: twice :data:`.detection.DETECT_BATCH`,
#: whose frames may be 1600 px, since these are shrunk to ``detect_side`` first (16 ran the whole
#: ``detect`` path 10-15 % faster than 8 on 2 cores).
CROP_BATCH = 16


@dataclass
class FaceCrop:
    """One face cut out of one frame.

    ``image`` is ``(size, size, 3)`` uint8 RGB; ``box`` is the detector's ``(x0, y0, x1, y1)``
    in frame pixels; ``crop_box`` is the square region actually cut (whole pixels, inside the
    frame unless the frame is too small for it), used to paste maps back onto the frame.
    """

    image: np.ndarray
    box: tuple[float, float, float, float]
    crop_box: tuple[int, int, int, int]
    confidence: float


def margin_box(face_box, image_shape, margin: float = DEFAULT_MARGIN) -> tuple[int, int, int, int]:
    """The detector's crop box: square, ``margin`` of the face's size added on each side, in the image."""
    box = crop_box(square_box(face_box, 1.0 + 2.0 * margin), image_shape, keep=face_box)
    return tuple(int(v) for v in box)


class FaceCropper:
    """MTCNN face detection plus the 30 %-margin square crop.

    Frames are shrunk so their longer side is at most ``detect_side`` pixels before detection,
    and faces narrower than ``min_face`` of that side are not searched for (MTCNN's cost is
    its image pyramid: fewer pixels and fewer small scales). A face filling a tenth of a talking
    head video's side is still found; boxes are scaled back to the frame. The most confident
    face is kept.
    """

    def __init__(
        self,
        size: int = 128,
        margin: float = DEFAULT_MARGIN,
        detect_side: int = 256,
        min_face: float = 0.12,
        min_confidence: float = 0.9,
        device: str = "cpu",
    ):
        self.size, self.margin, self.detect_side = size, margin, detect_side
        self.min_confidence = min_confidence
        self._mtcnn = mtcnn(
            keep_all=False,
            device=device,
            min_face_size=max(12, int(min_face * detect_side)),
            select_largest=False,
        )

    def detect(
        self, frame: np.ndarray, name: str = "frame"
    ) -> tuple[tuple[float, float, float, float], float] | None:
        """Best face box ``(x0, y0, x1, y1)`` in frame pixels and its confidence, or ``None``."""
        return self.detect_many([frame], name)[0]

    def detect_many(
        self, frames: Sequence[np.ndarray], name: str = "video"
    ) -> list[tuple[tuple[float, float, float, float], float] | None]:
        """:meth:`detect` for each frame, with runs of same-size frames (a video's) passed to MTCNN
        :data:`CROP_BATCH` at a time: its pyramid of small convolutions costs about half as much per
        frame on a CPU as one frame at a time, and the boxes agree to 1e-4 px."""
        found: list = []
        for (height, width), run in groupby(frames, key=lambda frame: frame.shape[:2]):
            check_image_size(width, height, name)
            scale = min(1.0, self.detect_side / max(height, width))
            run = list(run)
            for start in range(0, len(run), CROP_BATCH):
                batch = shrunk(np.stack(run[start : start + CROP_BATCH]), scale)
                if min(batch.shape[1:3]) < self._mtcnn.min_face_size:  # a thin strip after shrinking
                    found += [None] * len(batch)
                    continue
                for boxes, probs in zip(*self._mtcnn.detect(batch)):
                    confident = boxes is not None and probs[0] is not None and probs[0] >= self.min_confidence
                    found.append(
                        (tuple(float(v) / scale for v in boxes[0]), float(probs[0])) if confident else None
                    )
        return found

    def crop(self, frame: np.ndarray, name: str = "frame") -> FaceCrop | None:
        """The face crop of ``frame`` (``(H, W, 3)`` uint8 RGB), or ``None`` when no face is found."""
        return self.crop_many([frame], name)[0]

    def crop_many(self, frames: Sequence[np.ndarray], name: str = "video") -> list[FaceCrop | None]:
        """:meth:`crop` for each frame, detected in batches (:meth:`detect_many`)."""
        crops: list[FaceCrop | None] = []
        for frame, found in zip(frames, self.detect_many(frames, name)):
            if found is None:
                crops.append(None)
                continue
            box, confidence = found
            box_in_frame = margin_box(box, frame.shape, self.margin)
            crops.append(FaceCrop(crop(frame, box_in_frame, self.size), box, box_in_frame, confidence))
        return crops
