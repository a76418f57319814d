"""Crop geometry (30 % margin, square, resize) and MTCNN on the real photos."""

from __future__ import annotations

import numpy as np
import pytest

from deepfakelab.faces import crop, uncrop
from deepfakelab.faces.cropper import FaceCropper, margin_box
from deepfakelab.media import read_image


def test_square_box_has_30_percent_margin_each_side():
    # a 100 x 80 box centred on (150, 140)
    left, top, right, bottom = margin_box((100, 100, 200, 180), (400, 400), margin=0.3)
    assert right - left == bottom - top == 160  # max(100, 80) * 1.6
    assert (left + right) / 2 == 150 and (top + bottom) / 2 == 140


def test_crop_box_near_the_edge_moves_inside_the_frame():
    frame = np.tile(np.arange(100, dtype=np.uint8)[None, :, None], (100, 1, 3))  # value = x
    box = margin_box((-10, 20, 40, 70), frame.shape, margin=0.3)  # a face cut by the left edge
    assert box == (0, 5, 80, 85)
    image = crop(frame, box, size=80)
    assert image.shape == (80, 80, 3) and image[0, :, 0].tolist() == list(range(80))  # no fill, no streak


def test_uncrop_inverts_the_crop_geometry():
    crop_map = np.zeros((32, 32), np.float32)
    crop_map[:16] = 1.0  # top half of the crop
    frame_map = uncrop(crop_map, (20, 10, 84, 74), (100, 120))
    assert frame_map.shape == (100, 120)
    assert frame_map[20, 50] == pytest.approx(1.0) and frame_map[60, 50] == 0.0
    assert frame_map[5, 50] == 0.0 and frame_map[20, 100] == 0.0


@pytest.fixture(scope="module")
def cropper():
    return FaceCropper(size=96)


@pytest.mark.parametrize("name", ["s12.jpg", "d8.jpg", "d19.jpg"])
def test_mtcnn_crops_real_faces(real_data, cropper, name):
    image = read_image(real_data / name)
    crop = cropper.crop(image)
    assert crop is not None and crop.image.shape == (96, 96, 3)
    x0, y0, x1, y1 = crop.box
    left, top, right, bottom = crop.crop_box
    assert right - left == bottom - top
    assert left < x0 < x1 < right and top < y0 < y1 < bottom
    assert crop.confidence > 0.9


def test_no_face_is_reported_as_none(real_data, cropper):
    assert cropper.crop(read_image(real_data / "s33.jpg")) is None  # a dog


def test_batched_detection_finds_what_one_by_one_finds(real_data, cropper):
    """A real video's 18 frames (more than one batch), a photo of another size and a dog in one
    call: the batches split where the size changes, the boxes match frame-by-frame detection,
    the dog has none."""
    from deepfakelab.media import extract_frames

    _, frames = extract_frames(real_data / "retalk_1.mp4", count=20)
    pictures = [frames[i] for i in sorted(frames)][:18] + [
        read_image(real_data / "d8.jpg"),
        read_image(real_data / "s33.jpg"),
    ]
    together = cropper.detect_many(pictures)
    alone = [cropper.detect(p) for p in pictures]
    assert together[-1] is None and alone[-1] is None
    for a, b in zip(alone[:-1], together[:-1]):
        assert a is not None and b is not None
        assert np.abs(np.subtract(a[0], b[0])).max() < 0.05 and abs(a[1] - b[1]) < 1e-4
    crops = cropper.crop_many(pictures)
    assert [c is None for c in crops] == [False] * 19 + [True]
