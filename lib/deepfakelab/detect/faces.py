"""Face crops for the detector, the DFDC-winner way.

The winning DFDC solution (Seferbekov, 2020) detected faces with MTCNN, grew each box by 30 %
on every side, so that the blending boundary of a face swap (jaw, hairline, cheeks) is inside
the crop, and squared it before resizing to the network's input. A tight box would cut exactly
the region where most manipulations leave their traces.

Geometry (:func:`square_crop_box`, :func:`crop_square`) is plain NumPy so it can be tested
without a face detector; :class:`FaceCropper` adds MTCNN (weights ship inside the
facenet-pytorch wheel: nothing is downloaded).
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

#: Margin added on each side of the detector's box, as a fraction of the box size.
DEFAULT_MARGIN = 0.3


@dataclass
class FaceCrop:
    """One face cut out of one frame.

    ``image`` is ``(size, size, 3)`` uint8 RGB; ``box`` is the detector's ``(x0, y0, x1, y1)``
    in frame pixels; ``crop_box`` is the square region actually cut (may extend past the frame,
    where the crop is black), used to paste maps back onto the frame.
    """

    image: np.ndarray
    box: tuple[float, float, float, float]
    crop_box: tuple[int, int, int, int]
    confidence: float


def square_crop_box(box, margin: float = DEFAULT_MARGIN) -> tuple[int, int, int, int]:
    """Square ``(x0, y0, x1, y1)`` centred on ``box``, ``margin`` of its size added on each side.

    The side is ``max(w, h) * (1 + 2 * margin)``, rounded to whole pixels; it is not clipped
    to the frame (see :func:`crop_square`).
    """
    x0, y0, x1, y1 = (float(v) for v in box)
    if x1 <= x0 or y1 <= y0:
        raise ValueError(f"degenerate face box {box}")
    side = max(x1 - x0, y1 - y0) * (1.0 + 2.0 * margin)
    cx, cy = (x0 + x1) / 2.0, (y0 + y1) / 2.0
    left, top = int(round(cx - side / 2.0)), int(round(cy - side / 2.0))
    side_px = int(round(side))
    return left, top, left + side_px, top + side_px


def crop_square(frame: np.ndarray, crop_box, size: int) -> np.ndarray:
    """Cut ``crop_box`` out of ``frame`` (``(H, W, C)``), black where it leaves the frame, resize to ``size``."""
    left, top, right, bottom = crop_box
    h, w = frame.shape[:2]
    canvas = np.zeros((bottom - top, right - left) + frame.shape[2:], frame.dtype)
    sx0, sy0, sx1, sy1 = max(left, 0), max(top, 0), min(right, w), min(bottom, h)
    if sx1 > sx0 and sy1 > sy0:
        canvas[sy0 - top:sy1 - top, sx0 - left:sx1 - left] = frame[sy0:sy1, sx0:sx1]
    interp = cv2.INTER_AREA if canvas.shape[0] > size else cv2.INTER_LINEAR
    return cv2.resize(canvas, (size, size), interpolation=interp)


def paste_back(frame_shape, crop_box, crop_map: np.ndarray) -> np.ndarray:
    """Put a ``(s, s)`` float map of a crop back into frame coordinates: ``(H, W)``, 0 outside the crop."""
    left, top, right, bottom = crop_box
    h, w = frame_shape[:2]
    resized = cv2.resize(crop_map.astype(np.float32), (right - left, bottom - top),
                         interpolation=cv2.INTER_LINEAR)
    out = np.zeros((h, w), np.float32)
    sx0, sy0, sx1, sy1 = max(left, 0), max(top, 0), min(right, w), min(bottom, h)
    if sx1 > sx0 and sy1 > sy0:
        out[sy0:sy1, sx0:sx1] = resized[sy0 - top:sy1 - top, sx0 - left:sx1 - left]
    return out


class FaceCropper:
    """MTCNN face detection plus the 30 %-margin square crop.

    Frames are shrunk so their longer side is at most ``detect_side`` pixels before detection,
    and faces narrower than ``min_face`` of that side are not searched for (MTCNN's cost is
    its image pyramid: fewer pixels and fewer small scales). A face filling a tenth of a talking
    head video's side is still found; boxes are scaled back to the frame. The most confident
    face is kept.
    """

    def __init__(self, size: int = 128, margin: float = DEFAULT_MARGIN, detect_side: int = 256,
                 min_face: float = 0.12, min_confidence: float = 0.9, device: str = "cpu"):
        from facenet_pytorch import MTCNN

        self.size, self.margin, self.detect_side = size, margin, detect_side
        self.min_confidence = min_confidence
        self._mtcnn = MTCNN(keep_all=False, select_largest=False, post_process=False, device=device,
                            min_face_size=max(12, int(min_face * detect_side)))

    def detect(self, frame: np.ndarray) -> tuple[tuple[float, float, float, float], float] | None:
        """Best face box ``(x0, y0, x1, y1)`` in frame pixels and its confidence, or ``None``.

        A frame smaller than the smallest face searched for has no face: MTCNN's image pyramid
        would be empty there (facenet-pytorch then fails in ``torch.cat``), so it is not run.
        """
        scale = min(1.0, self.detect_side / max(frame.shape[:2]))
        small = frame if scale == 1.0 else cv2.resize(
            frame, (max(1, round(frame.shape[1] * scale)), max(1, round(frame.shape[0] * scale))),
            interpolation=cv2.INTER_AREA)
        if min(small.shape[:2]) < self._mtcnn.min_face_size:
            return None
        boxes, probs = self._mtcnn.detect(np.ascontiguousarray(small))
        if boxes is None or probs[0] is None or probs[0] < self.min_confidence:
            return None
        return tuple(float(v) / scale for v in boxes[0]), float(probs[0])

    def crop(self, frame: np.ndarray) -> FaceCrop | None:
        """The face crop of ``frame`` (``(H, W, 3)`` uint8 RGB), or ``None`` when no face is found."""
        found = self.detect(frame)
        if found is None:
            return None
        box, confidence = found
        crop_box = square_crop_box(box, self.margin)
        return FaceCrop(crop_square(frame, crop_box, self.size), box, crop_box, confidence)
